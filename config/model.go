// Package config reads wercker.yml files into a typed, validated model.
//
// It accepts every document shape the original wercker CLI accepted, but where
// wercker silently dropped a pipeline or a field on a type error, Load returns an
// *Error (or an ErrorList) that names the file, line and column, what was
// expected and, where a likely mistake is recognised, a hint.
//
// The package imports no other package of werk.
package config

import (
	"fmt"
	"strings"
	"time"
)

// FileNames are the names Find looks for in a project directory, in order; the
// first one that exists wins.
var FileNames = []string{"wercker.yml", "wercker.yaml", ".wercker.yml"}

// Pos is a position in a wercker.yml file. Line and Column count from 1; a zero
// Line means the position is unknown, and a zero Column means only the line is
// known (YAML syntax errors report no column).
type Pos struct {
	File   string
	Line   int
	Column int
}

// String formats the position as "file:line:col", "file:line" or "file",
// leaving out the parts that are unknown.
func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Column == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	default:
		return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
	}
}

// File is one parsed wercker.yml.
type File struct {
	Path string

	// Box and Services are the top-level defaults; each Pipeline already holds the
	// resolved values, so callers rarely need these.
	Box      *Box
	Services []Box

	// CommandTimeout and NoResponseTimeout come from the top-level keys of the same
	// names, written in minutes; zero means the key was absent.
	CommandTimeout    time.Duration
	NoResponseTimeout time.Duration

	// SourceDir is the top-level source-dir: the subdirectory of the source that
	// becomes $WERCKER_SOURCE_DIR.
	SourceDir string

	// IgnoreFile is the top-level ignore-file key, a gitignore-style file that
	// replaces .werckerignore when copying the project.
	IgnoreFile string

	// Pipelines by name, and their names in the order of the file.
	Pipelines     map[string]*Pipeline
	PipelineNames []string

	Workflows []Workflow

	// Warnings are problems that do not stop a run, such as an unknown key in a
	// box map.
	Warnings []*Error
}

// Box is an image specification: the pipeline box, or one service.
type Box struct {
	// ID is the image reference as written, for example "golang:1.22" or
	// "localhost:5000/team/img"; Tag, when set, replaces the tag part of ID.
	ID  string
	Tag string

	// Name is the network alias of a service; empty for the main box.
	Name string

	// Cmd and Entrypoint are the raw strings of the yml; callers split them as
	// shell words.
	Cmd        string
	Entrypoint string

	// Env holds the env map in file order, keys upper-cased as wercker did.
	Env []EnvVar

	// Ports are docker-style specs: "8080", "8080:80", "127.0.0.1:8080:80/udp".
	Ports []string

	// Volumes are "hostpath:guestpath" or "path" entries split from the single
	// string the yml holds.
	Volumes []string

	Username string
	Password string
	Registry string

	// URL is set for an external service ("file://path#pipeline").
	URL string

	// CloudAuth contains the aws-* (Amazon ECR) and azure-* (Azure ACR) fields by
	// their yml keys. werk keeps them for reference but does not use them, and
	// Parse records a warning when they are present.
	CloudAuth map[string]string

	Pos Pos
}

// EnvVar is one entry of a box or service env map.
type EnvVar struct {
	Key   string
	Value string
}

// Image returns the image reference with Tag applied. A registry port such as
// "localhost:5000/img" is kept as part of the repository, unlike the original.
func (b *Box) Image() string {
	if b.Tag == "" {
		return b.ID
	}
	return repositoryOf(b.ID) + ":" + b.Tag
}

// Alias returns the network alias of a service: Name if set, else the last path
// part of the image repository without its tag.
func (b *Box) Alias() string {
	if b.Name != "" {
		return b.Name
	}
	repo := repositoryOf(b.ID)
	if i := strings.LastIndex(repo, "/"); i >= 0 {
		repo = repo[i+1:]
	}
	return repo
}

// repositoryOf strips the tag and digest from an image reference. A colon counts
// as a tag separator only after the last slash, so registry ports survive.
func repositoryOf(ref string) string {
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	slash := strings.LastIndex(ref, "/")
	if i := strings.LastIndex(ref, ":"); i > slash {
		ref = ref[:i]
	}
	return ref
}

// Pipeline is one top-level key that is not reserved.
type Pipeline struct {
	Name string

	// Box and Services are resolved: the pipeline's own, else the top-level ones.
	// Box is nil only when neither exists, which File.Pipeline reports.
	Box      *Box
	Services []Box

	Steps      []Step
	AfterSteps []Step

	// Targets are the extra keys of the pipeline: step lists selected instead of
	// Steps by --deploy-target.
	Targets     map[string][]Step
	TargetNames []string

	// BasePath replaces /pipeline/source as the guest directory of the source.
	BasePath string

	// Docker gives the pipeline access to the Docker engine.
	Docker bool

	Pos Pos
}

// StepsFor returns the main steps for a deploy target: the target's list when
// the pipeline has it, else Steps.
func (p *Pipeline) StepsFor(target string) []Step {
	if steps, ok := p.Targets[target]; ok && target != "" {
		return steps
	}
	return p.Steps
}

// StepKind tells the runner how to execute a step.
type StepKind int

const (
	// StepScript is the inline script step.
	StepScript StepKind = iota
	// StepInternal is a built-in internal/* step.
	StepInternal
	// StepExternal is a registry or local step that runs a step directory.
	StepExternal
)

// Step is one entry of steps, after-steps or a deploy target.
type Step struct {
	// ID is the step id as written, without the URL part.
	ID string

	// Owner defaults to "wercker"; Version is empty when the id has none. For
	// internal/* steps Owner is "internal".
	Owner   string
	Name    string
	Version string

	// URL is the quoted part of `name "file://path"`.
	URL string

	// DisplayName is the name option, else Name.
	DisplayName string

	Cwd        string
	Checkpoint string

	// Options hold every other option in file order, values as the scalar text
	// of the yml ("1.10" stays "1.10").
	Options []Option

	Pos Pos
}

// Option is one step option.
type Option struct {
	Key   string
	Value string
	Pos   Pos
}

// Kind returns how the step runs.
func (s *Step) Kind() StepKind {
	switch {
	case s.ID == "script":
		return StepScript
	case s.Owner == "internal":
		return StepInternal
	default:
		return StepExternal
	}
}

// Option returns the value of the option key and whether it was set.
func (s *Step) Option(key string) (string, bool) {
	for _, o := range s.Options {
		if o.Key == key {
			return o.Value, true
		}
	}
	return "", false
}

// OptionPos returns the position of the option key, or the step's position
// when the option is absent.
func (s *Step) OptionPos(key string) Pos {
	for _, o := range s.Options {
		if o.Key == key {
			return o.Pos
		}
	}
	return s.Pos
}

// Workflow is one entry of the top-level workflows list.
type Workflow struct {
	Name      string
	Pipelines []WorkflowNode
	Pos       Pos
}

// WorkflowNode is one pipeline run inside a workflow.
type WorkflowNode struct {
	Name             string
	PipelineName     string
	Requires         []string
	ArtifactPipeline string
	EnvFile          string
	Pos              Pos
}
