package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"
	"github.com/docker/go-connections/nat"
)

// ImageConfig is the part of an image's configuration that the push steps
// set. A nil slice, nil map or empty string leaves the field to the default:
// for a commit, the container's own value.
type ImageConfig struct {
	Cmd        []string
	Entrypoint []string
	// Env entries are NAME=value.
	Env    []string
	Labels map[string]string
	// ExposedPorts are "port/proto" entries, such as "8080/tcp".
	ExposedPorts []string
	Volumes      []string
	WorkingDir   string
	User         string
	StopSignal   string
}

// containerConfig returns c as the engine's container.Config.
func (c ImageConfig) containerConfig() *container.Config {
	cfg := &container.Config{
		Cmd:        c.Cmd,
		Entrypoint: c.Entrypoint,
		Env:        c.Env,
		Labels:     c.Labels,
		WorkingDir: c.WorkingDir,
		User:       c.User,
		StopSignal: c.StopSignal,
	}
	if len(c.ExposedPorts) > 0 {
		cfg.ExposedPorts = nat.PortSet{}
		for _, p := range c.ExposedPorts {
			cfg.ExposedPorts[nat.Port(p)] = struct{}{}
		}
	}
	if len(c.Volumes) > 0 {
		cfg.Volumes = map[string]struct{}{}
		for _, v := range c.Volumes {
			cfg.Volumes[v] = struct{}{}
		}
	}
	return cfg
}

// CommitOptions describe a commit of a container into an image.
type CommitOptions struct {
	// Reference is the repository:tag the image gets.
	Reference string
	Author    string
	Message   string
	Config    ImageConfig
}

// CommitContainer commits the container's filesystem layer as an image and
// returns the image ID. The engine fills every field that opts.Config leaves
// empty from the container's configuration, and merges Env, Labels,
// ExposedPorts and Volumes with the container's. Mounts (volumes and binds)
// are not part of the layer. The container is paused during the commit, as
// docker commit does by default.
//
// werk's owner labels on the container are overridden with empty values:
// the engine cannot drop a label on commit, and a container started from the
// image must not look like a werk run's container to SweepDeadRuns.
func (d *Docker) CommitContainer(ctx context.Context, containerID string, opts CommitOptions) (string, error) {
	cfg := opts.Config.containerConfig()
	labels := map[string]string{}
	for _, l := range []string{LabelRun, LabelHost, LabelPID, LabelPIDStart, LabelRole, LabelProject} {
		labels[l] = ""
	}
	for k, v := range cfg.Labels {
		labels[k] = v
	}
	cfg.Labels = labels

	resp, err := d.API.ContainerCommit(ctx, containerID, container.CommitOptions{
		Reference: opts.Reference,
		Comment:   opts.Message,
		Author:    opts.Author,
		Pause:     true,
		Config:    cfg,
	})
	if err != nil {
		return "", fmt.Errorf("committing container %.12s as %s: %w", containerID, opts.Reference, err)
	}
	return resp.ID, nil
}

// TagImage gives the image source the reference target.
func (d *Docker) TagImage(ctx context.Context, source, target string) error {
	if err := d.API.ImageTag(ctx, source, target); err != nil {
		return fmt.Errorf("tagging image %s as %s: %w", source, target, err)
	}
	return nil
}

// LoadImage loads a docker-save style archive into the engine. A failure
// reported in the engine's progress stream is returned as the error.
func (d *Docker) LoadImage(ctx context.Context, archive io.Reader) error {
	resp, err := d.API.ImageLoad(ctx, archive, client.ImageLoadWithQuiet(true))
	if err != nil {
		return fmt.Errorf("loading image into the engine: %w", err)
	}
	defer resp.Body.Close()
	if err := readJSONMessages(resp.Body, nil); err != nil {
		return fmt.Errorf("loading image into the engine: %w", err)
	}
	return nil
}

// Platform returns the engine's operating system and CPU architecture in
// Go's naming ("linux", "amd64"), as the engine's version endpoint reports
// them. Images built for the engine use these.
func (d *Docker) Platform(ctx context.Context) (osName, arch string, err error) {
	v, err := d.API.ServerVersion(ctx)
	if err != nil {
		return "", "", fmt.Errorf("asking the engine for its platform: %w", err)
	}
	return v.Os, v.Arch, nil
}

// pushDigestPattern matches the status line the engine sends after the
// registry accepted a manifest: "TAG: digest: sha256:HEX size: N".
var pushDigestPattern = regexp.MustCompile(`digest: (sha256:[0-9a-f]{64})`)

// PushImage pushes ref (repository:tag) with creds and returns the digest of
// the manifest the registry accepted. Any error in the engine's progress
// stream fails the push with the registry's message. A push that ends without
// a digest fails too, because the engine reports the digest only after the
// registry accepted the manifest.
//
// silence bounds the time without any message from the engine, so a registry
// that accepts connections but never responds fails instead of hanging.
// Zero means no bound. progress receives one line per status change.
func (d *Docker) PushImage(ctx context.Context, ref string, creds Credentials, silence time.Duration, progress func(string)) (string, error) {
	header, err := creds.encode()
	if err != nil {
		return "", fmt.Errorf("encoding credentials for %s: %w", ref, err)
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	rc, err := d.API.ImagePush(ctx, ref, image.PushOptions{RegistryAuth: header})
	if err != nil {
		return "", fmt.Errorf("pushing %s: %w", ref, err)
	}
	defer rc.Close()

	var body io.Reader = rc
	if silence > 0 {
		w := newSilenceWatch(silence, func() {
			cancel(fmt.Errorf("timed out: no response from the engine or the registry for %s", silence))
			// Closing the body ends a read that waits for data.
			rc.Close()
		})
		defer w.stop()
		body = w.reader(rc)
	}

	var digest string
	err = readJSONMessages(body, func(line string) {
		if m := pushDigestPattern.FindStringSubmatch(line); m != nil {
			digest = m[1]
		}
		if progress != nil {
			progress(line)
		}
	})
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return "", fmt.Errorf("pushing %s: %w", ref, cause)
	}
	if err != nil {
		return "", fmt.Errorf("pushing %s: %w", ref, err)
	}
	if digest == "" {
		return "", fmt.Errorf("pushing %s: the engine reported no manifest digest, so the registry may not have accepted the image", ref)
	}
	slog.Info("image pushed", "ref", ref, "digest", digest, "credentials", creds.Source)
	return digest, nil
}

// silenceWatch calls expire when no Read returned data for a whole period.
type silenceWatch struct {
	mu     sync.Mutex
	timer  *time.Timer
	period time.Duration
}

func newSilenceWatch(period time.Duration, expire func()) *silenceWatch {
	return &silenceWatch{timer: time.AfterFunc(period, expire), period: period}
}

func (w *silenceWatch) reader(r io.Reader) io.Reader {
	return readerFunc(func(p []byte) (int, error) {
		n, err := r.Read(p)
		if n > 0 {
			w.mu.Lock()
			w.timer.Reset(w.period)
			w.mu.Unlock()
		}
		return n, err
	})
}

func (w *silenceWatch) stop() {
	w.mu.Lock()
	w.timer.Stop()
	w.mu.Unlock()
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// ImageExists reports whether the engine has an image ref.
func (d *Docker) ImageExists(ctx context.Context, ref string) (bool, error) {
	_, err := d.API.ImageInspect(ctx, ref)
	if err == nil {
		return true, nil
	}
	if errdefs.IsNotFound(err) {
		return false, nil
	}
	return false, fmt.Errorf("inspecting image %s: %w", ref, err)
}
