package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/distribution/reference"
	"github.com/docker/go-connections/nat"
	"github.com/google/shlex"

	"werk/config"
	"werk/engine"
)

// Option values of the push steps are expanded on the host with
// engine.Env.Expand: $NAME and ${NAME} take the value from the pipeline
// environment plus what the step shell exports when the step starts (unless
// disable-sync is true), an unknown name becomes empty, and $$ is a literal $.
// cmd and entrypoint are not expanded, as in wercker: a $ in them reaches the
// image as written.

// unsupportedOptions are wercker options of the push steps that werk reads
// but does not use. A step that sets one gets a line in its log.
var unsupportedOptions = map[string]string{
	"email":                 "registries no longer use it",
	"auth-server":           "wercker ignored it too",
	"aws-access-key":        "Amazon ECR login is not built in; use docker-credential-ecr-login in the Docker configuration",
	"aws-secret-key":        "Amazon ECR login is not built in; use docker-credential-ecr-login in the Docker configuration",
	"aws-region":            "Amazon ECR login is not built in; use docker-credential-ecr-login in the Docker configuration",
	"aws-registry-id":       "Amazon ECR login is not built in; use docker-credential-ecr-login in the Docker configuration",
	"aws-strict-auth":       "Amazon ECR login is not built in; use docker-credential-ecr-login in the Docker configuration",
	"azure-client-id":       "Azure ACR login is not built in; use username and password, or a credential helper",
	"azure-client-secret":   "Azure ACR login is not built in; use username and password, or a credential helper",
	"azure-subscription-id": "Azure ACR login is not built in; use username and password, or a credential helper",
	"azure-tenant-id":       "Azure ACR login is not built in; use username and password, or a credential helper",
	"azure-resource-group":  "Azure ACR login is not built in; use username and password, or a credential helper",
	"azure-registry-name":   "Azure ACR login is not built in; use username and password, or a credential helper",
	"azure-login-server":    "Azure ACR login is not built in; use username and password, or a credential helper",
}

// imageOptions are the options of a push step as written in wercker.yml,
// with what can be checked before the run already parsed.
type imageOptions struct {
	step config.Step
	// cmd and entrypoint are nil when the option is absent.
	cmd, entrypoint []string
	disableSync     bool
	// ignored lists "key (reason)" for options the step does not use.
	ignored []string
}

// parseImageOptions checks the options of a push step. known lists the
// option keys the step uses; other wercker options are reported at run time,
// and anything else is an error.
func parseImageOptions(s config.Step, known []string) (*imageOptions, error) {
	o := &imageOptions{step: s}
	if strings.TrimSpace(optionValue(s, "repository")) == "" {
		return nil, fmt.Errorf("%s: step %q needs the option \"repository\" (add `repository: owner/image` under the step)", s.Pos, s.ID)
	}
	for _, opt := range s.Options {
		switch {
		case contains(known, opt.Key):
		case unsupportedOptions[opt.Key] != "":
			o.ignored = append(o.ignored, fmt.Sprintf("%s (%s)", opt.Key, unsupportedOptions[opt.Key]))
		default:
			return nil, fmt.Errorf("%s: step %q has no option %q; its options are %s", opt.Pos, s.ID, opt.Key, strings.Join(known, ", "))
		}
	}

	var err error
	if v, ok := s.Option("cmd"); ok {
		if o.cmd, err = parseCommand(v); err != nil {
			return nil, fmt.Errorf("%s: option cmd of step %q: %w", s.OptionPos("cmd"), s.ID, err)
		}
	}
	if v, ok := s.Option("entrypoint"); ok {
		if o.entrypoint, err = parseCommand(v); err != nil {
			return nil, fmt.Errorf("%s: option entrypoint of step %q: %w", s.OptionPos("entrypoint"), s.ID, err)
		}
	}
	if v, ok := s.Option("disable-sync"); ok {
		b, valid := config.ParseBool(v)
		if !valid {
			return nil, fmt.Errorf("%s: option disable-sync of step %q must be true or false, not %q", s.OptionPos("disable-sync"), s.ID, v)
		}
		o.disableSync = b
	}
	return o, nil
}

// parseCommand splits a cmd or entrypoint value: a JSON array of strings as
// in a Dockerfile's exec form, else shell words (quotes and backslashes as
// in a POSIX shell, no expansion).
func parseCommand(v string) ([]string, error) {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "[") {
		var words []string
		if err := json.Unmarshal([]byte(v), &words); err != nil {
			return nil, fmt.Errorf("invalid JSON array %q: %w (write a list of strings, as in [\"/app\", \"--port\", \"80\"], or plain shell words)", v, err)
		}
		return words, nil
	}
	words, err := shlex.Split(v)
	if err != nil {
		return nil, fmt.Errorf("invalid shell words %q: %w (check the quotes)", v, err)
	}
	return words, nil
}

