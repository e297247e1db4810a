package engine

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/container"
)

// takenPortPattern finds the host port in the engine's bind failures, such
// as "Bind for 0.0.0.0:8080 failed: port is already allocated" and "listen
// tcp4 0.0.0.0:8080: bind: address already in use" (Docker 20.10).
var takenPortPattern = regexp.MustCompile(`:(\d+)(?: failed: port is already allocated|: bind: address already in use)`)

// takenPort returns the host port named in a bind failure, or "".
func takenPort(msg string) string {
	m := takenPortPattern.FindStringSubmatch(msg)
	if m == nil {
		return ""
	}
	return m[1]
}

// describePortHolder returns a sentence naming what holds the host port:
// a running container that publishes it, else the local process listening
// on it, or "" when neither is found. The process lookup reads
// /proc/net/tcp{,6} and /proc/PID/fd, so it finds only processes of this
// network namespace that the user may inspect (all of them as root).
func describePortHolder(ctx context.Context, d *Docker, port string) string {
	if port == "" {
		return ""
	}
	if d != nil {
		if name := containerPublishing(ctx, d, port); name != "" {
			return fmt.Sprintf("host port %s is published by the running container %s", port, name)
		}
	}
	if pid, cmdline := processListeningOn(port); pid != "" {
		return fmt.Sprintf("host port %s is held by process %s (%s)", port, pid, cmdline)
	}
	return ""
}

// containerPublishing returns the name, id and image of a running container
// that publishes the host port, or "".
func containerPublishing(ctx context.Context, d *Docker, port string) string {
	want, err := strconv.Atoi(port)
	if err != nil {
		return ""
	}
	list, err := d.API.ContainerList(ctx, container.ListOptions{})
	if err != nil {
		return ""
	}
	for _, c := range list {
		for _, p := range c.Ports {
			if int(p.PublicPort) != want {
				continue
			}
			name := shortID(c.ID)
			if len(c.Names) > 0 {
				name = strings.TrimPrefix(c.Names[0], "/")
			}
			return fmt.Sprintf("%s (id %s, image %s)", name, shortID(c.ID), c.Image)
		}
	}
	return ""
}

// processListeningOn returns the PID and command line of a process with a
// TCP socket listening on port, or "" and "".
func processListeningOn(port string) (pid, cmdline string) {
	want, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return "", ""
	}
	inodes := map[string]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		listeningInodes(table, want, inodes)
	}
	if len(inodes) == 0 {
		return "", ""
	}
	fds, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, fd := range fds {
		target, err := os.Readlink(fd)
		if err != nil || !strings.HasPrefix(target, "socket:[") {
			continue
		}
		if !inodes[strings.TrimSuffix(strings.TrimPrefix(target, "socket:["), "]")] {
			continue
		}
		pid = strings.Split(fd, "/")[2]
		raw, _ := os.ReadFile(filepath.Join("/proc", pid, "cmdline"))
		cmdline = strings.TrimSpace(strings.ReplaceAll(string(raw), "\x00", " "))
		if cmdline == "" {
			cmdline = "command line not readable"
		}
		return pid, cmdline
	}
	return "", ""
}

// listeningInodes adds to inodes the socket inodes of the table's rows that
// listen on port. A row reads "sl local_address rem_address st ... inode",
// with the address as HEXIP:HEXPORT and st 0A for LISTEN.
func listeningInodes(table string, port uint64, inodes map[string]bool) {
	f, err := os.Open(table)
	if err != nil {
		return
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	scanner.Scan() // header
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) < 10 || fields[3] != "0A" {
			continue
		}
		_, hexPort, ok := strings.Cut(fields[1], ":")
		if !ok {
			continue
		}
		if p, err := strconv.ParseUint(hexPort, 16, 16); err == nil && p == port {
			inodes[fields[9]] = true
		}
	}
}
