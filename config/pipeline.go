package config

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// reservedPipelineKeys are the pipeline keys with a fixed meaning. Every other
// key of a pipeline is a deploy target.
var reservedPipelineKeys = []string{"box", "services", "steps", "after-steps", "base-path", "docker"}

// parsePipeline reads one top-level key that is not a setting. The pipeline
// gets the top-level box and services unless it has its own.
func (p *parser) parsePipeline(e entry, f *File) *Pipeline {
	if !p.checkPipelineValue(e) {
		return nil
	}
	pl := &Pipeline{Name: e.key, Pos: p.posOf(e.keyNode), Targets: map[string][]Step{}}
	var services []Box
	for _, field := range p.entries(e.value) {
		switch field.key {
		case "box":
			pl.Box = p.parseMainBox(field)
		case "services":
			services = p.parseServices(field)
		case "steps":
			pl.Steps = p.parseStepList(field.value, fmt.Sprintf("steps of pipeline %q", pl.Name))
		case "after-steps":
			pl.AfterSteps = p.parseStepList(field.value, fmt.Sprintf("after-steps of pipeline %q", pl.Name))
		case "base-path":
			pl.BasePath = p.parseBasePath(field)
		case "docker":
			pl.Docker = p.parseFlag(field, fmt.Sprintf("%q of pipeline %q", field.key, pl.Name))
		default:
			p.parseTarget(pl, field)
		}
	}

	if pl.Box == nil {
		pl.Box = f.Box
	}
	pl.Services = services
	if len(services) == 0 {
		pl.Services = f.Services
	}
	p.checkServiceAliases(pl)
	if len(pl.Steps) == 0 && len(pl.TargetNames) == 0 {
		p.warnf(e.keyNode, "add `steps:` with a list of steps", "pipeline %q has no steps", pl.Name)
	}
	return pl
}

// checkPipelineValue reports a pipeline key whose value is not a map. wercker
// dropped such keys silently, which hid typos in setting names.
func (p *parser) checkPipelineValue(e entry) bool {
	switch {
	case isMap(e.value):
		return true
	case isNull(e.value):
		p.errorf(e.keyNode, "add `steps:` with a list of steps, or remove the key",
			"pipeline %q is empty", e.key)
	default:
		hint := "top-level keys other than " + strings.Join(reservedTopLevel, ", ") + " name pipelines"
		if s := suggestKey(e.key, reservedTopLevel); s != "" {
			hint = fmt.Sprintf("did you mean the setting %q?", s)
		}
		p.errorf(e.keyNode, hint, "pipeline %q must be a map with steps, not %s", e.key, kindName(e.value))
	}
	return false
}

// parseTarget reads a pipeline key that is not reserved: a deploy target,
// selected instead of steps by --deploy-target.
func (p *parser) parseTarget(pl *Pipeline, e entry) {
	where := fmt.Sprintf("deploy target %q of pipeline %q", e.key, pl.Name)
	if !isList(e.value) && !isNull(e.value) {
		hint := "pipeline keys other than " + strings.Join(reservedPipelineKeys, ", ") + " are deploy targets, which contain a list of steps"
		if s := suggestKey(e.key, reservedPipelineKeys); s != "" {
			hint = fmt.Sprintf("did you mean %q?", s)
		}
		p.errorf(e.keyNode, hint, "%s must be a list of steps, not %s", where, kindName(e.value))
		return
	}
	if isNull(e.value) {
		p.warnf(e.keyNode, "", "%s has no steps", where)
	}
	pl.Targets[e.key] = p.parseStepList(e.value, where)
	pl.TargetNames = append(pl.TargetNames, e.key)
}

// parseStepList reads a list of step entries. where names the list in
// messages, as in `steps of pipeline "build"`.
func (p *parser) parseStepList(n *yaml.Node, where string) []Step {
	if isNull(n) {
		return nil
	}
	if !isList(n) {
		p.errorf(n, "start each step on its own line with `- `, as in `- script:`",
			"%s must be a list of steps, not %s", where, kindName(n))
		return nil
	}
	var steps []Step
	for _, item := range n.Content {
		if s := p.parseStep(item); s != nil {
			steps = append(steps, *s)
		}
	}
	return steps
}

// parseBasePath reads base-path, which must be absolute. A trailing slash is
// removed, as wercker did.
func (p *parser) parseBasePath(e entry) string {
	path, ok := p.stringOf(e.value, `"base-path"`)
	if !ok || path == "" {
		return ""
	}
	hint := "use an absolute guest path, as in `base-path: /go/src/github.com/me/app`"
	if !strings.HasPrefix(path, "/") {
		p.errorf(e.value, hint, "base-path %q must be an absolute path", path)
		return ""
	}
	trimmed := strings.TrimRight(path, "/")
	if trimmed == "" {
		p.errorf(e.value, hint, "base-path %q must not be the root directory", path)
		return ""
	}
	return trimmed
}

// parseFlag reads a boolean setting that subject names in messages.
func (p *parser) parseFlag(e entry, subject string) bool {
	if isNull(e.value) {
		return false
	}
	text, ok := p.stringOf(e.value, subject)
	if !ok {
		return false
	}
	value, ok := ParseBool(text)
	if !ok {
		p.errorf(e.value, "write true or false", "%s must be true or false, not %q", subject, text)
	}
	return value
}

// ParseBool reads a boolean word in any letter case: true, false, yes, no,
// on, off, t, f, y, n, 1 or 0. The set covers the YAML 1.1 booleans that
// wercker's YAML library accepted and the words strconv.ParseBool accepts.
// Step runners use it for options such as the reload of internal/watch, whose
// text Parse keeps as written.
func ParseBool(text string) (value, ok bool) {
	switch strings.ToLower(strings.TrimSpace(text)) {
	case "true", "yes", "on", "t", "y", "1":
		return true, true
	case "false", "no", "off", "f", "n", "0":
		return false, true
	default:
		return false, false
	}
}

// checkServiceAliases reports two services of a pipeline with the same
// network alias: steps could not tell them apart, and their containers
// would have the same name.
func (p *parser) checkServiceAliases(pl *Pipeline) {
	seen := map[string]bool{}
	for i := range pl.Services {
		svc := &pl.Services[i]
		alias := svc.Alias()
		if seen[alias] {
			p.errs = append(p.errs, &Error{
				Pos:  svc.Pos,
				Msg:  fmt.Sprintf("pipeline %q has two services with the alias %q", pl.Name, alias),
				Hint: "give each service its own `name:`",
			})
		}
		seen[alias] = true
	}
}
