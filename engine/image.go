package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/errdefs"
)

// PullPolicy says when werk pulls an image.
type PullPolicy string

const (
	PullMissing PullPolicy = "missing"
	PullAlways  PullPolicy = "always"
	PullNever   PullPolicy = "never"
)

// ParsePullPolicy checks a --pull value.
func ParsePullPolicy(s string) (PullPolicy, error) {
	switch p := PullPolicy(s); p {
	case PullMissing, PullAlways, PullNever:
		return p, nil
	}
	return "", fmt.Errorf("invalid --pull value %q: use always, missing or never", s)
}

// RegistryAuth holds credentials for pulling or pushing one image.
type RegistryAuth struct {
	Username string
	Password string
	Registry string
}

// encode returns the X-Registry-Auth header value, or "" without credentials.
func (a RegistryAuth) encode() (string, error) {
	if a.Username == "" && a.Password == "" {
		return "", nil
	}
	return registry.EncodeAuthConfig(registry.AuthConfig{
		Username:      a.Username,
		Password:      a.Password,
		ServerAddress: a.Registry,
	})
}

// EnsureImage makes ref available locally according to policy. progress
// receives one line per pull status change.
func (d *Docker) EnsureImage(ctx context.Context, ref string, policy PullPolicy, auth RegistryAuth, progress func(string)) error {
	if policy != PullAlways {
		_, err := d.API.ImageInspect(ctx, ref)
		if err == nil {
			return nil
		}
		if !errdefs.IsNotFound(err) {
			return fmt.Errorf("inspecting image %q: %w", ref, err)
		}
		if policy == PullNever {
			return fmt.Errorf("image %q not found locally and pulling is off (--pull never or --docker-local): "+
				"build or load it first (docker pull, docker load, docker import), or run with --pull missing", ref)
		}
	}
	return d.pull(ctx, ref, auth, progress)
}

func (d *Docker) pull(ctx context.Context, ref string, auth RegistryAuth, progress func(string)) error {
	header, err := auth.encode()
	if err != nil {
		return fmt.Errorf("encoding credentials for %q: %w", ref, err)
	}
	rc, err := d.API.ImagePull(ctx, ref, image.PullOptions{RegistryAuth: header})
	if err != nil {
		return pullError(ref, err)
	}
	defer rc.Close()
	if err := readJSONMessages(rc, progress); err != nil {
		return pullError(ref, err)
	}
	return nil
}

func pullError(ref string, err error) error {
	msg := err.Error()
	hint := "check the image name and your network, or make the image available locally and use --pull never"
	if strings.Contains(msg, "unauthorized") || strings.Contains(msg, "denied") {
		hint = "check the box's username and password, or log in with docker login"
	}
	return fmt.Errorf("pulling image %q: %s (%s)", ref, msg, hint)
}

// jsonMessage is one line of the engine's progress stream for pull and push.
type jsonMessage struct {
	Status      string `json:"status"`
	ID          string `json:"id"`
	Progress    string `json:"progress"`
	Error       string `json:"error"`
	ErrorDetail *struct {
		Message string `json:"message"`
	} `json:"errorDetail"`
	Aux json.RawMessage `json:"aux"`
}

// readJSONMessages reads a progress stream to its end, reports status lines
// (without the per-byte progress updates), and returns the first error the
// stream carries. A stream that ends early with no error is complete: the
// engine closes it when the operation ends.
func readJSONMessages(r io.Reader, progress func(string)) error {
	dec := json.NewDecoder(bufio.NewReader(r))
	last := map[string]string{}
	for {
		var m jsonMessage
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("reading engine progress: %w", err)
		}
		if m.Error != "" {
			return errors.New(m.Error)
		}
		if m.ErrorDetail != nil && m.ErrorDetail.Message != "" {
			return errors.New(m.ErrorDetail.Message)
		}
		if progress == nil || m.Status == "" {
			continue
		}
		// Download and push status repeat with every chunk; report changes only.
		if last[m.ID] == m.Status {
			continue
		}
		last[m.ID] = m.Status
		line := m.Status
		if m.ID != "" {
			line = m.ID + ": " + m.Status
		}
		progress(line)
	}
}
