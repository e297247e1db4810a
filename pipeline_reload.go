package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"werk/config"
	"werk/engine"
	"werk/steps"
)

// pipelineConfig is wercker.yml as loaded at one moment: the selected
// pipeline with freshly built steps, and the step limits the file sets.
type pipelineConfig struct {
	file     *config.File
	pipeline *config.Pipeline
	main     []engine.Step
	after    []engine.Step
	timeouts engine.Timeouts
}

// apply makes opts run c's pipeline.
func (c *pipelineConfig) apply(opts *engine.Options) {
	opts.File, opts.Pipeline, opts.Timeouts = c.file, c.pipeline, c.timeouts
}

// pipelineLoader loads wercker.yml and builds the selected pipeline's steps.
// werk loads once at start and again before every restart, so a restart runs
// the file as it is then, and no state of the last run's steps carries over.
type pipelineLoader struct {
	cmd        *cobra.Command
	flags      *pipelineFlags
	projectDir string
	project    steps.Project
}

func (l *pipelineLoader) load() (*pipelineConfig, error) {
	file, pipeline, err := loadPipeline(l.projectDir, l.flags)
	if err != nil {
		return nil, err
	}
	target := l.flags.deployTarget
	mainSteps, err := steps.BuildAll(pipeline.StepsFor(target), l.project)
	if err != nil {
		return nil, err
	}
	afterSteps, err := steps.BuildAll(pipeline.AfterSteps, l.project)
	if err != nil {
		return nil, err
	}
	if _, ok := pipeline.Targets[target]; target != "" && !ok && len(pipeline.TargetNames) > 0 {
		// A typo must not deploy the default steps. A pipeline without
		// targets runs its steps, as wercker did; runPipeline warns then.
		return nil, fmt.Errorf("pipeline %q has no deploy target %q; its targets are %s",
			pipeline.Name, target, strings.Join(pipeline.TargetNames, ", "))
	}
	return &pipelineConfig{
		file:     file,
		pipeline: pipeline,
		main:     mainSteps,
		after:    afterSteps,
		timeouts: timeouts(l.cmd, l.flags, file),
	}, nil
}

// configName returns the base name of the wercker.yml at path, for messages.
func configName(path string) string {
	if path == "" {
		return "wercker.yml"
	}
	return filepath.Base(path)
}

// restartingPipeline runs a pipeline with plain output under
// --restart-on-config-change: each time wercker.yml changes and loads, the
// run stops, its containers are removed, and a new run starts with the new
// file. A change that does not load leaves the run going.
type restartingPipeline struct {
	cmd    *cobra.Command
	docker *engine.Docker
	opts   engine.Options
	config *pipelineConfig
	loader *pipelineLoader
}

// run runs the pipeline until a run ends without a restart request, and
// returns the error for werk's exit status.
func (p *restartingPipeline) run() error {
	out, errOut := p.cmd.OutOrStdout(), p.cmd.ErrOrStderr()
	ctrl := &restartController{}
	stopSignals := handleSignals(ctrl.interrupt)
	defer stopSignals()

	for {
		result, err := p.runOnce(ctrl, out)
		if err != nil {
			return err
		}
		next := ctrl.takeRestart()
		if next == nil {
			if result.ExitCode != 0 {
				return &exitError{code: result.ExitCode}
			}
			return nil
		}
		for _, w := range next.file.Warnings {
			fmt.Fprintf(errOut, "werk: warning: %v\n", w)
		}
		slog.Info("restarting the pipeline for a changed config", "config", next.file.Path)
		fmt.Fprintf(out, "werk: restarting the pipeline because %s changed\n", configName(next.file.Path))
		next.apply(&p.opts)
		p.config = next
	}
}

