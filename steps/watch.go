package steps

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"werk/config"
	"werk/engine"
)

func init() { RegisterInternal("watch", newWatch) }

const (
	// defaultWatchSignal is what a reload sends first, as wercker did.
	defaultWatchSignal = "INT"
	// defaultWatchGrace is how long the old instance gets to end after the
	// signal before SIGKILL.
	defaultWatchGrace = 10 * time.Second
	// maxChangedPathsBytes bounds WERK_CHANGED_PATHS: Linux rejects a single
	// environment string over 128 KiB (MAX_ARG_STRLEN) when starting a
	// process.
	maxChangedPathsBytes = 100 * 1024
	// namedFiles is how many changed files the marker line names before it
	// gives a count.
	namedFiles = 3
)

// watchSignals are the signal names the signal option accepts, without the
// SIG prefix.
var watchSignals = []string{"HUP", "INT", "QUIT", "ABRT", "KILL", "USR1", "USR2", "ALRM", "TERM"}

// watchOptions are the options internal/watch takes besides name and cwd.
var watchOptions = []string{"code", "reload", "ignore", "debounce", "signal", "grace"}

// watch is internal/watch: it runs code in the box and, with reload, runs it
// again after every burst of changes in the project, until the user stops
// the step.
type watch struct {
	cfg      config.Step
	project  Project
	code     string
	reload   bool
	ignore   []string
	debounce time.Duration
	signal   string
	grace    time.Duration
}

// newWatch validates the options, so a wrong value is reported before the
// pipeline starts.
func newWatch(s config.Step, p Project) (engine.Step, error) {
	w := &watch{cfg: s, project: p, debounce: engine.DefaultDebounce, signal: defaultWatchSignal, grace: defaultWatchGrace}
	for _, o := range s.Options {
		if !slices.Contains(watchOptions, o.Key) {
			return nil, fmt.Errorf("%s: step %q has no option %q; it takes %s, name and cwd",
				o.Pos, s.ID, o.Key, strings.Join(watchOptions, ", "))
		}
	}
	code, _ := s.Option("code")
	if strings.TrimSpace(code) == "" {
		return nil, fmt.Errorf("%s: step %q needs the option \"code\": the command to run in the box", s.Pos, s.ID)
	}
	w.code = strings.ReplaceAll(code, "\r\n", "\n")
	if value, ok := s.Option("reload"); ok {
		reload, valid := config.ParseBool(value)
		if !valid {
			return nil, optionError(s, "reload", value, "write true or false")
		}
		w.reload = reload
	}
	if value, ok := s.Option("ignore"); ok {
		w.ignore = splitPatterns(value)
	}
	if value, ok := s.Option("debounce"); ok {
		d, err := time.ParseDuration(strings.TrimSpace(value))
		if err != nil || d < 0 || d > engine.MaxBurstDelay {
			return nil, optionError(s, "debounce", value,
				fmt.Sprintf("write a duration between 0s and %s, such as 100ms or 1s", engine.MaxBurstDelay))
		}
		w.debounce = d
	}
	if value, ok := s.Option("signal"); ok {
		name := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(value)), "SIG")
		if !slices.Contains(watchSignals, name) {
			return nil, optionError(s, "signal", value, "write one of SIG"+strings.Join(watchSignals, ", SIG"))
		}
		w.signal = name
	}
	if value, ok := s.Option("grace"); ok {
		d, err := time.ParseDuration(strings.TrimSpace(value))
		if err != nil || d < 0 {
			return nil, optionError(s, "grace", value, "write a duration such as 10s or 500ms")
		}
		w.grace = d
	}
	return w, nil
}

func optionError(s config.Step, key, value, fix string) error {
	return fmt.Errorf("%s: invalid value %q for option %q of step %q: %s", s.OptionPos(key), value, key, s.ID, fix)
}

