package config

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// builtinSteps are the internal/* steps that wercker implemented.
var builtinSteps = []string{
	"internal/docker-build",
	"internal/docker-kill",
	"internal/docker-push",
	"internal/docker-run",
	"internal/docker-scratch-push",
	"internal/publish-step",
	"internal/shell",
	"internal/store-container",
	"internal/watch",
}

// checkBuiltin validates the options of internal/* steps that Parse can check
// without running anything. at is the position of the step id.
func (p *parser) checkBuiltin(s *Step, at *yaml.Node) {
	if s.Kind() == StepScript {
		p.checkScript(s, at)
		return
	}
	if s.Owner != "internal" {
		return
	}
	id := "internal/" + s.Name
	if !isBuiltin(id) {
		p.warnf(at, "the built-in steps are "+strings.Join(builtinSteps, ", "),
			"unknown built-in step %q", s.ID)
		return
	}
	switch id {
	case "internal/watch":
		p.checkBoolOption(s, "reload")
	case "internal/docker-push", "internal/docker-scratch-push":
		if value, _ := s.Option("repository"); strings.TrimSpace(value) == "" {
			p.errs = append(p.errs, &Error{
				Pos:  s.Pos,
				Msg:  fmt.Sprintf("step %q needs the option \"repository\"", s.ID),
				Hint: "add `repository: owner/image` under the step",
			})
		}
	}
}

func isBuiltin(id string) bool {
	for _, b := range builtinSteps {
		if b == id {
			return true
		}
	}
	return false
}

// checkBoolOption reports an option whose value is set but is not a boolean
// word that ParseBool accepts.
func (p *parser) checkBoolOption(s *Step, key string) {
	value, ok := s.Option(key)
	if !ok {
		return
	}
	if _, valid := ParseBool(value); !valid {
		p.errs = append(p.errs, &Error{
			Pos:  s.OptionPos(key),
			Msg:  fmt.Sprintf("option %q of step %q must be true or false, not %q", key, s.ID, value),
			Hint: "write true or false",
		})
	}
}

// checkScript warns about a script step without code and about options a
// script step does not read, which are usually misspelt keys.
func (p *parser) checkScript(s *Step, at *yaml.Node) {
	if _, ok := s.Option("code"); !ok {
		p.warnf(at, "add `code: |` with the commands to run", "script step %q has no code and does nothing", s.DisplayName)
	}
	for _, o := range s.Options {
		if o.Key == "code" {
			continue
		}
		hint := "script steps read only code, name and cwd; other options only become WERCKER_SCRIPT_* variables"
		if guess := suggestKey(o.Key, []string{"code", "name", "cwd"}); guess != "" {
			hint = fmt.Sprintf("did you mean %q?", guess)
		}
		p.warnings = append(p.warnings, &Error{Pos: o.Pos, Msg: fmt.Sprintf("script step %q has the option %q, which it does not use", s.DisplayName, o.Key), Hint: hint})
	}
}
