package engine

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
)

func containerStartOptions() container.StartOptions { return container.StartOptions{} }

// portProbeTimeout bounds how long a published port may stay "starting"
// before werk stops probing it. The probe runs again after every reload.
const portProbeTimeout = 2 * time.Minute

// announcePorts publishes each published port of the box as starting and
// probes it in the background until a TCP connection succeeds.
func (r *Runner) announcePorts(ctx context.Context) {
	inspect, err := r.docker.API.ContainerInspect(ctx, r.box.ID)
	if err != nil || inspect.NetworkSettings == nil {
		return
	}
	for port, bindings := range inspect.NetworkSettings.Ports {
		for _, b := range bindings {
			host := b.HostIP
			if host == "" || host == "0.0.0.0" || host == "::" {
				host = "localhost"
			}
			if strings.Contains(host, ":") {
				continue // the IPv6 twin of an IPv4 binding
			}
			ps := PortState{
				ContainerPort: string(port),
				HostIP:        b.HostIP,
				HostPort:      b.HostPort,
				URL:           fmt.Sprintf("http://%s:%s", host, b.HostPort),
				Status:        PortStarting,
				Time:          time.Now(),
			}
			r.publish(ps)
			if port.Proto() == "tcp" {
				go r.ProbePort(ctx, ps)
			}
		}
	}
}

// ProbePort dials the host side of a published port until it accepts a
// connection, then publishes it as ready.
func (r *Runner) ProbePort(ctx context.Context, ps PortState) {
	host := ps.HostIP
	if host == "" || host == "0.0.0.0" {
		host = "127.0.0.1"
	}
	addr := net.JoinHostPort(host, ps.HostPort)
	deadline := time.Now().Add(portProbeTimeout)
	for time.Now().Before(deadline) {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			// docker-proxy accepts and then closes at once when nothing listens
			// in the container; a read that does not fail at once means a
			// real listener.
			_ = conn.SetReadDeadline(time.Now().Add(150 * time.Millisecond))
			buf := make([]byte, 1)
			_, rerr := conn.Read(buf)
			conn.Close()
			if ne, ok := rerr.(net.Error); rerr == nil || (ok && ne.Timeout()) {
				ps.Status, ps.Time = PortReady, time.Now()
				r.publish(ps)
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(300 * time.Millisecond):
		}
	}
}