// splitPatterns splits the ignore option into gitignore patterns: one per
// line or separated by spaces; a space escaped as "\ " stays in its pattern.
func splitPatterns(value string) []string {
	var patterns []string
	var current strings.Builder
	flush := func() {
		if current.Len() > 0 {
			patterns = append(patterns, current.String())
			current.Reset()
		}
	}
	for i := 0; i < len(value); i++ {
		c := value[i]
		switch {
		case c == '\\' && i+1 < len(value) && value[i+1] == ' ':
			current.WriteString(`\ `)
			i++
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			flush()
		default:
			current.WriteByte(c)
		}
	}
	flush()
	return patterns
}

func (w *watch) Info() engine.StepInfo {
	return engine.StepInfo{ID: w.cfg.ID, Name: w.cfg.DisplayName}
}

// StopsOnInterrupt makes the first Ctrl-C end this step, which then passes.
func (w *watch) StopsOnInterrupt() bool { return true }

// Run starts the code, restarts it on changes when reload is set, reports
// wercker.yml edits, and returns when ctx ends, after the code's processes
// are gone.
func (w *watch) Run(ctx context.Context, sc *engine.StepContext) error {
	env, err := sc.Box.CaptureEnv(ctx)
	if err != nil {
		return err
	}
	sourceDir := env["WERCKER_SOURCE_DIR"]
	if sourceDir == "" {
		sourceDir = sc.Box.SourceDir
	}
	dir := sourceDir
	if w.cfg.Cwd != "" {
		dir = path.Join(sourceDir, w.cfg.Cwd)
		if path.IsAbs(w.cfg.Cwd) {
			dir = w.cfg.Cwd
		}
	}
	stepRoot := engine.StepRoot(sc.SafeID)
	if err := writeWatchScript(ctx, sc, w.code+"\n"); err != nil {
		return err
	}
	launcher, err := sc.Box.NewGroupLauncher(engine.GroupSpec{
		File:      stepRoot + "/watch.sh",
		Dir:       dir,
		Env:       envList(env),
		PIDPrefix: stepRoot + "/pid",
		Sink:      sc.Sink(),
	})
	if err != nil {
		return err
	}
	defer launcher.Close()
	r := &watchRun{
		watch:      w,
		sc:         sc,
		launcher:   launcher,
		sourceRel:  sourceRelative(env["WERCKER_ROOT"], sourceDir),
		configPath: configPath(sc.Run),
	}
	return r.run(ctx)
}

// writeWatchScript copies the code into the step's folder in the box.
func writeWatchScript(ctx context.Context, sc *engine.StepContext, script string) error {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Now()
	for _, d := range []string{"steps/", "steps/" + sc.SafeID + "/"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o777, ModTime: now}); err != nil {
			return err
		}
	}
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: "steps/" + sc.SafeID + "/watch.sh", Mode: 0o755, Size: int64(len(script)), ModTime: now}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if _, err := tw.Write([]byte(script)); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := sc.Box.CopyTo(ctx, "/werk", &buf); err != nil {
		return fmt.Errorf("copying the watch step's code into the box: %w", err)
	}
	return nil
}

// envList turns the captured environment into sorted KEY=VALUE entries.
func envList(env map[string]string) []string {
	list := make([]string, 0, len(env)+1)
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	sort.Strings(list)
	return list
}

// sourceRelative returns the source folder relative to the folder where the
// project is mounted ("" when they are the same), so that host paths relative
// to the project can be made relative to the source folder.
func sourceRelative(root, sourceDir string) string {
	if root == "" {
		return ""
	}
	rel, err := filepath.Rel(root, sourceDir)
	if err != nil || rel == "." {
		return ""
	}
	return filepath.ToSlash(rel)
}

// configPath returns the run's wercker.yml, or the one found in the project.
func configPath(run *engine.RunInfo) string {
	if run.ConfigPath != "" {
		return run.ConfigPath
	}
	if found, err := config.Find(run.ProjectDir); err == nil {
		return found
	}
	return ""
}

// watchRun is the state of one Run of the watch step.
type watchRun struct {
	*watch
	sc         *engine.StepContext
	launcher   *engine.GroupLauncher
	sourceRel  string
	configPath string

	seq     int
	current *instance
}

// instance is one start of the code.
type instance struct {
	seq        int
	group      *engine.ProcGroup
	stopProbes context.CancelFunc
}

