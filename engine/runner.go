package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"werk/config"
)

// Default limits of a step, as in wercker.
const (
	DefaultNoResponseTimeout = 5 * time.Minute
	DefaultCommandTimeout    = 25 * time.Minute
)

// cleanupTimeout bounds the removal of a run's containers, network and volume.
const cleanupTimeout = 30 * time.Second

// Options configure one run.
type Options struct {
	// Command is "build", "dev" or "deploy"; it sets BUILD/CI or DEPLOY.
	Command      string
	ProjectDir   string
	WorkingDir   string
	File         *config.File
	Pipeline     *config.Pipeline
	DeployTarget string

	Pull          PullPolicy
	ExposePorts   bool
	Publish       []string
	EnableVolumes bool
	NoRemove      bool
	// DirectMount bind-mounts the project instead of copying it (dev).
	DirectMount bool
	// NoPush makes push steps tag images without pushing them.
	NoPush bool

	// HostEnv is the host environment (see HostEnv).
	HostEnv  map[string]string
	Timeouts Timeouts
	RunID    string

	// Debug selects the pauses of step-by-step debugging.
	Debug DebugOptions
	// Terminals opens terminals for internal/shell and debug shells; nil
	// when werk has no terminal.
	Terminals TerminalHost
}

// Runner runs one pipeline. Create it with NewRunner, call Run once, and call
// Interrupt from any goroutine to stop it.
type Runner struct {
	opts   Options
	docker *Docker
	bus    *Bus
	steps  []Step
	after  []Step

	info           RunInfo
	env            *Env
	res            resources
	box            *Box
	networkName    string
	boxName        string
	basePath       string
	sourceDir      string
	cacheDir       string
	publishedSpecs []string

	mu          sync.Mutex
	interrupts  int
	cancelRun   context.CancelCauseFunc
	cancelStep  context.CancelCauseFunc
	currentStep Step
	killed      chan struct{}

	debug debugState
}

// NewRunner prepares a run of steps and after-steps.
func NewRunner(d *Docker, bus *Bus, opts Options, steps, after []Step) *Runner {
	id := opts.RunID
	if id == "" {
		id = newRunID()
	}
	basePath := "/pipeline/source"
	if opts.Pipeline.BasePath != "" {
		basePath = opts.Pipeline.BasePath
	}
	sourceDir := basePath
	if opts.File != nil && opts.File.SourceDir != "" {
		sourceDir = guestJoin(basePath, opts.File.SourceDir)
	}
	r := &Runner{
		opts:      opts,
		docker:    d,
		bus:       bus,
		steps:     steps,
		after:     after,
		boxName:   "werk-" + id + "-box",
		basePath:  basePath,
		sourceDir: sourceDir,
		cacheDir:  filepath.Join(opts.WorkingDir, "cache"),
		killed:    make(chan struct{}),
	}
	r.info = RunInfo{
		ID:         id,
		Command:    opts.Command,
		Pipeline:   opts.Pipeline.Name,
		ProjectDir: opts.ProjectDir,
		WorkingDir: opts.WorkingDir,
		Local:      opts.Pull == PullNever,
		NoPush:     opts.NoPush,
		Docker:     d,
		Terminals:  opts.Terminals,
	}
	r.debug.stepping.Store(opts.Debug.Step)
	if opts.File != nil {
		r.info.ConfigPath = opts.File.Path
	}
	return r
}

// Info returns the run's description.
func (r *Runner) Info() *RunInfo { return &r.info }

// Box returns the box once it runs, else nil.
func (r *Runner) Box() *Box {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.box
}

func newRunID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (r *Runner) publish(e Event) { r.bus.Publish(e) }

func (r *Runner) notice(level NoticeLevel, text string) {
	r.publish(Notice{Level: level, Text: text, Time: time.Now()})
}

