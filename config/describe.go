package config

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Describe writes a plain-text summary of f for `werk check-config`: the
// settings, then each pipeline in file order with its box, services, steps,
// after-steps and deploy targets, then the workflows. Values of options, env
// variables and box fields whose key contains PASSWORD, TOKEN or SECRET, or
// ends in _KEY or -KEY (in any case), are printed as ***. Warnings are left
// out, because callers print f.Warnings themselves. Write errors of w are ignored.
func Describe(w io.Writer, f *File) {
	var b strings.Builder
	d := describer{&b}
	d.settings(f)
	for _, name := range f.PipelineNames {
		if pl := f.Pipelines[name]; pl != nil {
			b.WriteString("\n")
			d.pipeline(pl)
		}
	}
	for i := range f.Workflows {
		b.WriteString("\n")
		d.workflow(&f.Workflows[i])
	}
	_, _ = io.WriteString(w, b.String())
}

type describer struct {
	b *strings.Builder
}

func (d describer) line(indent int, format string, args ...any) {
	d.b.WriteString(strings.Repeat("  ", indent))
	fmt.Fprintf(d.b, format, args...)
	d.b.WriteString("\n")
}

func (d describer) settings(f *File) {
	d.line(0, "file: %s", f.Path)
	if f.Box != nil {
		d.line(0, "box: %s", f.Box.Image())
	}
	if f.CommandTimeout > 0 {
		d.line(0, "command-timeout: %s", minutes(f.CommandTimeout))
	}
	if f.NoResponseTimeout > 0 {
		d.line(0, "no-response-timeout: %s", minutes(f.NoResponseTimeout))
	}
	if f.SourceDir != "" {
		d.line(0, "source-dir: %s", f.SourceDir)
	}
	if f.IgnoreFile != "" {
		d.line(0, "ignore-file: %s", f.IgnoreFile)
	}
}

func minutes(t time.Duration) string {
	return strconv.FormatFloat(t.Minutes(), 'f', -1, 64) + " minutes"
}

func (d describer) pipeline(pl *Pipeline) {
	d.line(0, "pipeline %s", pl.Name)
	if pl.Box == nil {
		d.line(1, "box: (none)")
	} else {
		d.line(1, "box: %s", pl.Box.Image())
		d.boxDetails(2, pl.Box)
	}
	if len(pl.Services) > 0 {
		d.line(1, "services:")
		for i := range pl.Services {
			s := &pl.Services[i]
			d.line(2, "- %s (alias %s)", s.Image(), s.Alias())
			d.boxDetails(3, s)
		}
	}
	if pl.BasePath != "" {
		d.line(1, "base-path: %s", pl.BasePath)
	}
	if pl.Docker {
		d.line(1, "docker: true")
	}
	d.steps("steps", pl.Steps)
	d.steps("after-steps", pl.AfterSteps)
	for _, name := range pl.TargetNames {
		d.steps("deploy target "+name, pl.Targets[name])
	}
}

// boxDetails prints the box fields that change how the container runs.
func (d describer) boxDetails(indent int, b *Box) {
	fields := []Option{
		{Key: "cmd", Value: b.Cmd},
		{Key: "entrypoint", Value: b.Entrypoint},
		{Key: "registry", Value: b.Registry},
		{Key: "username", Value: b.Username},
		{Key: "password", Value: b.Password},
		{Key: "url", Value: b.URL},
		{Key: "ports", Value: strings.Join(b.Ports, " ")},
		{Key: "volumes", Value: strings.Join(b.Volumes, " ")},
	}
	for _, o := range fields {
		if o.Value != "" {
			d.value(indent, o.Key, o.Value)
		}
	}
	if len(b.Env) > 0 {
		d.line(indent, "env:")
		for _, e := range b.Env {
			d.value(indent+1, e.Key, e.Value)
		}
	}
}

func (d describer) steps(title string, steps []Step) {
	if len(steps) == 0 {
		return
	}
	d.line(1, "%s:", title)
	for i := range steps {
		s := &steps[i]
		id := s.ID
		if s.URL != "" {
			id += " from " + s.URL
		}
		d.line(2, "%d. %s [%s]", i+1, s.DisplayName, id)
		if s.Cwd != "" {
			d.value(4, "cwd", s.Cwd)
		}
		if s.Checkpoint != "" {
			d.value(4, "checkpoint", s.Checkpoint)
		}
		for _, o := range s.Options {
			d.value(4, o.Key, o.Value)
		}
	}
}

// value prints "key: value" and masks secrets. A multi-line value is printed
// as an indented block under "key: |".
func (d describer) value(indent int, key, value string) {
	if isSecretKey(key) && value != "" {
		d.line(indent, "%s: ***", key)
		return
	}
	value = strings.TrimRight(value, "\n")
	if !strings.Contains(value, "\n") {
		d.line(indent, "%s: %s", key, value)
		return
	}
	d.line(indent, "%s: |", key)
	for _, l := range strings.Split(value, "\n") {
		if strings.TrimSpace(l) == "" {
			d.b.WriteString("\n")
			continue
		}
		d.line(indent+1, "%s", l)
	}
}

// isSecretKey reports whether a key names a credential by the rule of
// Describe.
func isSecretKey(key string) bool {
	upper := strings.ToUpper(key)
	upper = strings.ReplaceAll(upper, "-", "_")
	if upper == "KEY" || strings.HasSuffix(upper, "_KEY") {
		return true
	}
	for _, word := range []string{"PASSWORD", "TOKEN", "SECRET"} {
		if strings.Contains(upper, word) {
			return true
		}
	}
	return false
}

func (d describer) workflow(w *Workflow) {
	d.line(0, "workflow %s", w.Name)
	for _, n := range w.Pipelines {
		text := n.Name
		if n.PipelineName != n.Name {
			text += " (pipeline " + n.PipelineName + ")"
		}
		if len(n.Requires) > 0 {
			text += ", requires " + strings.Join(n.Requires, ", ")
		}
		if n.ArtifactPipeline != "" {
			text += ", artifacts from " + n.ArtifactPipeline
		}
		if n.EnvFile != "" {
			text += ", env file " + n.EnvFile
		}
		d.line(1, "- %s", text)
	}
}
