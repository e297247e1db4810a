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
