package steps

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"werk/config"
	"werk/engine"
)

func init() {
	RegisterInternal("docker-push", newDockerPush)
}

// dockerPushOptions are the options internal/docker-push uses.
var dockerPushOptions = []string{
	"repository", "tag", "registry", "username", "password", "author", "message",
	"cmd", "entrypoint", "env", "labels", "ports", "volumes", "working-dir", "user",
	"stopsignal", "image-name", "disable-sync",
}

// dockerPush is internal/docker-push: it commits the box container, or takes
// an image an earlier step built, tags it for every tag and pushes each tag.
type dockerPush struct {
	opts *imageOptions
}

func newDockerPush(s config.Step, _ Project) (engine.Step, error) {
	opts, err := parseImageOptions(s, dockerPushOptions)
	if err != nil {
		return nil, err
	}
	return &dockerPush{opts: opts}, nil
}

func (p *dockerPush) Info() engine.StepInfo {
	return engine.StepInfo{ID: p.opts.step.ID, Name: p.opts.step.DisplayName}
}

func (p *dockerPush) Run(ctx context.Context, sc *engine.StepContext) error {
	settings, err := prepareImageStep(ctx, sc, p.opts)
	if err != nil {
		return err
	}
	d := sc.Run.Docker

	var source string
	if settings.imageName != "" {
		if source, err = builtImage(ctx, d, sc.Run.ID, settings.imageName); err != nil {
			return err
		}
		if p.setsImageConfig() {
			sc.Logf("the image options (cmd, env, labels, ...) apply only to a commit of the box; %s is pushed as it is", source)
		}
	} else {
		cfg := settings.config
		if cfg.Cmd == nil && cfg.Entrypoint == nil {
			// The container's own command is werk's idle keeper process; the
			// image gets the box's shell instead, as wercker's images did.
			cfg.Cmd = sc.Box.ShellCommand()
		}
		ref := settings.target.ref(settings.tags[0])
		start := time.Now()
		id, err := d.CommitContainer(ctx, sc.Box.ID, engine.CommitOptions{
			Reference: ref,
			Author:    settings.author,
			Message:   settings.message,
			Config:    cfg,
		})
		if err != nil {
			return err
		}
		slog.Debug("push step commit", "step", sc.Ref.Name, "duration", time.Since(start))
		sc.Logf("committed the box container as %s (%.19s)", ref, id)
		source = id
	}
	return publishImage(ctx, sc, source, settings)
}

// setsImageConfig reports whether any option that changes the image's
// configuration is set.
func (p *dockerPush) setsImageConfig() bool {
	for _, k := range []string{"cmd", "entrypoint", "env", "labels", "ports", "volumes", "working-dir", "user", "stopsignal", "author", "message"} {
		if _, ok := p.opts.step.Option(k); ok {
			return true
		}
	}
	return false
}

// builtImage finds the image an earlier step built as name: wercker's
// internal/docker-build tags it RUNID+name, so that comes first, then name
// as it is.
func builtImage(ctx context.Context, d *engine.Docker, runID, name string) (string, error) {
	for _, candidate := range []string{runID + name, name} {
		ok, err := d.ImageExists(ctx, candidate)
		if err != nil {
			return "", err
		}
		if ok {
			return candidate, nil
		}
	}
	return "", fmt.Errorf("image-name %q: no image %s or %s in the Docker engine; build it in an earlier step, or remove image-name to commit the box",
		name, runID+name, name)
}

// prepareImageStep expands and checks a push step's options and logs what
// the step will do.
func prepareImageStep(ctx context.Context, sc *engine.StepContext, opts *imageOptions) (*imageSettings, error) {
	// Mask the password as written before anything can print it; the
	// expanded value is added by resolve.
	sc.Bus.Redactor().Add(optionValue(opts.step, "password"))
	start := time.Now()
	env, err := opts.stepEnv(ctx, sc)
	if err != nil {
		return nil, err
	}
	slog.Debug("push step environment", "step", sc.Ref.Name, "duration", time.Since(start))
	settings, err := opts.resolve(env, sc.Bus.Redactor())
	if err != nil {
		return nil, err
	}
	for _, o := range opts.ignored {
		sc.Logf("ignoring option %s", o)
	}
	t := settings.target
	sc.Logf("registry: %s (%s)", t.registryName(), t.reason)
	slog.Info("push step", "step", sc.Ref.Name, "repository", t.repo.Name(), "registry", t.registry, "tags", strings.Join(settings.tags, ","))
	return settings, nil
}

// publishImage tags source for every tag and pushes each tag, unless the run
// only tags (--docker-local or --push=false).
func publishImage(ctx context.Context, sc *engine.StepContext, source string, s *imageSettings) error {
	d := sc.Run.Docker
	refs := make([]string, len(s.tags))
	for i, tag := range s.tags {
		refs[i] = s.target.ref(tag)
		if err := d.TagImage(ctx, source, refs[i]); err != nil {
			return err
		}
		sc.Logf("tagged %s", refs[i])
	}

	if reason := noPushReason(sc.Run); reason != "" {
		sc.Logf("not pushing to %s: %s only tags images locally", s.target.registryName(), reason)
		return nil
	}

	creds, err := engine.ResolveCredentials(s.target.registry, s.creds, engine.DockerConfigDir())
	if err != nil {
		return err
	}
	if creds.Anonymous() {
		sc.Logf("credentials: none found for %s; pushing anonymously", s.target.registryName())
	} else {
		sc.Logf("credentials: %s", credentialSummary(creds))
	}

	for _, ref := range refs {
		sc.Logf("pushing %s", ref)
		start := time.Now()
		digest, err := d.PushImage(ctx, ref, creds, sc.Timeouts.NoResponse, func(line string) { sc.Logf("%s", line) })
		if err != nil {
			return pushError(err, s.target, creds)
		}
		slog.Debug("push step push", "step", sc.Ref.Name, "ref", ref, "duration", time.Since(start))
		sc.Logf("pushed %s@%s", ref, digest)
	}
	return nil
}

// noPushReason names the flag that turns pushing off, or returns "".
func noPushReason(run *engine.RunInfo) string {
	switch {
	case run.Local:
		return "--docker-local"
	case run.NoPush:
		return "--push=false"
	}
	return ""
}

// credentialSummary describes credentials for the log, without the secret.
func credentialSummary(c engine.Credentials) string {
	identity := "user " + c.Username
	if c.Username == "" {
		identity = "an identity token"
	}
	return fmt.Sprintf("%s from %s", identity, c.Source)
}

// pushError adds what to check to a failed push.
func pushError(err error, t pushTarget, creds engine.Credentials) error {
	msg := err.Error()
	lower := strings.ToLower(msg)
	switch {
	case strings.Contains(lower, "unauthorized") || strings.Contains(lower, "authentication required") ||
		strings.Contains(lower, "denied") || strings.Contains(lower, "forbidden"):
		if creds.Anonymous() {
			return fmt.Errorf("%w (no credentials were found for %s: set username and password on the step, or run docker login %s)",
				err, t.registryName(), t.registry)
		}
		return fmt.Errorf("%w (the registry %s rejected %s: check the username and password)", err, t.registryName(), credentialSummary(creds))
	case strings.Contains(lower, "connection refused") || strings.Contains(lower, "no such host") ||
		strings.Contains(lower, "i/o timeout") || strings.Contains(lower, "no response"):
		return fmt.Errorf("%w (check that the registry %s runs and that the Docker engine can reach it)", err, t.registryName())
	}
	return err
}
