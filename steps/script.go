package steps

import (
	"context"
	"strings"

	"werk/config"
	"werk/engine"
)

// script is the inline script step: its code becomes run.sh, sourced into
// the step shell.
type script struct {
	cfg  config.Step
	code string
}

func newScript(s config.Step) (engine.Step, error) {
	code, _ := s.Option("code")
	return &script{cfg: s, code: scriptBody(code)}, nil
}

// scriptBody normalises line endings and prepends set -e, unless the code
// starts with #!, as wercker did. A #! line does not change the interpreter:
// the code is still sourced by the step shell.
func scriptBody(code string) string {
	code = strings.ReplaceAll(code, "\r\n", "\n")
	if strings.HasPrefix(code, "#!") {
		return code + "\n"
	}
	return "set -e\n" + code + "\n"
}

func (s *script) Info() engine.StepInfo {
	return engine.StepInfo{ID: s.cfg.ID, Name: s.cfg.DisplayName}
}

func (s *script) Run(ctx context.Context, sc *engine.StepContext) error {
	return sc.Box.RunShellStep(ctx, sc, engine.ShellStep{
		Files: map[string][]byte{"run.sh": []byte(s.code)},
		Vars: []engine.EnvVarPair{
			{Name: "WERCKER_STEP_OWNER", Value: s.cfg.Owner},
			{Name: "WERCKER_STEP_NAME", Value: s.cfg.Name},
		},
		Options: optionVars(s.cfg.Name, s.cfg.Options),
		Cwd:     s.cfg.Cwd,
	})
}
