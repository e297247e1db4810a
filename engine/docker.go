package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/docker/docker/client"
)

// pingTimeout bounds the first contact with the engine, so a dead daemon is
// reported within seconds instead of after the client's long default timeout.
const pingTimeout = 4 * time.Second

// Docker is werk's connection to a Docker engine.
type Docker struct {
	API  client.APIClient
	Host string
}

// ErrDaemonUnreachable is returned by Connect when no engine answers.
var ErrDaemonUnreachable = errors.New("docker engine not reachable")

// Connect opens a client for host (empty: DOCKER_HOST, else the default socket)
// with API version negotiation, and pings the engine.
func Connect(ctx context.Context, host string) (*Docker, error) {
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if host != "" {
		opts = append(opts, client.WithHost(host))
	}
	cli, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker host %q: %w", displayHost(host), err)
	}
	endpoint := cli.DaemonHost()

	pingCtx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if _, err := cli.Ping(pingCtx); err != nil {
		cli.Close()
		return nil, fmt.Errorf("%w at %s: %v\n"+
			"Start an engine (on Debian: apt-get install docker.io && dockerd &, or scripts/docker-up.sh in werk's repository), "+
			"or point werk at one with --docker-host or DOCKER_HOST",
			ErrDaemonUnreachable, endpoint, rootCause(err))
	}
	cli.NegotiateAPIVersion(ctx)
	return &Docker{API: cli, Host: endpoint}, nil
}

// Close releases the client's connections.
func (d *Docker) Close() error { return d.API.Close() }

func displayHost(host string) string {
	if host != "" {
		return host
	}
	if env := os.Getenv("DOCKER_HOST"); env != "" {
		return env
	}
	return client.DefaultDockerHost
}

// rootCause drops the wrapping layers of an error whose innermost message is
// the useful one, such as "connect: no such file or directory".
func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}