// stepEnv returns the environment option values expand against: the
// pipeline environment plus, unless disable-sync is set, what the step shell
// exports now. Captured variables whose name marks a secret are registered
// with the redactor. When no expanded option contains a $, the shell is not
// asked, which saves a round trip to the box.
func (o *imageOptions) stepEnv(ctx context.Context, sc *engine.StepContext) (*engine.Env, error) {
	env := sc.Env.Clone()
	if o.disableSync || sc.Box == nil || !o.expandsVariables() {
		return env, nil
	}
	captured, err := sc.Box.CaptureEnv(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the step shell's environment (set disable-sync: true to use only the pipeline environment): %w", err)
	}
	names := make([]string, 0, len(captured))
	for k := range captured {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if engine.IsSecretName(k) {
			sc.Bus.Redactor().Add(captured[k])
		}
		env.Set(k, captured[k])
	}
	return env, nil
}

// expandsVariables reports whether an option that resolve expands contains
// a $.
func (o *imageOptions) expandsVariables() bool {
	for _, opt := range o.step.Options {
		if opt.Key != "cmd" && opt.Key != "entrypoint" && strings.Contains(opt.Value, "$") {
			return true
		}
	}
	return false
}

// imageSettings are a push step's options after expansion and validation.
type imageSettings struct {
	target    pushTarget
	tags      []string
	creds     engine.Credentials
	author    string
	message   string
	imageName string
	config    engine.ImageConfig
}

// resolve expands and checks the options against env. The password is
// registered with redactor before anything else happens, so no later log
// line or error can show it.
func (o *imageOptions) resolve(env *engine.Env, redactor *engine.Redactor) (*imageSettings, error) {
	s := o.step
	expand := func(key string) string { return env.Expand(optionValue(s, key)) }

	password := expand("password")
	redactor.Add(password, optionValue(s, "password"))
	out := &imageSettings{
		creds:     engine.Credentials{Username: expand("username"), Password: password},
		author:    expand("author"),
		message:   expand("message"),
		imageName: strings.TrimSpace(expand("image-name")),
	}

	registry := expand("registry")
	if _, err := registryHost(registry); err != nil {
		return nil, o.optionError("registry", err)
	}
	var err error
	if out.target, err = inferTarget(expand("repository"), registry); err != nil {
		return nil, o.optionError("repository", err)
	}
	if out.tags, err = parseTags(expand("tag")); err != nil {
		return nil, o.optionError("tag", err)
	}

	cfg := engine.ImageConfig{
		Cmd:        o.cmd,
		Entrypoint: o.entrypoint,
		WorkingDir: expand("working-dir"),
		User:       expand("user"),
		StopSignal: expand("stopsignal"),
		Volumes:    splitList(expand("volumes")),
	}
	if cfg.WorkingDir != "" && !path.IsAbs(cfg.WorkingDir) {
		return nil, o.optionError("working-dir", fmt.Errorf("%q is not an absolute path", cfg.WorkingDir))
	}
	for _, v := range cfg.Volumes {
		if !path.IsAbs(v) {
			return nil, o.optionError("volumes", fmt.Errorf("%q is not an absolute path", v))
		}
	}
	if cfg.Env, err = parseEnvList(optionValue(s, "env"), env); err != nil {
		return nil, o.optionError("env", err)
	}
	if cfg.Labels, err = parseLabels(optionValue(s, "labels"), env); err != nil {
		return nil, o.optionError("labels", err)
	}
	if cfg.ExposedPorts, err = parsePorts(expand("ports")); err != nil {
		return nil, o.optionError("ports", err)
	}
	out.config = cfg
	return out, nil
}

func (o *imageOptions) optionError(key string, err error) error {
	return fmt.Errorf("%s: option %s of step %q: %w", o.step.OptionPos(key), key, o.step.ID, err)
}

// splitList splits a list separated by spaces and commas.
func splitList(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n'
	})
}

// parseTags splits the tag option after expansion and checks each tag
// against Docker's tag grammar. No tag means "latest"; duplicates are
// dropped.
func parseTags(v string) ([]string, error) {
	named, _ := reference.ParseNormalizedNamed("werk/tag-check")
	var tags []string
	for _, t := range splitList(v) {
		if _, err := reference.WithTag(named, t); err != nil {
			return nil, fmt.Errorf("invalid tag %q: a tag is up to 128 letters, digits, _, . and -, and does not start with . or -", t)
		}
		if !contains(tags, t) {
			tags = append(tags, t)
		}
	}
	if len(tags) == 0 {
		tags = []string{"latest"}
	}
	return tags, nil
}

// parseEnvList splits the env option as shell words and expands each
// NAME=value entry.
func parseEnvList(raw string, env *engine.Env) ([]string, error) {
	words, err := shlex.Split(raw)
	if err != nil {
		return nil, fmt.Errorf("invalid shell words %q: %w (check the quotes)", raw, err)
	}
	var out []string
	for _, w := range words {
		entry := env.Expand(w)
		name, _, ok := strings.Cut(entry, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("entry %q is not of the form NAME=value", w)
		}
		out = append(out, entry)
	}
	return out, nil
}