// runOnce runs the pipeline once. While it runs, a valid ConfigChanged loads
// wercker.yml again and, when that works, stops the run for a restart.
func (p *restartingPipeline) runOnce(ctrl *restartController, out io.Writer) (engine.RunFinished, error) {
	bus := engine.NewBus(nil)
	runner := engine.NewRunner(p.docker, bus, p.opts, p.config.main, p.config.after)
	slog.Info("run starting", "run", runner.Info().ID, "command", p.opts.Command, "pipeline", p.opts.Pipeline.Name, "project", p.opts.ProjectDir)
	logFile, err := openRunLog(p.opts.WorkingDir, runner.Info().ID)
	if err != nil {
		return engine.RunFinished{}, &exitError{code: exitFailed, err: err}
	}
	defer logFile.Close()

	done := consume(bus, out, logFile, true)
	stopWatching := p.restartOnConfigChange(bus, ctrl)
	// A signal between two runs ends werk before the next run starts.
	result := engine.RunFinished{Result: engine.ResultInterrupted, ExitCode: exitInterrupted, Err: engine.ErrInterrupted}
	if ctrl.start(runner) {
		result = runner.Run(context.Background())
		ctrl.finish()
	}
	stopWatching()
	bus.Close()
	<-done
	slog.Info("run finished", "run", runner.Info().ID, "result", result.Result.String(), "status", result.ExitCode)
	return result, nil
}

// restartOnConfigChange follows the run's events. On a valid ConfigChanged
// it loads wercker.yml again: when that works, it requests from ctrl a restart
// with the new pipeline; when it fails (the file changed again in between),
// it reports the error on the bus and the run goes on. Call stop before
// closing the bus: it returns once no reload is in progress.
func (p *restartingPipeline) restartOnConfigChange(bus *engine.Bus, ctrl *restartController) (stop func()) {
	// Lossy, because only ConfigChanged matters here and a reload must not
	// hold up the run's log lines.
	sub := bus.Subscribe(64, true)
	// changes contains at most one pending path: a reload reads the file as it
	// is then, so later changes in the meantime need no reload of their own.
	changes := make(chan string, 1)
	go func() {
		for e := range sub.C {
			if changed, ok := e.(engine.ConfigChanged); ok && changed.Err == nil {
				select {
				case changes <- changed.Path:
				default:
				}
			}
		}
	}()

	// Reloads run on their own goroutine, so the one above keeps draining
	// sub while a reload publishes its error.
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			case path := <-changes:
				next, err := p.loader.load()
				if err != nil {
					slog.Warn("config reload failed", "config", path, "err", err)
					bus.Publish(engine.Notice{Level: engine.NoticeError, Time: time.Now(),
						Text: fmt.Sprintf("%s not applied, so the running pipeline goes on unchanged: %v", configName(path), err)})
					continue
				}
				ctrl.requestRestart(next)
			}
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}

// restartController carries restart requests and signals to the current
// run. A signal cancels any pending restart and ends the loop.
type restartController struct {
	mu     sync.Mutex
	runner *engine.Runner
	// next is the pipeline of the requested restart; nil when none is.
	next     *pipelineConfig
	quitting bool
}

// start records r as the current run. It returns false when a signal came
// before: then r must not run.
func (c *restartController) start(r *engine.Runner) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.quitting {
		return false
	}
	c.runner = r
	return true
}

func (c *restartController) finish() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.runner = nil
}

// requestRestart stops the current run so that the next one runs cfg. A
// later request before the run has ended replaces cfg and stops nothing
// more.
func (c *restartController) requestRestart(cfg *pipelineConfig) {
	c.mu.Lock()
	if c.quitting || c.runner == nil {
		c.mu.Unlock()
		return
	}
	first := c.next == nil
	c.next = cfg
	r := c.runner
	c.mu.Unlock()
	if first {
		r.Stop()
	}
}

// takeRestart returns the pipeline of the requested restart and clears the
// request; nil when none is pending.
func (c *restartController) takeRestart() *pipelineConfig {
	c.mu.Lock()
	defer c.mu.Unlock()
	next := c.next
	c.next = nil
	if c.quitting {
		return nil
	}
	return next
}

// interrupt cancels any restart and interrupts the current run. It returns
// true when the interrupt forced a kill.
func (c *restartController) interrupt() bool {
	c.mu.Lock()
	c.quitting = true
	c.next = nil
	r := c.runner
	c.mu.Unlock()
	if r == nil {
		return false
	}
	return r.Interrupt()
}
