// Package steps builds the runnable steps of a pipeline from wercker.yml
// entries: the inline script step, local step directories, and werk's
// internal/* steps. Each kind implements engine.Step.
package steps

import (
	"fmt"
	"strings"

	"werk/config"
	"werk/engine"
)

// Project is the location of the project and its local steps.
type Project struct {
	// Dir is the project directory on the host.
	Dir string
	// WorkingDir is werk's working directory (.werk by default).
	WorkingDir string
}

// Builder makes an engine.Step for an internal/* step id.
type Builder func(s config.Step, p Project) (engine.Step, error)

// internalSteps maps internal step names ("watch") to their builders.
var internalSteps = map[string]Builder{}

// RegisterInternal adds the builder of internal/name.
func RegisterInternal(name string, b Builder) { internalSteps[name] = b }

// Build returns the runnable step for one wercker.yml entry.
func Build(s config.Step, p Project) (engine.Step, error) {
	switch s.Kind() {
	case config.StepScript:
		return newScript(s)
	case config.StepInternal:
		b, ok := internalSteps[s.Name]
		if !ok {
			return nil, fmt.Errorf("%s: unknown internal step %q; werk has %s", s.Pos, s.ID, internalNames())
		}
		return b(s, p)
	default:
		return newLocal(s, p)
	}
}

// BuildAll builds a list of steps, collecting every error.
func BuildAll(list []config.Step, p Project) ([]engine.Step, error) {
	var out []engine.Step
	var errs []string
	for _, s := range list {
		st, err := Build(s, p)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		out = append(out, st)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return out, nil
}

func internalNames() string {
	names := make([]string, 0, len(internalSteps))
	for n := range internalSteps {
		names = append(names, "internal/"+n)
	}
	if len(names) == 0 {
		return "none"
	}
	sortStrings(names)
	return strings.Join(names, ", ")
}

// optionVars returns the WERCKER_<STEP>_<OPTION> variables of a step: the
// step name (not owner or version) and the option key joined with _, dashes
// as underscores, upper case. code is not exported, as in wercker.
func optionVars(stepName string, opts []config.Option) []engine.EnvVarPair {
	prefix := "WERCKER_" + envName(stepName) + "_"
	var out []engine.EnvVarPair
	for _, o := range opts {
		if o.Key == "code" {
			continue
		}
		out = append(out, engine.EnvVarPair{Name: prefix + envName(o.Key), Value: o.Value})
	}
	return out
}

func envName(s string) string {
	return strings.ToUpper(strings.ReplaceAll(s, "-", "_"))
}