// parseLabels splits the labels option as shell words and expands each
// key=value entry; the value may contain further = signs.
func parseLabels(raw string, env *engine.Env) (map[string]string, error) {
	words, err := shlex.Split(raw)
	if err != nil {
		return nil, fmt.Errorf("invalid shell words %q: %w (check the quotes)", raw, err)
	}
	if len(words) == 0 {
		return nil, nil
	}
	labels := map[string]string{}
	for _, w := range words {
		key, value, ok := strings.Cut(env.Expand(w), "=")
		if !ok || key == "" {
			return nil, fmt.Errorf("label specification %q is not of the form label=value", w)
		}
		labels[key] = value
	}
	return labels, nil
}

// parsePorts turns "80 443/tcp, 53/udp" into port/proto entries; tcp is the
// default protocol.
func parsePorts(v string) ([]string, error) {
	var out []string
	for _, spec := range splitList(v) {
		proto, port := nat.SplitProtoPort(spec)
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("invalid port %q: write PORT or PORT/PROTO with PORT from 1 to 65535", spec)
		}
		switch proto {
		case "tcp", "udp", "sctp":
		default:
			return nil, fmt.Errorf("invalid protocol in port %q: use tcp, udp or sctp", spec)
		}
		out = append(out, fmt.Sprintf("%d/%s", n, proto))
	}
	return out, nil
}

// optionValue returns the value of option key, or "" when it is absent.
func optionValue(s config.Step, key string) string {
	v, _ := s.Option(key)
	return v
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// dockerHubDomain is the domain distribution/reference gives a repository
// without a registry part.
const dockerHubDomain = "docker.io"

// pushTarget is the destination of a push step's image.
type pushTarget struct {
	// repo is the normalized repository, such as "127.0.0.1:5000/team/app"
	// or "docker.io/library/app".
	repo reference.Named
	// registry is the registry host[:port]; docker.io for Docker Hub.
	registry string
	// reason explains how the registry was chosen, for the log.
	reason string
}

// ref returns the reference of one tag, in Docker's familiar form
// ("team/app:v1" for Docker Hub).
func (t pushTarget) ref(tag string) string {
	return reference.FamiliarString(t.repo) + ":" + tag
}

// registryName returns the registry for messages.
func (t pushTarget) registryName() string {
	if t.registry == dockerHubDomain {
		return "Docker Hub (docker.io)"
	}
	return t.registry
}

// inferTarget finds the repository and registry of a push, as wercker did:
// a repository with a host part ("host:5000/app") names its registry. The
// registry option, a host or URL such as https://host:5000/v2/, is put in
// front of a repository without a host part, and loses against a host part
// that differs. Without either, the registry is Docker Hub.
func inferTarget(repository, registryOption string) (pushTarget, error) {
	repository = strings.ToLower(strings.TrimSpace(repository))
	if repository == "" {
		return pushTarget{}, fmt.Errorf("the repository is empty after expanding variables")
	}
	host, err := registryHost(registryOption)
	if err != nil {
		return pushTarget{}, err
	}

	named, err := reference.ParseNormalizedNamed(repository)
	if err != nil {
		return pushTarget{}, fmt.Errorf("invalid repository %q: %w (write [HOST[:PORT]/]NAME[/NAME...] in lower case)", repository, err)
	}
	if !reference.IsNameOnly(named) {
		return pushTarget{}, fmt.Errorf("repository %q contains a tag or digest; put tags in the tag option", repository)
	}
	domain := reference.Domain(named)
	explicit := domain != dockerHubDomain || strings.HasPrefix(repository, "docker.io/") || strings.HasPrefix(repository, "index.docker.io/")

	switch {
	case explicit && host != "" && host != domain:
		return pushTarget{repo: named, registry: domain,
			reason: fmt.Sprintf("from the repository name; the registry option %q names another registry and is not used", registryOption)}, nil
	case explicit:
		return pushTarget{repo: named, registry: domain, reason: "from the repository name"}, nil
	case host != "" && host != dockerHubDomain:
		named, err = reference.ParseNormalizedNamed(host + "/" + repository)
		if err != nil {
			return pushTarget{}, fmt.Errorf("invalid repository %q at registry %s: %w", repository, host, err)
		}
		return pushTarget{repo: named, registry: host, reason: "from the registry option"}, nil
	case host == dockerHubDomain:
		return pushTarget{repo: named, registry: dockerHubDomain, reason: "from the registry option"}, nil
	default:
		return pushTarget{repo: named, registry: dockerHubDomain, reason: "the repository has no registry part"}, nil
	}
}

// registryHost reduces a registry option to host[:port]: the scheme and any
// path such as /v1/ or /v2/ are dropped, and Docker Hub's names become
// docker.io. An empty option returns "".
func registryHost(v string) (string, error) {
	v = strings.ToLower(strings.TrimSpace(v))
	if v == "" {
		return "", nil
	}
	rest := v
	if _, after, ok := strings.Cut(v, "://"); ok {
		rest = after
	}
	host, _, _ := strings.Cut(rest, "/")
	if host == "" || strings.ContainsAny(host, " @?#") {
		return "", fmt.Errorf("invalid registry %q: write a host such as registry.example.com:5000 or a URL such as https://registry.example.com/v2/", v)
	}
	switch host {
	case "docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com":
		return dockerHubDomain, nil
	}
	return host, nil
}
