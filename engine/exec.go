package engine

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
)

// ExecResult is the outcome of a command run with ExecOutput.
type ExecResult struct {
	ExitCode int
	Stdout   []byte
	Stderr   []byte
}

// ExecOutput runs cmd in the container and collects its output. It is for
// short werk-internal commands; step output goes through a session.
func (d *Docker) ExecOutput(ctx context.Context, containerID string, cmd []string, env []string, stdin io.Reader) (ExecResult, error) {
	cfg := container.ExecOptions{
		Cmd:          cmd,
		Env:          env,
		AttachStdout: true,
		AttachStderr: true,
		AttachStdin:  stdin != nil,
	}
	created, err := d.API.ContainerExecCreate(ctx, containerID, cfg)
	if err != nil {
		return ExecResult{}, fmt.Errorf("creating exec %q: %w", cmd[0], err)
	}
	hijack, err := d.API.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{})
	if err != nil {
		return ExecResult{}, fmt.Errorf("attaching exec %q: %w", cmd[0], err)
	}
	defer hijack.Close()

	if stdin != nil {
		go func() {
			_, _ = io.Copy(hijack.Conn, stdin)
			_ = hijack.CloseWrite()
		}()
	}

	var stdout, stderr bytes.Buffer
	copied := make(chan error, 1)
	go func() {
		_, err := stdcopy.StdCopy(&stdout, &stderr, hijack.Reader)
		copied <- err
	}()
	select {
	case err = <-copied:
	case <-ctx.Done():
		return ExecResult{}, ctx.Err()
	}
	if err != nil {
		return ExecResult{}, fmt.Errorf("reading exec %q output: %w", cmd[0], err)
	}
	inspect, err := d.API.ContainerExecInspect(ctx, created.ID)
	if err != nil {
		return ExecResult{}, fmt.Errorf("inspecting exec %q: %w", cmd[0], err)
	}
	return ExecResult{ExitCode: inspect.ExitCode, Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}, nil
}
