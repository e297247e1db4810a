package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"werk/engine"
	"werk/tui"
)

// exitInternal is werk's exit status after a panic.
const exitInternal = 70

// useTUI reports whether the full-screen app shows the run: on a terminal,
// unless --no-tui, and not with TERM=dumb.
func useTUI(out io.Writer, noTUI bool) bool {
	return !noTUI && isTerminal(out) && os.Getenv("TERM") != "dumb"
}

// tuiPipeline holds the options and steps of the next run of a pipeline
// under the terminal app.
type tuiPipeline struct {
	docker *engine.Docker
	opts   engine.Options
	main   []engine.Step
	after  []engine.Step
	// load reads wercker.yml again and builds the pipeline's steps for a
	// rerun; nil when the steps do not come from wercker.yml (werk shell),
	// and then the app offers no rerun.
	load   func() (*pipelineConfig, error)
	limits tui.Limits
	// restartOnConfigChange reruns the pipeline when wercker.yml changes
	// and is valid, without waiting for the rerun key.
	restartOnConfigChange bool
}

// use makes the next run run cfg's pipeline.
func (p *tuiPipeline) use(cfg *pipelineConfig) {
	cfg.apply(&p.opts)
	p.main, p.after = cfg.main, cfg.after
}

// runWithTUI runs the pipeline under the terminal app until the user quits,
// then prints the summary of the last run to the normal screen. In werk dev
// the user can run the pipeline again; each run gets a new runner, bus and
// run log.
func runWithTUI(cmd *cobra.Command, p *tuiPipeline) error {
	out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
	ctrl := newTUIController(p.load)
	app := tui.New(ctrl, tui.Options{
		Command:               p.opts.Command,
		WorkingDir:            p.opts.WorkingDir,
		CanRerun:              p.opts.Command == "dev" && p.load != nil,
		RestartOnConfigChange: p.restartOnConfigChange && p.load != nil,
		Color:                 os.Getenv("NO_COLOR") == "",
		Limits:                p.limits,
	})
	// The app opens the terminal panes of internal/shell and debug shells,
	// and answers the pauses of step-by-step debugging.
	p.opts.Terminals, p.opts.Debug.Debugger = app.Terminals(), app.Debugger()
	guard, err := tui.StartGuard()
	if err != nil {
		slog.Warn("running without the terminal guard", "err", err)
	}
	// exitNow restores the terminal and exits without waiting for the run:
	// after a panic, or when cleanup after a forced stop takes too long.
	var exitOnce sync.Once
	exitNow := func(code int, message string) {
		exitOnce.Do(func() {
			app.Kill()
			guard.Stop()
			fmt.Fprintln(errOut, message)
			os.Exit(code)
		})
	}
	ctrl.forced = func() {
		exitNow(exitInterrupted, "werk: the run's cleanup did not finish after a forced stop; exiting")
	}
	defer func() {
		if r := recover(); r != nil {
			exitNow(exitInternal, fmt.Sprintf("werk: internal error: %v\n%s", r, debug.Stack()))
		}
	}()

	results := make(chan engine.RunFinished, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				exitNow(exitInternal, fmt.Sprintf("werk: internal error: %v\n%s", r, debug.Stack()))
			}
		}()
		results <- runLoop(p, ctrl, app)
	}()

	stopSignals := handleTUISignals(ctrl, app)
	appErr := app.Run()
	guard.Stop()
	if ctrl.quit() {
		fmt.Fprintln(errOut, "werk: stopping the run and removing its containers…")
	}
	result := <-results
	stopSignals()

	if appErr != nil && appErr != tui.ErrPanic {
		fmt.Fprintln(errOut, "werk: the terminal UI failed:", appErr)
	}
	app.PrintSummary(out, result)
	if appErr != nil && result.ExitCode == 0 {
		return &exitError{code: exitFailed}
	}
	if result.ExitCode != 0 {
		return &exitError{code: result.ExitCode}
	}
	return nil
}

// runLoop runs the pipeline, again for every rerun the user asks for while
// a run is going or after it has ended, and returns the outcome of the last
// run once the app has quit.
func runLoop(p *tuiPipeline, ctrl *tuiController, app *tui.App) engine.RunFinished {
	last := runOnce(p, ctrl, app)
	for {
		next := ctrl.waitRerun()
		if next == nil {
			return last
		}
		p.use(next)
		last = runOnce(p, ctrl, app)
	}
}

// runOnce runs the pipeline once: the run log file gets every event, the
// app its lossy share.
func runOnce(p *tuiPipeline, ctrl *tuiController, app *tui.App) engine.RunFinished {
	bus := engine.NewBus(nil)
	runner := engine.NewRunner(p.docker, bus, p.opts, p.main, p.after)
	slog.Info("run starting", "run", runner.Info().ID, "command", p.opts.Command, "pipeline", p.opts.Pipeline.Name, "project", p.opts.ProjectDir)

	var fileDone <-chan struct{}
	logFile, err := openRunLog(p.opts.WorkingDir, runner.Info().ID)
	if err != nil {
		slog.Error("run log not written", "run", runner.Info().ID, "err", err)
	} else {
		fileDone = logToFile(bus, logFile, p.restartOnConfigChange)
	}
	appDone := app.Follow(tui.Subscribe(bus))

	ctrl.start(runner)
	result := runner.Run(context.Background())
	ctrl.finish()
	bus.Close()
	<-appDone
	if fileDone != nil {
		<-fileDone
		logFile.Close()
	}
	slog.Info("run finished", "run", runner.Info().ID, "result", result.Result.String(), "status", result.ExitCode)
	return result
}

