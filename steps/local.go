package steps

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"werk/config"
	"werk/engine"
)

// LocalStepsDir is the directory of a project's own steps, one subdirectory per
// step, relative to the project directory.
const LocalStepsDir = ".wercker/steps"

// local is a registry-style step run from a directory on the host that holds
// run.sh, and optionally init.sh and step.yml.
type local struct {
	cfg      config.Step
	dir      string
	defaults []property
}

// property is one entry of step.yml's properties.
type property struct {
	Name     string `yaml:"name"`
	Default  string `yaml:"default"`
	Required bool   `yaml:"required"`
	Type     string `yaml:"type"`
}

// manifest is the part of step.yml werk reads.
type manifest struct {
	Name       string    `yaml:"name"`
	Version    string    `yaml:"version"`
	Properties yaml.Node `yaml:"properties"`
}

func newLocal(s config.Step, p Project) (engine.Step, error) {
	dir, err := findStepDir(s, p)
	if err != nil {
		return nil, err
	}
	if !fileExists(filepath.Join(dir, "run.sh")) && !fileExists(filepath.Join(dir, "init.sh")) {
		return nil, fmt.Errorf("%s: step %q: %s has no run.sh, so the step would do nothing; "+
			"put the step's commands in %s", s.Pos, s.ID, dir, filepath.Join(dir, "run.sh"))
	}
	props, err := readManifest(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: step %q: %w", s.Pos, s.ID, err)
	}
	for _, prop := range props {
		if _, set := s.Option(prop.Name); prop.Required && !set && prop.Default == "" {
			return nil, fmt.Errorf("%s: step %q needs the option %q (required in %s)", s.Pos, s.ID, prop.Name, filepath.Join(dir, "step.yml"))
		}
	}
	return &local{cfg: s, dir: dir, defaults: props}, nil
}

// stepDirCandidates lists where a step may live, in search order.
func stepDirCandidates(s config.Step, p Project) []string {
	var names []string
	if s.Version != "" {
		names = append(names, s.Owner+"-"+s.Name+"@"+s.Version, s.Name+"@"+s.Version)
	}
	names = append(names, s.Owner+"-"+s.Name, s.Name)
	var dirs []string
	for _, base := range []string{filepath.Join(p.Dir, LocalStepsDir), filepath.Join(p.WorkingDir, "steps")} {
		for _, n := range names {
			dirs = append(dirs, filepath.Join(base, n))
		}
	}
	return dirs
}

func findStepDir(s config.Step, p Project) (string, error) {
	if s.URL != "" {
		return urlStepDir(s, p)
	}
	candidates := stepDirCandidates(s, p)
	for _, dir := range candidates {
		if isDir(dir) {
			return dir, nil
		}
	}
	rel := make([]string, 0, 2)
	for _, c := range candidates[:2] {
		if r, err := filepath.Rel(p.Dir, c); err == nil {
			c = r
		}
		rel = append(rel, c)
	}
	return "", fmt.Errorf("%s: step %q is not available locally, and the public wercker step registry no longer exists: "+
		"put the step's files (run.sh and step.yml) in %s, or point at a directory with `%s \"file://path/to/step\"`",
		s.Pos, s.ID, strings.Join(rel, " or "), s.Name)
}

// urlStepDir resolves a file:// step URL; relative paths are relative to the
// project directory.
func urlStepDir(s config.Step, p Project) (string, error) {
	rest, ok := strings.CutPrefix(s.URL, "file://")
	if !ok {
		return "", fmt.Errorf("%s: step %q: only file:// step URLs are supported, not %q; download the step and use file://", s.Pos, s.ID, s.URL)
	}
	dir := rest
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(p.Dir, dir)
	}
	if !isDir(dir) {
		return "", fmt.Errorf("%s: step %q: directory %s of %q not found", s.Pos, s.ID, dir, s.URL)
	}
	return dir, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// readManifest returns the properties of dir/step.yml. wercker used a list
// of {name, default, ...}; the older map form {name: {default: ...}} is read
// too, where wercker silently ignored it.
func readManifest(dir string) ([]property, error) {
	data, err := os.ReadFile(filepath.Join(dir, "step.yml"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("reading %s: %w", filepath.Join(dir, "step.yml"), err)
	}
	switch m.Properties.Kind {
	case 0:
		return nil, nil
	case yaml.SequenceNode:
		var props []property
		if err := m.Properties.Decode(&props); err != nil {
			return nil, fmt.Errorf("step.yml properties: %w", err)
		}
		return props, nil
	case yaml.MappingNode:
		var byName map[string]property
		if err := m.Properties.Decode(&byName); err != nil {
			return nil, fmt.Errorf("step.yml properties: %w", err)
		}
		names := make([]string, 0, len(byName))
		for n := range byName {
			names = append(names, n)
		}
		sort.Strings(names)
		props := make([]property, 0, len(names))
		for _, n := range names {
			prop := byName[n]
			prop.Name = n
			props = append(props, prop)
		}
		return props, nil
	}
	return nil, fmt.Errorf("step.yml properties must be a list, at line %d", m.Properties.Line)
}

func (l *local) Info() engine.StepInfo {
	return engine.StepInfo{ID: l.cfg.ID, Name: l.cfg.DisplayName}
}

func (l *local) Run(ctx context.Context, sc *engine.StepContext) error {
	opts := append([]config.Option(nil), l.cfg.Options...)
	for _, prop := range l.defaults {
		if _, set := l.cfg.Option(prop.Name); !set {
			opts = append(opts, config.Option{Key: prop.Name, Value: prop.Default})
		}
	}
	// code is an ordinary option for registry steps.
	vars := optionVars(l.cfg.Name, opts)
	if code, ok := l.cfg.Option("code"); ok {
		vars = append(vars, engine.EnvVarPair{Name: "WERCKER_" + envName(l.cfg.Name) + "_CODE", Value: code})
	}
	return sc.Box.RunShellStep(ctx, sc, engine.ShellStep{
		HostDir: l.dir,
		Vars: []engine.EnvVarPair{
			{Name: "WERCKER_STEP_OWNER", Value: l.cfg.Owner},
			{Name: "WERCKER_STEP_NAME", Value: l.cfg.Name},
		},
		Options: vars,
		Cwd:     l.cfg.Cwd,
	})
}

func sortStrings(s []string) { sort.Strings(s) }