// Interrupt requests that the run stop. The first call ends a UserStoppable step
// (the pipeline goes on), or else stops the running step and skips the rest;
// a later call kills at once. It returns true when it forced a kill.
func (r *Runner) Interrupt() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.interrupts++
	if r.interrupts == 1 {
		if us, ok := r.currentStep.(UserStoppable); ok && us.StopsOnInterrupt() && r.cancelStep != nil {
			r.cancelStep(ErrStoppedByUser)
			// The next interrupt stops the run as usual, not at once.
			r.interrupts = 0
			return false
		}
		if r.cancelRun != nil {
			r.cancelRun(ErrInterrupted)
		}
		r.notice(NoticeWarn, "interrupted: stopping the running step and removing the run's containers (interrupt again to kill at once)")
		return false
	}
	select {
	case <-r.killed:
	default:
		close(r.killed)
		if r.cancelRun != nil {
			r.cancelRun(ErrInterrupted)
		}
	}
	return true
}

// Run executes the pipeline and returns its outcome, also published as
// RunFinished. It always removes what it created unless NoRemove is set.
func (r *Runner) Run(parent context.Context) RunFinished {
	start := time.Now()
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	r.mu.Lock()
	r.cancelRun = cancel
	r.mu.Unlock()

	r.publish(RunStarted{
		RunID:      r.info.ID,
		Command:    r.opts.Command,
		Pipeline:   r.opts.Pipeline.Name,
		Box:        r.opts.Pipeline.Box.Image(),
		Services:   serviceAliases(r.opts.Pipeline),
		Steps:      infos(r.steps),
		AfterSteps: infos(r.after),
		Time:       start,
	})

	result := r.run(ctx)
	result.Kept = r.cleanup()
	result.Duration = time.Since(start)
	result.Time = time.Now()
	r.publish(result)
	return result
}

func (r *Runner) run(ctx context.Context) RunFinished {
	if err := r.setup(ctx); err != nil {
		if errors.Is(context.Cause(ctx), ErrInterrupted) {
			return RunFinished{Result: ResultInterrupted, ExitCode: 130, Err: ErrInterrupted}
		}
		return RunFinished{Result: ResultFailed, ExitCode: 1, Err: err}
	}

	failed, failMsg, failErr := r.runPhase(ctx, PhaseMain, r.steps, nil)
	if errors.Is(context.Cause(ctx), ErrInterrupted) {
		r.skipAll(PhaseAfter, r.after, 0)
		return RunFinished{Result: ResultInterrupted, ExitCode: 130, Err: ErrInterrupted}
	}
	if len(r.after) > 0 {
		r.runAfterSteps(ctx, failed, failMsg)
	}
	if errors.Is(context.Cause(ctx), ErrInterrupted) {
		return RunFinished{Result: ResultInterrupted, ExitCode: 130, Err: ErrInterrupted}
	}
	if failed != nil {
		return RunFinished{Result: ResultFailed, ExitCode: 1, Err: fmt.Errorf("step %q failed: %w", failed.Name, failErr)}
	}
	return RunFinished{Result: ResultPassed, ExitCode: 0}
}

