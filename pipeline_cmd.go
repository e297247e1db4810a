package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"werk/config"
	"werk/engine"
	"werk/steps"
	"werk/tui"
)

// forcedExitDelay is how long werk waits for cleanup after a second
// interrupt before it exits regardless.
const forcedExitDelay = 10 * time.Second

// pipelineFlags are the options of build, dev and deploy.
type pipelineFlags struct {
	pipeline          string
	deployTarget      string
	workingDir        string
	werckerYML        string
	dockerHost        string
	pull              string
	dockerLocal       bool
	exposePorts       bool
	publish           []string
	enableVolumes     bool
	noRemove          bool
	environment       string
	noResponseTimeout time.Duration
	commandTimeout    time.Duration
	noTUI             bool
	directMount       bool
	push              bool
	tuiLogLines       int
	tuiLogMiB         int
	// restartOnConfigChange restarts the pipeline with the new wercker.yml
	// when a watch step reports a valid change.
	restartOnConfigChange bool
	debug                 debugFlags
}

func newPipelineCommand(name, short string) *cobra.Command {
	var f pipelineFlags
	cmd := &cobra.Command{
		Use:   name + " [DIR]",
		Short: short,
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			return runPipeline(cmd, name, dir, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.pipeline, "pipeline", name, "the wercker.yml pipeline to run")
	fl.StringVar(&f.deployTarget, "deploy-target", os.Getenv("WERCKER_DEPLOYTARGET_NAME"), "run the pipeline's step list of this name instead of steps")
	fl.StringVar(&f.workingDir, "working-dir", "", "werk's working directory for cache and logs (default: .werk in the project; never copied into the box)")
	fl.StringVar(&f.werckerYML, "wercker-yml", "", "read this file instead of the project's wercker.yml")
	fl.StringVar(&f.dockerHost, "docker-host", "", "Docker engine endpoint (default: DOCKER_HOST, else the local socket)")
	fl.StringVar(&f.pull, "pull", string(engine.PullMissing), "when to pull images: always, missing or never")
	fl.BoolVar(&f.dockerLocal, "docker-local", false, "never pull images and never push (same as --pull never for pulls)")
	fl.BoolVar(&f.exposePorts, "expose-ports", false, "publish the ports listed in the box's and services' ports on the host")
	fl.StringArrayVar(&f.publish, "publish", nil, "publish a box port, docker syntax (HOSTPORT:PORT, IP:HOSTPORT:PORT, PORT); repeatable")
	fl.BoolVar(&f.enableVolumes, "enable-volumes", false, "mount the box's volumes")
	fl.BoolVar(&f.noRemove, "no-remove", false, "keep the run's containers, network and volume, and print their names")
	fl.StringVar(&f.environment, "environment", os.Getenv("WERCKER_ENVIRONMENT_FILE"), "read extra KEY=VALUE variables from this file (X_NAME reaches steps as NAME)")
	fl.DurationVar(&f.noResponseTimeout, "no-response-timeout", engine.DefaultNoResponseTimeout, "stop a step that prints nothing for this long (overrides wercker.yml)")
	fl.DurationVar(&f.commandTimeout, "command-timeout", engine.DefaultCommandTimeout, "stop a step that runs longer than this (overrides wercker.yml)")
	fl.BoolVar(&f.noTUI, "no-tui", false, "print plain log lines even on a terminal")
	fl.BoolVar(&f.directMount, "direct-mount", name == "dev", "mount the project into the box instead of copying it")
	fl.BoolVar(&f.push, "push", true, "push images in internal/docker-push and internal/docker-scratch-push; false only tags them locally")
	fl.IntVar(&f.tuiLogLines, "tui-log-lines", tui.DefaultStepLines, "lines of output per step or service the terminal UI keeps for scrolling (the run log keeps all)")
	fl.IntVar(&f.tuiLogMiB, "tui-log-mib", tui.DefaultStepBytes>>20, "MiB of output per step or service the terminal UI keeps for scrolling (the run log keeps all)")
	fl.BoolVar(&f.restartOnConfigChange, "restart-on-config-change", false, "when an internal/watch step sees wercker.yml change and the new file is valid, stop the run and start the pipeline again with it (default: only report the change)")
	f.debug.register(fl)
	return cmd
}

func runPipeline(cmd *cobra.Command, command, dir string, f *pipelineFlags) error {
	projectDir, err := filepath.Abs(dir)
	if err != nil {
		return &exitError{code: exitFailed, err: err}
	}
	if st, err := os.Stat(projectDir); err != nil || !st.IsDir() {
		return &exitError{code: exitFailed, err: fmt.Errorf("project directory %q not found", dir)}
	}
	workingDir := f.workingDir
	if workingDir == "" {
		workingDir = filepath.Join(projectDir, ".werk")
	}
	if workingDir, err = filepath.Abs(workingDir); err != nil {
		return &exitError{code: exitFailed, err: err}
	}
	if workingDir == projectDir {
		return &exitError{code: exitFailed, err: fmt.Errorf("--working-dir %q is the project directory; use a subdirectory such as .werk", f.workingDir)}
	}
	pull, err := engine.ParsePullPolicy(f.pull)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	if f.dockerLocal {
		pull = engine.PullNever
	}

	loader := &pipelineLoader{cmd: cmd, flags: f, projectDir: projectDir, project: steps.Project{Dir: projectDir, WorkingDir: workingDir}}
	cfg, err := loader.load()
	if err != nil {
		return &exitError{code: exitFailed, err: err}
	}
	file, pipeline, mainSteps, afterSteps := cfg.file, cfg.pipeline, cfg.main, cfg.after
	if _, ok := pipeline.Targets[f.deployTarget]; f.deployTarget != "" && !ok {
		// The loader rejects an unknown target of a pipeline that has
		// targets; one without targets runs its steps, as wercker did.
		fmt.Fprintf(cmd.ErrOrStderr(), "werk: pipeline %q has no deploy targets; running its steps for target %q\n", pipeline.Name, f.deployTarget)
	}
	for _, w := range file.Warnings {
		fmt.Fprintf(cmd.ErrOrStderr(), "werk: warning: %v\n", w)
	}
	if err := validateDockerHost(f.dockerHost); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	ctx := context.Background()
	hostEnv, docker, closeRun, err := prepareRun(ctx, workingDir, f.environment, f.dockerHost)
	if err != nil {
		return err
	}
	defer closeRun()

	opts := engine.Options{
		Command:       command,
		ProjectDir:    projectDir,
		WorkingDir:    workingDir,
		File:          file,
		Pipeline:      pipeline,
		DeployTarget:  f.deployTarget,
		Pull:          pull,
		ExposePorts:   f.exposePorts,
		Publish:       f.publish,
		EnableVolumes: f.enableVolumes,
		NoRemove:      f.noRemove,
		DirectMount:   f.directMount,
		NoPush:        !f.push,
		HostEnv:       hostEnv,
		Timeouts:      cfg.timeouts,
	}
	if err := applyDebug(&opts, &f.debug, append(append([]engine.Step(nil), mainSteps...), afterSteps...), useTUI(cmd.OutOrStdout(), f.noTUI)); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	if useTUI(cmd.OutOrStdout(), f.noTUI) {
		return runWithTUI(cmd, &tuiPipeline{
			docker: docker, opts: opts, main: mainSteps, after: afterSteps, load: loader.load,
			limits:                tui.Limits{StepLines: f.tuiLogLines, StepBytes: f.tuiLogMiB << 20},
			restartOnConfigChange: f.restartOnConfigChange,
		})
	}
	if f.restartOnConfigChange {
		p := &restartingPipeline{cmd: cmd, docker: docker, opts: opts, config: cfg, loader: loader}
		return p.run()
	}
	result, err := runPlain(ctx, cmd.OutOrStdout(), docker, opts, mainSteps, afterSteps)
	if err != nil {
		return err
	}
	if result.ExitCode != 0 {
		return &exitError{code: result.ExitCode}
	}
	return nil
}

// loadPipeline reads wercker.yml and selects the pipeline to run.
func loadPipeline(projectDir string, f *pipelineFlags) (*config.File, *config.Pipeline, error) {
	path := f.werckerYML
	if path == "" {
		found, err := config.Find(projectDir)
		if err != nil {
			return nil, nil, err
		}
		path = found
	}
	file, err := config.Load(path)
	if err != nil {
		return nil, nil, err
	}
	pipeline, err := file.Pipeline(f.pipeline)
	if err != nil {
		return nil, nil, err
	}
	return file, pipeline, nil
}

// timeouts picks each limit from the flag when given, else wercker.yml, else
// the default.
func timeouts(cmd *cobra.Command, f *pipelineFlags, file *config.File) engine.Timeouts {
	t := engine.Timeouts{NoResponse: f.noResponseTimeout, Command: f.commandTimeout}
	if !cmd.Flags().Changed("no-response-timeout") && file.NoResponseTimeout > 0 {
		t.NoResponse = file.NoResponseTimeout
	}
	if !cmd.Flags().Changed("command-timeout") && file.CommandTimeout > 0 {
		t.Command = file.CommandTimeout
	}
	return t
}

// consume starts the printers: the run's log file always, and the plain
// printer on out. restartOnConfigChange words their lines about a changed
// wercker.yml for --restart-on-config-change. It returns a channel closed
// when both have drained.
func consume(bus *engine.Bus, out io.Writer, logFile io.Writer, restartOnConfigChange bool) <-chan struct{} {
	done := make(chan struct{})
	fileSub := bus.Subscribe(4096, false)
	screenSub := bus.Subscribe(4096, false)
	color := isTerminal(out) && os.Getenv("NO_COLOR") == ""
	go func() {
		filePrinter := tui.NewPlain(logFile, false)
		screen := tui.NewPlain(rawAwareWriter{out}, color)
		filePrinter.SetRestartOnConfigChange(restartOnConfigChange)
		screen.SetRestartOnConfigChange(restartOnConfigChange)
		fileDone := make(chan struct{})
		go func() {
			filePrinter.Consume(fileSub)
			close(fileDone)
		}()
		screen.Consume(screenSub)
		<-fileDone
		close(done)
	}()
	return done
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// handleSignals turns SIGINT, SIGTERM and SIGHUP into calls of interrupt,
// which reports whether it forced a kill.
// After a forced stop werk exits within forcedExitDelay even if the engine
// does not respond.
func handleSignals(interrupt func() bool) (stop func()) {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	quit := make(chan struct{})
	go func() {
		for {
			select {
			case <-quit:
				return
			case sig := <-ch:
				slog.Info("signal received", "signal", sig.String())
				if interrupt() {
					time.AfterFunc(forcedExitDelay, func() {
						restoreTerminal()
						os.Exit(exitInterrupted)
					})
				}
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(quit)
	}
}

// setupLogging sends slog output to werk.log in the working directory.
func setupLogging(workingDir string) (closeLog func()) {
	f, err := os.OpenFile(filepath.Join(workingDir, "werk.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
		return func() {}
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug})))
	return func() { f.Close() }
}

// openRunLog creates logs/RUN.log in the working directory: the whole
// output of the run, never dropped.
func openRunLog(workingDir, runID string) (*os.File, error) {
	dir := filepath.Join(workingDir, "logs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating log directory: %w", err)
	}
	f, err := os.Create(filepath.Join(dir, runID+".log"))
	if err != nil {
		return nil, fmt.Errorf("creating run log: %w", err)
	}
	return f, nil
}

// validateDockerHost checks the form of a --docker-host value; empty means
// DOCKER_HOST or the default socket.
func validateDockerHost(host string) error {
	if host == "" {
		return nil
	}
	scheme, rest, ok := strings.Cut(host, "://")
	if ok && rest != "" && (scheme == "unix" || scheme == "tcp") {
		return nil
	}
	return fmt.Errorf("invalid --docker-host %q: use unix:///path/to/docker.sock or tcp://HOST:PORT", host)
}

// prepareRun reads the host environment, creates the working directory, sends
// slog output there and connects to the Docker engine: the steps every
// command that starts a box shares. The error it returns is an *exitError;
// closeRun releases what it opened.
func prepareRun(ctx context.Context, workingDir, envFile, dockerHost string) (hostEnv map[string]string, docker *engine.Docker, closeRun func(), err error) {
	hostEnv, err = engine.HostEnv(os.Environ(), envFile)
	if err != nil {
		return nil, nil, nil, &exitError{code: exitFailed, err: err}
	}
	if err := os.MkdirAll(workingDir, 0o755); err != nil {
		return nil, nil, nil, &exitError{code: exitFailed, err: fmt.Errorf("creating working directory: %w", err)}
	}
	closeLog := setupLogging(workingDir)
	docker, err = engine.Connect(ctx, dockerHost)
	if err != nil {
		closeLog()
		return nil, nil, nil, &exitError{code: exitFailed, err: err}
	}
	return hostEnv, docker, func() {
		docker.Close()
		closeLog()
	}, nil
}

// runPlain runs one pipeline with the plain printer on out and the run log
// under the working directory, with signals mapped to interrupts. The error
// it returns is an *exitError for a setup problem; the run's own outcome is
// in the result.
func runPlain(ctx context.Context, out io.Writer, docker *engine.Docker, opts engine.Options, mainSteps, afterSteps []engine.Step) (engine.RunFinished, error) {
	bus := engine.NewBus(nil)
	runner := engine.NewRunner(docker, bus, opts, mainSteps, afterSteps)
	slog.Info("run starting", "run", runner.Info().ID, "command", opts.Command, "pipeline", opts.Pipeline.Name, "project", opts.ProjectDir)

	logFile, err := openRunLog(opts.WorkingDir, runner.Info().ID)
	if err != nil {
		return engine.RunFinished{}, &exitError{code: exitFailed, err: err}
	}
	defer logFile.Close()
	done := consume(bus, out, logFile, false)

	stopSignals := handleSignals(runner.Interrupt)
	result := runner.Run(ctx)
	stopSignals()
	bus.Close()
	<-done
	slog.Info("run finished", "run", runner.Info().ID, "result", result.Result.String(), "status", result.ExitCode)
	return result, nil
}