func (r *watchRun) run(ctx context.Context) error {
	watcher, err := engine.NewWatcher(engine.WatchOptions{
		Root:       r.sc.Run.ProjectDir,
		Recursive:  r.reload,
		Exclude:    []string{r.sc.Run.WorkingDir},
		Ignore:     r.ignore,
		ConfigFile: r.configPath,
		Debounce:   r.debounce,
		Warn: func(msg string) {
			r.sc.Bus.Publish(engine.Notice{Level: engine.NoticeWarn, Text: "watch: " + msg, Time: time.Now()})
		},
	})
	var batches <-chan engine.Batch
	switch {
	case err == nil:
		defer watcher.Close()
		batches = watcher.Batches()
	case r.reload:
		return err
	default:
		// Without reload only wercker.yml edits are watched; the code still
		// runs without that.
		r.sc.Bus.Publish(engine.Notice{Level: engine.NoticeWarn, Text: "watch: wercker.yml edits are not noticed: " + err.Error(), Time: time.Now()})
	}

	r.start(ctx, nil, time.Now())
	for {
		var exited <-chan struct{}
		if r.current != nil {
			exited = r.current.group.Done()
		}
		select {
		case <-ctx.Done():
			r.stopCurrent(ctx)
			return context.Cause(ctx)
		case b := <-batches:
			if b.ConfigChanged {
				r.checkConfig()
			}
			files := r.changedFiles(b)
			if r.reload && (len(files) > 0 || b.Overflow) {
				r.restart(ctx, files, b.Time)
			}
		case <-exited:
			r.exited()
		}
	}
}

// start runs the code once as instance r.seq. changed lists the files of the
// burst that caused it (nil for the first start), and trigger is the time
// the burst ended.
func (r *watchRun) start(ctx context.Context, changed []string, trigger time.Time) {
	seq := r.seq
	if seq == 0 {
		r.publish(engine.Reload{Seq: seq, Result: engine.ReloadStarted, Detail: "first start"})
		r.sc.Logf("── start ──")
	}
	group, err := r.launcher.Launch(ctx, limitChangedPaths(changed))
	if err != nil {
		r.publish(engine.Reload{Seq: seq, Result: engine.ReloadFailed, ExitCode: -1, Detail: err.Error()})
		r.sc.Logf("── #%d could not start: %v; waiting for a change ──", seq, err)
		return
	}
	r.publish(engine.Reload{Seq: seq, Result: engine.ReloadRunning, Duration: time.Since(trigger)})
	probeCtx, stopProbes := context.WithCancel(ctx)
	r.current = &instance{seq: seq, group: group, stopProbes: stopProbes}
	if err := engine.ProbePorts(probeCtx, r.sc.Bus, r.sc.Box.Docker(), r.sc.Box.ID); err != nil {
		r.sc.Logf("werk: %v", err)
	}
}

// restart stops the running instance, if any, and starts the next one.
func (r *watchRun) restart(ctx context.Context, files []string, trigger time.Time) {
	r.seq++
	r.publish(engine.Reload{Seq: r.seq, Files: files, Result: engine.ReloadStarted})
	r.stopCurrent(ctx)
	if ctx.Err() != nil {
		return
	}
	r.sc.Logf("── reload #%d: %s ──", r.seq, describeFiles(files))
	r.start(ctx, files, trigger)
}

// exited reports an instance that ended by itself. The next one waits for a
// change, so a command that crashes at once does not run in a loop.
func (r *watchRun) exited() {
	inst := r.current
	r.current = nil
	inst.stopProbes()
	code := inst.group.ExitCode()
	r.publish(engine.Reload{Seq: inst.seq, Result: engine.ReloadExited, ExitCode: code, Detail: fmt.Sprintf("with status %d", code)})
	r.sc.Logf("── #%d exited with status %d; waiting for a change ──", inst.seq, code)
}

