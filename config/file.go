package config

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// reservedTopLevel are the top-level keys that contain settings. Every other
// top-level key names a pipeline.
var reservedTopLevel = []string{
	"box", "services", "command-timeout", "no-response-timeout",
	"source-dir", "ignore-file", "workflows",
}

// parseFile builds the File from the top-level map. Settings are read before
// pipelines because a pipeline falls back to the top-level box and services,
// which may come later in the file.
func (p *parser) parseFile(root *yaml.Node) *File {
	f := &File{Path: p.path, Pipelines: map[string]*Pipeline{}}
	var pipelines []entry
	var workflows *entry
	for _, e := range p.entries(root) {
		switch e.key {
		case "box":
			f.Box = p.parseMainBox(e)
		case "services":
			f.Services = p.parseServices(e)
		case "command-timeout":
			f.CommandTimeout = p.parseMinutes(e)
		case "no-response-timeout":
			f.NoResponseTimeout = p.parseMinutes(e)
		case "source-dir":
			f.SourceDir, _ = p.stringOf(e.value, fmt.Sprintf("%q", e.key))
		case "ignore-file":
			f.IgnoreFile, _ = p.stringOf(e.value, fmt.Sprintf("%q", e.key))
		case "workflows":
			workflows = &e
		default:
			pipelines = append(pipelines, e)
		}
	}

	for _, e := range pipelines {
		if pl := p.parsePipeline(e, f); pl != nil {
			f.Pipelines[pl.Name] = pl
			f.PipelineNames = append(f.PipelineNames, pl.Name)
		}
	}
	if workflows != nil {
		f.Workflows = p.parseWorkflows(*workflows, f)
	}
	return f
}

// stringOf returns the text of a scalar, "" for null, and records an error
// naming subject for a map or a list.
func (p *parser) stringOf(n *yaml.Node, subject string) (string, bool) {
	if isScalar(n) {
		return scalarText(n), true
	}
	p.errorf(n, "", "%s must be a string, not %s", subject, kindName(n))
	return "", false
}

// maxMinutes keeps a timeout within what time.Duration can hold.
var maxMinutes = float64(math.MaxInt64) / float64(time.Minute)

// parseMinutes reads command-timeout or no-response-timeout, written as a
// number of minutes. The value is kept as written, so the 60-minute cap that
// wercker applied is left to the runner.
func (p *parser) parseMinutes(e entry) time.Duration {
	n := e.value
	if isNull(n) {
		return 0
	}
	hint := fmt.Sprintf("write the number of minutes, as in `%s: 30`", e.key)
	if !isScalar(n) {
		p.errorf(n, hint, "%q must be a number of minutes, not %s", e.key, kindName(n))
		return 0
	}
	var minutes float64
	tag := n.ShortTag()
	if (tag != "!!int" && tag != "!!float") || n.Decode(&minutes) != nil {
		p.errorf(n, hint, "%q must be a number of minutes, not %q", e.key, n.Value)
		return 0
	}
	if !(minutes > 0) || minutes > maxMinutes {
		p.errorf(n, hint, "%q must be a number of minutes greater than 0, not %s", e.key, n.Value)
		return 0
	}
	return time.Duration(minutes * float64(time.Minute))
}

// Pipeline returns the pipeline called name, checked for what a run needs:
// it fails when the name is not defined or when the pipeline has no box.
func (f *File) Pipeline(name string) (*Pipeline, error) {
	base := "wercker.yml"
	if f.Path != "" {
		base = filepath.Base(f.Path)
	}
	pl, ok := f.Pipelines[name]
	if !ok {
		defined := "it defines no pipelines"
		if len(f.PipelineNames) > 0 {
			defined = "it defines: " + strings.Join(f.PipelineNames, ", ")
		}
		return nil, &Error{
			Pos:  Pos{File: f.Path},
			Msg:  fmt.Sprintf("pipeline %q not found in %s; %s", name, base, defined),
			Hint: "pipeline names are the top-level keys other than " + strings.Join(reservedTopLevel, ", "),
		}
	}
	if pl.Box == nil {
		return nil, &Error{
			Pos:  pl.Pos,
			Msg:  fmt.Sprintf("no box: pipeline %q has no box and %s has no top-level box", name, base),
			Hint: "add `box: IMAGE` at the top level or inside the pipeline",
		}
	}
	return pl, nil
}
