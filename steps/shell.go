package steps

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"mvdan.cc/sh/v3/shell"

	"werk/config"
	"werk/engine"
)

func init() { RegisterInternal("shell", newShell) }

// shellOptions are the options internal/shell takes besides name and cwd.
var shellOptions = []string{"cmd", "code", "ignore-exit"}

// shellStep is internal/shell: an interactive shell in the box, on the
// terminal pane of the TUI or on the user's terminal. The step's status is
// the shell's exit status.
type shellStep struct {
	cfg config.Step
	// cmd is the shell to start; nil means bash when the box has it, else
	// sh.
	cmd        []string
	code       string
	ignoreExit bool
}

func newShell(s config.Step, _ Project) (engine.Step, error) {
	st := &shellStep{cfg: s}
	for _, o := range s.Options {
		if !slices.Contains(shellOptions, o.Key) {
			return nil, fmt.Errorf("%s: step %q has no option %q; it takes %s, name and cwd",
				o.Pos, s.ID, o.Key, strings.Join(shellOptions, ", "))
		}
	}
	if value, ok := s.Option("cmd"); ok {
		words, err := shell.Fields(value, func(string) string { return "" })
		if err != nil || len(words) == 0 {
			return nil, fmt.Errorf("%s: step %q: invalid cmd %q: write a command such as /bin/bash or \"sh -l\"", s.OptionPos("cmd"), s.ID, value)
		}
		st.cmd = words
	}
	if code, ok := s.Option("code"); ok {
		code = strings.ReplaceAll(code, "\r\n", "\n")
		if strings.TrimSpace(code) != "" && !strings.HasSuffix(code, "\n") {
			code += "\n"
		}
		st.code = code
	}
	if value, ok := s.Option("ignore-exit"); ok {
		ignore, valid := config.ParseBool(value)
		if !valid {
			return nil, fmt.Errorf("%s: step %q: invalid ignore-exit %q: write true or false", s.OptionPos("ignore-exit"), s.ID, value)
		}
		st.ignoreExit = ignore
	}
	return st, nil
}

func (s *shellStep) Info() engine.StepInfo {
	return engine.StepInfo{ID: s.cfg.ID, Name: s.cfg.DisplayName}
}

// Run opens a terminal, starts the shell in the source directory (or the
// step's cwd) with the environment earlier steps exported, types the code,
// and waits until the user exits the shell.
func (s *shellStep) Run(ctx context.Context, sc *engine.StepContext) error {
	host := sc.Run.Terminals
	if host == nil {
		return fmt.Errorf("%s: internal/shell needs an interactive terminal, and %w", s.cfg.Pos, engine.ErrNoTerminal)
	}
	env, err := sc.Box.CaptureEnv(ctx)
	if err != nil {
		return fmt.Errorf("reading the environment for the shell: %w", err)
	}
	cmd := s.cmd
	if cmd == nil {
		cmd = sc.Box.DefaultShell(ctx)
	}
	dir := env["WERCKER_SOURCE_DIR"]
	if dir == "" {
		dir = sc.Box.SourceDir
	}
	if s.cfg.Cwd != "" {
		dir = guestDir(dir, sc.Env.Expand(s.cfg.Cwd))
	}

	term, err := host.OpenTerminal(ctx, s.cfg.DisplayName)
	if err != nil {
		if errors.Is(err, engine.ErrNoTerminal) {
			return fmt.Errorf("%s: internal/shell needs an interactive terminal, and %w", s.cfg.Pos, err)
		}
		return fmt.Errorf("opening a terminal for the shell: %w", err)
	}
	defer term.Close()
	sc.Logf("werk: %s runs in a terminal; the step ends when it exits", strings.Join(cmd, " "))
	code, err := sc.Box.RunInteractive(ctx, term, engine.InteractiveOptions{Cmd: cmd, Env: engine.EnvList(env), WorkingDir: dir, Input: s.code})
	if err != nil {
		return err
	}
	sc.Logf("werk: the shell exited with status %d", code)
	if code != 0 && !s.ignoreExit {
		return &engine.StepError{Code: code, Msg: fmt.Sprintf("the shell exited with status %d", code)}
	}
	return nil
}

// guestDir resolves cwd against the source directory, as the step shell
// does: an absolute cwd stands alone.
func guestDir(source, cwd string) string {
	if strings.HasPrefix(cwd, "/") {
		return cwd
	}
	return strings.TrimSuffix(source, "/") + "/" + cwd
}