// setup prepares images, network, services and the box.
func (r *Runner) setup(ctx context.Context) error {
	// The sweep of dead runs touches nothing this run needs, so it runs
	// while the run sets up.
	swept := make(chan struct{})
	defer func() { <-swept }()
	go func() {
		defer close(swept)
		if removed, err := r.docker.SweepDeadRuns(ctx); err != nil {
			slog.Warn("sweeping dead runs", "err", err)
		} else if len(removed) > 0 {
			r.notice(NoticeInfo, "removed what earlier, killed werk runs left: "+strings.Join(removed, ", "))
		}
	}()

	env, err := r.pipelineEnv()
	if err != nil {
		return err
	}
	r.env = env
	r.bus.Redactor().Add(env.Secrets()...)
	r.bus.Redactor().Add(r.secretOptions()...)

	box := r.opts.Pipeline.Box
	if err := r.ensureImage(ctx, env.Expand(box.Image()), box); err != nil {
		return err
	}
	if err := os.MkdirAll(r.cacheDir, 0o755); err != nil {
		return fmt.Errorf("creating the cache directory: %w", err)
	}
	// A network of its own costs a create and a remove on every run. The box
	// needs one only to reach services by alias, or to hand it to the
	// pipeline's own containers (docker: true).
	if len(r.opts.Pipeline.Services) > 0 || r.opts.Pipeline.Docker {
		if err := r.createNetwork(ctx); err != nil {
			return err
		}
	}
	links, err := r.startServices(ctx)
	if err != nil {
		return err
	}
	if err := r.createBox(ctx, links); err != nil {
		return err
	}
	// In copy mode the source archive carries /pipeline/output too, which
	// saves a copy call.
	if r.opts.DirectMount {
		if err := r.createOutputDir(ctx); err != nil {
			return err
		}
	} else if err := r.copySource(ctx); err != nil {
		return err
	}
	if err := r.docker.API.ContainerStart(ctx, r.box.ID, containerStartOptions()); err != nil {
		err = portError(ctx, r.docker, fmt.Errorf("starting the box container: %w", err))
		if r.opts.Pipeline.Docker && strings.Contains(err.Error(), "not permitted") {
			err = fmt.Errorf("%w\n%s: the pipeline sets docker: true, which runs the box privileged, and this engine "+
				"does not allow privileged containers; remove docker: true or use an engine that allows them", err, r.opts.Pipeline.Pos)
		}
		return err
	}
	r.mu.Lock()
	r.box.setSessionEnv(r.env.List())
	r.mu.Unlock()
	r.announcePorts(ctx)
	return nil
}

func (r *Runner) ensureImage(ctx context.Context, ref string, b *config.Box) error {
	start := time.Now()
	auth := RegistryAuth{Username: r.env.Expand(b.Username), Password: r.env.Expand(b.Password), Registry: r.env.Expand(b.Registry)}
	r.bus.Redactor().Add(auth.Password)
	r.publish(SetupProgress{Phase: "image", Detail: ref, Time: start})
	err := r.docker.EnsureImage(ctx, ref, r.opts.Pull, auth, func(line string) {
		r.notice(NoticeInfo, "pull "+ref+": "+line)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", b.Pos, err)
	}
	r.publish(SetupProgress{Phase: "image", Detail: ref, Done: true, Duration: time.Since(start), Time: time.Now()})
	return nil
}

// runPhase runs steps in order and stops at the first failure. It returns
// the failed step, its message and error, or nils when all passed.
func (r *Runner) runPhase(ctx context.Context, phase Phase, steps []Step, env []string) (*StepRef, string, error) {
	for i, step := range steps {
		ref := StepRef{Phase: phase, Index: i, Name: step.Info().Name}
		if ctx.Err() != nil {
			r.skipAll(phase, steps, i)
			return nil, "", nil
		}
		status, code, msg, err := r.runStepDebug(ctx, ref, step)
		if status == StepFailed {
			r.skipAll(phase, steps, i+1)
			return &ref, msg, withCode(err, code)
		}
		if status == StepInterrupted {
			r.skipAll(phase, steps, i+1)
			return nil, "", nil
		}
	}
	return nil, "", nil
}

func withCode(err error, code int) error {
	if err == nil {
		return &StepError{Code: code}
	}
	return err
}

func (r *Runner) skipAll(phase Phase, steps []Step, from int) {
	for i := from; i < len(steps); i++ {
		r.publish(StepFinished{Step: StepRef{Phase: phase, Index: i, Name: steps[i].Info().Name}, Status: StepSkipped, Time: time.Now()})
	}
}

// runStep runs one step and publishes its start and end.
func (r *Runner) runStep(ctx context.Context, ref StepRef, step Step) (StepStatus, int, string, error) {
	stepCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	r.mu.Lock()
	r.currentStep = step
	r.cancelStep = cancel
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.currentStep, r.cancelStep = nil, nil
		r.mu.Unlock()
	}()

	start := time.Now()
	r.publish(StepStarted{Step: ref, Time: start})
	sc := &StepContext{
		Ref:      ref,
		SafeID:   safeID(step.Info().Name),
		Box:      r.box,
		Env:      r.env,
		Bus:      r.bus,
		Run:      &r.info,
		Timeouts: r.opts.Timeouts,
	}
	err := runGuarded(stepCtx, step, sc)

	status, code, msg := StepPassed, 0, ""
	switch {
	case err == nil:
	case errors.Is(context.Cause(stepCtx), ErrStoppedByUser) && ctx.Err() == nil:
		// A UserStoppable step the user ended counts as passed.
		err = nil
	case errors.Is(context.Cause(ctx), ErrInterrupted):
		status, code, msg = StepInterrupted, -1, "interrupted"
	default:
		status, code, msg = StepFailed, -1, err.Error()
		var se *StepError
		if errors.As(err, &se) {
			code = se.Code
		}
	}
	r.publish(StepFinished{Step: ref, Status: status, ExitCode: code, Message: msg, Duration: time.Since(start), Time: time.Now()})
	return status, code, msg, err
}

