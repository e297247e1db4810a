package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"werk/config"
	"werk/engine"
	"werk/steps"
	"werk/tui"
)

// shellFlags are the options of werk shell.
type shellFlags struct {
	pipeline pipelineFlags
	cmd      string
	tui      bool
}

func newShellCommand() *cobra.Command {
	var f shellFlags
	cmd := &cobra.Command{
		Use:   "shell [DIR]",
		Short: "Open a shell in a fresh box of the pipeline, with the project mounted and no steps run",
		Long: "werk shell starts the pipeline's box and services as a run would, mounts the project at the " +
			"source directory, and attaches an interactive shell (bash when the box has it, else sh) to your " +
			"terminal. Leaving the shell removes the box. Without --tui, werk exits with the shell's exit status.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			return runShell(cmd, dir, &f)
		},
	}
	fl := cmd.Flags()
	p := &f.pipeline
	fl.StringVar(&p.pipeline, "pipeline", "build", "the wercker.yml pipeline whose box and services start")
	fl.StringVar(&p.workingDir, "working-dir", "", "werk's working directory for cache and logs (default: .werk in the project)")
	fl.StringVar(&p.werckerYML, "wercker-yml", "", "read this file instead of the project's wercker.yml")
	fl.StringVar(&p.dockerHost, "docker-host", "", "Docker engine endpoint (default: DOCKER_HOST, else the local socket)")
	fl.StringVar(&p.pull, "pull", string(engine.PullMissing), "when to pull images: always, missing or never")
	fl.BoolVar(&p.dockerLocal, "docker-local", false, "never pull images (same as --pull never)")
	fl.StringVar(&p.environment, "environment", os.Getenv("WERCKER_ENVIRONMENT_FILE"), "read extra KEY=VALUE variables from this file (X_NAME reaches the shell as NAME)")
	fl.StringVar(&f.cmd, "cmd", "", "the shell to start, such as \"sh -l\" (default: bash when the box has it, else sh)")
	fl.BoolVar(&f.tui, "tui", false, "show the shell in a pane of the terminal UI instead of attaching the terminal directly")
	return cmd
}

// runShell runs the pipeline's box with one internal/shell step.
func runShell(cmd *cobra.Command, dir string, f *shellFlags) error {
	projectDir, err := filepath.Abs(dir)
	if err != nil {
		return &exitError{code: exitFailed, err: err}
	}
	if st, err := os.Stat(projectDir); err != nil || !st.IsDir() {
		return &exitError{code: exitFailed, err: fmt.Errorf("project directory %q not found", dir)}
	}
	withTUI := f.tui && useTUI(cmd.OutOrStdout(), false)
	if !withTUI && !haveTerminal() {
		return &exitError{code: exitUsage, err: fmt.Errorf("werk shell: %w", engine.ErrNoTerminal)}
	}
	p := &f.pipeline
	workingDir := p.workingDir
	if workingDir == "" {
		workingDir = filepath.Join(projectDir, ".werk")
	}
	if workingDir, err = filepath.Abs(workingDir); err != nil {
		return &exitError{code: exitFailed, err: err}
	}
	pull, err := engine.ParsePullPolicy(p.pull)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	if p.dockerLocal {
		pull = engine.PullNever
	}
	file, pipeline, err := loadPipeline(projectDir, p)
	if err != nil {
		return &exitError{code: exitFailed, err: err}
	}
	project := steps.Project{Dir: projectDir, WorkingDir: workingDir}
	shellStep := config.Step{ID: "internal/shell", Owner: "internal", Name: "shell", DisplayName: "shell", Pos: pipeline.Pos}
	if f.cmd != "" {
		shellStep.Options = []config.Option{{Key: "cmd", Value: f.cmd, Pos: pipeline.Pos}}
	}
	step, err := steps.Build(shellStep, project)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	ctx := context.Background()
	hostEnv, docker, closeRun, err := prepareRun(ctx, workingDir, p.environment, p.dockerHost)
	if err != nil {
		return err
	}
	defer closeRun()

	opts := engine.Options{
		Command:     "shell",
		ProjectDir:  projectDir,
		WorkingDir:  workingDir,
		File:        file,
		Pipeline:    pipeline,
		Pull:        pull,
		DirectMount: true,
		HostEnv:     hostEnv,
		Timeouts:    engine.Timeouts{},
	}
	if withTUI {
		return runWithTUI(cmd, &tuiPipeline{
			docker: docker, opts: opts, main: []engine.Step{step},
			limits: tui.Limits{StepLines: tui.DefaultStepLines, StepBytes: tui.DefaultStepBytes},
		})
	}
	opts.Terminals = rawTerminalHost{}

	result, err := runPlain(ctx, cmd.OutOrStdout(), docker, opts, []engine.Step{step}, nil)
	if err != nil {
		return err
	}
	if result.ExitCode == 0 {
		return nil
	}
	// The shell's own exit status, when it failed the step.
	var se *engine.StepError
	if result.Result == engine.ResultFailed && errors.As(result.Err, &se) && se.Code > 0 {
		return &exitError{code: se.Code}
	}
	return &exitError{code: result.ExitCode}
}