// logToFile writes every event of bus to the run's log file, as the plain
// printer does without colours. Writes are buffered and flushed whenever no
// event is waiting, so a flood of lines costs few system calls and the file
// is current whenever the run is quiet. restartOnConfigChange words the
// lines about a changed wercker.yml for --restart-on-config-change. The
// returned channel closes when the bus has closed and the file has every
// event.
func logToFile(bus *engine.Bus, logFile io.Writer, restartOnConfigChange bool) <-chan struct{} {
	done := make(chan struct{})
	sub := bus.Subscribe(4096, false)
	go func() {
		defer close(done)
		w := bufio.NewWriterSize(logFile, 64<<10)
		printer := tui.NewPlain(w, false)
		printer.SetRestartOnConfigChange(restartOnConfigChange)
		for e := range sub.C {
			printer.Handle(e)
			if len(sub.C) == 0 {
				if err := w.Flush(); err != nil {
					slog.Error("writing the run log", "err", err)
				}
			}
		}
		if err := w.Flush(); err != nil {
			slog.Error("writing the run log", "err", err)
		}
	}()
	return done
}

// tuiController carries the app's requests to the current runner. Ctrl-C in
// the app and SIGINT, SIGTERM and SIGHUP all go through Interrupt.
type tuiController struct {
	// load reads wercker.yml for a rerun; nil when reruns are not offered.
	load func() (*pipelineConfig, error)

	mu      sync.Mutex
	runner  *engine.Runner
	running bool
	// next is the pipeline of the requested rerun; nil when none is.
	next *pipelineConfig
	// quitting is set once the app has quit: no rerun starts after it.
	quitting bool
	// wake tells waitRerun that next or quitting changed.
	wake chan struct{}
	// forced runs forcedExitDelay after an interrupt that forced a kill.
	forced func()
}

func newTUIController(load func() (*pipelineConfig, error)) *tuiController {
	return &tuiController{load: load, wake: make(chan struct{}, 1)}
}

// notify wakes waitRerun; a wake-up that is already pending suffices.
func (c *tuiController) notify() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

var _ tui.Controller = (*tuiController)(nil)

func (c *tuiController) start(r *engine.Runner) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.runner, c.running = r, true
}

func (c *tuiController) finish() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.running = false
}

// Interrupt stops the current run and cancels a pending rerun.
func (c *tuiController) Interrupt() bool {
	c.mu.Lock()
	r, running := c.runner, c.running
	c.next = nil
	c.mu.Unlock()
	if !running {
		return false
	}
	forced := r.Interrupt()
	if forced && c.forced != nil {
		time.AfterFunc(forcedExitDelay, c.forced)
	}
	return forced
}

// Rerun loads wercker.yml and builds the pipeline's steps, then requests
// another run with them once the current one ends, and stops the current
// one: a UserStoppable step (a watch) ends as on the first Ctrl-C. When the
// file does not load, it returns the error and the current run goes on. A
// second request before the run has ended replaces the loaded pipeline and
// interrupts nothing more, so it never forces a kill.
func (c *tuiController) Rerun() error {
	if c.load == nil {
		return errors.New("this command cannot run its pipeline again")
	}
	next, err := c.load()
	if err != nil {
		slog.Warn("rerun not started: the config did not load", "err", err)
		return err
	}
	c.mu.Lock()
	if c.quitting {
		c.mu.Unlock()
		return nil
	}
	first := c.next == nil
	c.next = next
	r, running := c.runner, c.running
	c.mu.Unlock()
	c.notify()
	if running && first {
		r.Interrupt()
	}
	return nil
}

// waitRerun waits until a rerun is requested, and returns its pipeline and
// clears the request, or until the app quits, and returns nil.
func (c *tuiController) waitRerun() *pipelineConfig {
	for {
		c.mu.Lock()
		next, quitting := c.next, c.quitting
		c.next = nil
		c.mu.Unlock()
		switch {
		case quitting:
			return nil
		case next != nil:
			return next
		}
		<-c.wake
	}
}

// quit records that the app has quit. When a run is still going (the app
// crashed or lost its terminal), it stops that run and returns true.
func (c *tuiController) quit() bool {
	c.mu.Lock()
	c.quitting = true
	c.next = nil
	running := c.running
	c.mu.Unlock()
	c.notify()
	if running {
		c.Interrupt()
	}
	return running
}

// handleTUISignals routes signals while the app runs: SIGINT stops the run
// as Ctrl-C does; SIGTERM and SIGHUP also make the app quit once the run has
// ended. A second signal forces the stop.
func handleTUISignals(ctrl *tuiController, app *tui.App) (stop func()) {
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
				if sig != os.Interrupt {
					app.QuitAfterRun()
				}
				ctrl.Interrupt()
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(quit)
	}
}

// newTerminalGuardCommand runs the terminal guard that werk starts next to
// its terminal app; it is not for users.
func newTerminalGuardCommand() *cobra.Command {
	return &cobra.Command{
		Use:    tui.GuardCommand,
		Hidden: true,
		Args:   cobra.NoArgs,
		Run: func(*cobra.Command, []string) {
			os.Exit(tui.RunGuard())
		},
	}
}