// runGuarded runs a step and turns a panic into a step failure, so one bad
// step cannot take down werk with the terminal in raw mode.
func runGuarded(ctx context.Context, step Step, sc *StepContext) (err error) {
	defer func() {
		if p := recover(); p != nil {
			slog.Error("step panicked", "step", step.Info().Name, "panic", p)
			err = fmt.Errorf("internal error in step %q: %v", step.Info().Name, p)
		}
	}()
	return step.Run(ctx, sc)
}

// runAfterSteps runs the after-steps in a fresh shell with the result
// variables. Their failure is reported but does not change the result.
func (r *Runner) runAfterSteps(ctx context.Context, failed *StepRef, failMsg string) {
	env := r.env.Clone()
	if failed != nil {
		env.Set("WERCKER_RESULT", "failed")
		env.Set("WERCKER_FAILED_STEP_DISPLAY_NAME", failed.Name)
		env.Set("WERCKER_FAILED_STEP_MESSAGE", failMsg)
	} else {
		env.Set("WERCKER_RESULT", "passed")
	}
	r.box.resetSession()
	r.box.setSessionEnv(env.List())
	saved := r.env
	r.env = env
	defer func() { r.env = saved }()
	ref, _, _ := r.runPhase(ctx, PhaseAfter, r.after, nil)
	if ref != nil {
		r.notice(NoticeWarn, fmt.Sprintf("after-step %q failed; the pipeline's result is unchanged", ref.Name))
	}
}

// cleanup removes the run's containers, network and volume, or lists them
// when NoRemove is set.
func (r *Runner) cleanup() []string {
	if r.box != nil {
		r.box.resetSession()
	}
	if r.opts.NoRemove {
		kept := r.res.names()
		if len(kept) > 0 {
			r.notice(NoticeInfo, "kept (--no-remove): "+strings.Join(kept, ", "))
		}
		return kept
	}
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	go func() {
		select {
		case <-r.killed:
			// A forced stop still removes, but does not wait for slow engines.
			time.Sleep(5 * time.Second)
			cancel()
		case <-ctx.Done():
		}
	}()
	for _, err := range r.res.remove(ctx, r.docker) {
		r.notice(NoticeWarn, err.Error())
	}
	return nil
}

func infos(steps []Step) []StepInfo {
	out := make([]StepInfo, len(steps))
	for i, s := range steps {
		out[i] = s.Info()
	}
	return out
}

func serviceAliases(p *config.Pipeline) []string {
	var out []string
	for i := range p.Services {
		out = append(out, p.Services[i].Alias())
	}
	return out
}

// safeID is a step's directory name: its name made path-safe, plus a random
// suffix so two steps of the same name never share files.
func safeID(name string) string {
	b := []byte(strings.ToLower(name))
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '-'
		}
	}
	s := string(b)
	if len(s) > 40 {
		s = s[:40]
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	return s + "-" + hex.EncodeToString(suffix)
}