// stopCurrent ends the running instance and every process it started. For a
// reload, or when the user stopped the step, the instance gets the signal
// and the grace period. When the run is interrupted, it is killed at once.
func (r *watchRun) stopCurrent(ctx context.Context) {
	inst := r.current
	if inst == nil {
		return
	}
	r.current = nil
	inst.stopProbes()
	select {
	case <-inst.group.Done():
		code := inst.group.ExitCode()
		r.publish(engine.Reload{Seq: inst.seq, Result: engine.ReloadExited, ExitCode: code, Detail: fmt.Sprintf("with status %d", code)})
		return
	default:
	}
	stopCtx := ctx
	if errors.Is(context.Cause(ctx), engine.ErrStoppedByUser) {
		stopCtx = context.WithoutCancel(ctx)
	}
	res, err := inst.group.Stop(stopCtx, r.signal, r.grace)
	switch {
	case err != nil:
		r.publish(engine.Reload{Seq: inst.seq, Result: engine.ReloadFailed, ExitCode: -1, Detail: err.Error()})
		r.sc.Logf("werk: %v", err)
	case res.Killed:
		detail := fmt.Sprintf("by SIGKILL: it did not end within %s of SIG%s", r.grace, r.signal)
		if ctx.Err() != nil && stopCtx == ctx {
			detail = "by SIGKILL: the step ended before the grace period did"
		}
		if len(res.Left) > 0 {
			detail += "; processes " + strings.Join(res.Left, " ") + " outlived SIGKILL"
		}
		r.publish(engine.Reload{Seq: inst.seq, Result: engine.ReloadKilled, ExitCode: res.ExitCode, Detail: detail})
		r.sc.Logf("── #%d killed %s ──", inst.seq, detail)
	default:
		r.publish(engine.Reload{Seq: inst.seq, Result: engine.ReloadExited, ExitCode: res.ExitCode,
			Detail: fmt.Sprintf("after SIG%s, with status %d", r.signal, res.ExitCode)})
	}
}

// checkConfig loads the changed wercker.yml and builds the run's pipeline
// from it, then publishes whether a restart would apply it. The printers
// and the terminal app word the ConfigChanged event themselves, because
// only they know whether werk restarts on its own.
func (r *watchRun) checkConfig() {
	err := r.validateConfig()
	r.publish(engine.ConfigChanged{Path: r.configPath, Err: err, Time: time.Now()})
}

func (r *watchRun) validateConfig() error {
	file, err := config.Load(r.configPath)
	if err != nil {
		return err
	}
	pipeline, err := file.Pipeline(r.sc.Run.Pipeline)
	if err != nil {
		return err
	}
	if _, err := BuildAll(pipeline.Steps, r.project); err != nil {
		return err
	}
	_, err = BuildAll(pipeline.AfterSteps, r.project)
	return err
}

// changedFiles returns the batch's paths relative to the source folder.
func (r *watchRun) changedFiles(b engine.Batch) []string {
	if r.sourceRel == "" {
		return b.Paths
	}
	out := make([]string, 0, len(b.Paths))
	for _, p := range b.Paths {
		rel, err := filepath.Rel(filepath.FromSlash(r.sourceRel), filepath.FromSlash(p))
		if err != nil {
			rel = p
		}
		if strings.HasSuffix(p, "/") {
			rel += "/"
		}
		out = append(out, filepath.ToSlash(rel))
	}
	return out
}

func (r *watchRun) publish(e engine.Event) {
	switch v := e.(type) {
	case engine.Reload:
		v.Step = r.sc.Ref
		v.Time = time.Now()
		e = v
	}
	r.sc.Bus.Publish(e)
}

// limitChangedPaths returns the leading paths that fit in
// WERK_CHANGED_PATHS, one per line, within maxChangedPathsBytes.
func limitChangedPaths(paths []string) []string {
	size := 0
	for i, p := range paths {
		size += len(p) + 1
		if size > maxChangedPathsBytes {
			return paths[:i]
		}
	}
	return paths
}

// describeFiles names the first few files and counts the rest.
func describeFiles(files []string) string {
	switch {
	case len(files) == 0:
		return "changes not known (the kernel dropped events)"
	case len(files) <= namedFiles:
		return strings.Join(files, ", ")
	}
	return strings.Join(files[:namedFiles], ", ") + " and " + strconv.Itoa(len(files)-namedFiles) + " more"
}
