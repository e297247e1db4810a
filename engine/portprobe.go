package engine

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"

	"github.com/docker/go-connections/nat"
)

// portProbeInterval is the pause between two TCP probes of a port that is
// still starting.
const portProbeInterval = 300 * time.Millisecond

// ProbePorts publishes every published port of the container as starting,
// then probes each TCP port in the background and publishes it as ready once
// a listener accepts a connection. Probing stops when ctx ends or after portProbeTimeout.
// The watch step calls it after each start of its command, so a reload shows
// its ports going from starting to ready again.
func ProbePorts(ctx context.Context, bus *Bus, d *Docker, containerID string) error {
	inspect, err := d.API.ContainerInspect(ctx, containerID)
	if err != nil {
		return fmt.Errorf("inspecting the published ports of container %s: %w", shortID(containerID), err)
	}
	if inspect.NetworkSettings == nil {
		return nil
	}
	ports := make([]nat.Port, 0, len(inspect.NetworkSettings.Ports))
	for port := range inspect.NetworkSettings.Ports {
		ports = append(ports, port)
	}
	sort.Slice(ports, func(i, j int) bool { return ports[i] < ports[j] })
	for _, port := range ports {
		name := string(port)
		for _, b := range inspect.NetworkSettings.Ports[port] {
			if strings.Contains(b.HostIP, ":") {
				continue // the IPv6 twin of an IPv4 binding
			}
			host := b.HostIP
			if host == "" || host == "0.0.0.0" {
				host = "localhost"
			}
			ps := PortState{
				ContainerPort: name,
				HostIP:        b.HostIP,
				HostPort:      b.HostPort,
				URL:           fmt.Sprintf("http://%s:%s", host, b.HostPort),
				Status:        PortStarting,
				Time:          time.Now(),
			}
			bus.Publish(ps)
			if port.Proto() == "tcp" {
				go probeUntilReady(ctx, bus, ps)
			}
		}
	}
	return nil
}

// probeUntilReady dials the host side of a published port until a listener
// accepts the connection, then publishes the port as ready.
func probeUntilReady(ctx context.Context, bus *Bus, ps PortState) {
	host := ps.HostIP
	if host == "" || host == "0.0.0.0" {
		host = "127.0.0.1"
	}
	addr := net.JoinHostPort(host, ps.HostPort)
	timeout := time.NewTimer(portProbeTimeout)
	defer timeout.Stop()
	for {
		if listenerAnswers(ctx, addr) {
			ps.Status, ps.Time = PortReady, time.Now()
			bus.Publish(ps)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-timeout.C:
			return
		case <-time.After(portProbeInterval):
		}
	}
}

// listenerAnswers reports whether a TCP connection to addr reaches a real
// listener. docker-proxy accepts a connection and closes it at once when
// nothing listens in the container, so a connection counts only when a short
// read does not end with EOF or a reset.
func listenerAnswers(ctx context.Context, addr string) bool {
	dialer := net.Dialer{Timeout: time.Second}
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(150 * time.Millisecond))
	buf := make([]byte, 1)
	_, err = conn.Read(buf)
	if err == nil {
		return true
	}
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