// pipelineEnv builds the environment every step shell starts with.
func (r *Runner) pipelineEnv() (*Env, error) {
	env := NewEnv()
	appName := filepath.Base(r.opts.ProjectDir)
	owner := os.Getenv("USER")
	if owner == "" {
		owner = "werk"
	}
	env.Set("WERCKER", "true")
	env.Set("WERCKER_ROOT", r.basePath)
	env.Set("WERCKER_SOURCE_DIR", r.sourceDir)
	env.Set("WERCKER_CACHE_DIR", "/pipeline/cache")
	env.Set("WERCKER_OUTPUT_DIR", "/pipeline/output")
	env.Set("WERCKER_PIPELINE_DIR", "/pipeline")
	env.Set("WERCKER_REPORT_DIR", guestReportDir)
	env.Set("WERCKER_APPLICATION_ID", appName)
	env.Set("WERCKER_APPLICATION_NAME", appName)
	env.Set("WERCKER_APPLICATION_OWNER_NAME", owner)
	env.Set("WERCKER_APPLICATION_URL", "")
	env.Set("TERM", "xterm-256color")
	if r.opts.Command == "deploy" {
		env.Set("DEPLOY", "true")
	} else {
		env.Set("BUILD", "true")
		env.Set("CI", "true")
	}
	env.Set("WERCKER_RUN_ID", r.info.ID)
	env.Set("WERCKER_RUN_URL", "")
	env.Set("WERCKER_PIPELINE", r.opts.Pipeline.Name)
	git := gitInfo(r.opts.ProjectDir)
	env.Set("WERCKER_GIT_DOMAIN", "")
	env.Set("WERCKER_GIT_OWNER", owner)
	env.Set("WERCKER_GIT_REPOSITORY", appName)
	env.Set("WERCKER_GIT_BRANCH", git.branch)
	env.Set("WERCKER_GIT_TAG", git.tag)
	env.Set("WERCKER_GIT_COMMIT", git.commit)
	if r.opts.Command == "deploy" {
		env.Set("WERCKER_DEPLOY_ID", r.info.ID)
		env.Set("WERCKER_DEPLOY_URL", "")
		if r.opts.DeployTarget != "" {
			env.Set("WERCKER_DEPLOYTARGET_NAME", r.opts.DeployTarget)
		}
	} else {
		env.Set("WERCKER_BUILD_ID", r.info.ID)
		env.Set("WERCKER_BUILD_URL", "")
	}
	addPassThrough(env, r.opts.HostEnv)
	if r.opts.Pipeline.Docker {
		env.Set("DOCKER_HOST", r.docker.Host)
		env.Set("DOCKER_NETWORK_NAME", "werk-"+r.info.ID)
	}
	return env, nil
}

type gitDetails struct{ branch, tag, commit string }

// gitInfo reads branch, tag and commit of the project's git checkout; each is
// empty when git or the checkout is missing.
func gitInfo(dir string) gitDetails {
	run := func(args ...string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...).Output()
		if err != nil {
			return ""
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		return strings.TrimSpace(lines[len(lines)-1])
	}
	d := gitDetails{commit: run("rev-parse", "HEAD")}
	if d.commit == "" {
		return d
	}
	if b := run("rev-parse", "--abbrev-ref", "HEAD"); b != "HEAD" {
		d.branch = b
	}
	d.tag = run("tag", "--points-at", "HEAD")
	return d
}

// secretOptions returns the expanded values of step options whose names mark
// a secret (password, token, secret), so that a value given through a
// variable of an ordinary name is masked too.
func (r *Runner) secretOptions() []string {
	var out []string
	p := r.opts.Pipeline
	lists := [][]config.Step{p.Steps, p.AfterSteps}
	for _, name := range p.TargetNames {
		lists = append(lists, p.Targets[name])
	}
	for _, list := range lists {
		for _, step := range list {
			for _, o := range step.Options {
				if IsSecretName(o.Key) {
					out = append(out, r.env.Expand(o.Value))
				}
			}
		}
	}
	return out
}
