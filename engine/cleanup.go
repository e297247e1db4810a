package engine

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/errdefs"
)

// Labels put on every container, network and volume werk creates. The owner
// labels let a later run tell whether the werk process that made an object is
// still alive: same host name, a live PID, and the same process start time (so
// a reused PID does not count as alive).
const (
	LabelRun       = "dev.werk.run"
	LabelHost      = "dev.werk.host"
	LabelPID       = "dev.werk.pid"
	LabelPIDStart  = "dev.werk.pid-start"
	LabelRole      = "dev.werk.role"
	LabelProject   = "dev.werk.project"
	removeDeadline = 20 * time.Second
)

// ownerLabels returns the labels that tie an object to this process and run.
func ownerLabels(runID, role, project string) map[string]string {
	host, _ := os.Hostname()
	pid := os.Getpid()
	return map[string]string{
		LabelRun:      runID,
		LabelHost:     host,
		LabelPID:      strconv.Itoa(pid),
		LabelPIDStart: processStartTime(pid),
		LabelRole:     role,
		LabelProject:  project,
	}
}

// processStartTime returns field 22 of /proc/PID/stat (start time in clock
// ticks since boot), or "" when it cannot be read or the process is a zombie:
// a killed werk whose parent has not reaped it yet is dead too.
func processStartTime(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	// The command name in field 2 may contain spaces; fields after it start
	// after the last ')'.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return ""
	}
	fields := strings.Fields(s[i+1:])
	const startTimeIndex = 22 - 3 // fields[0] is field 3 (state)
	if len(fields) <= startTimeIndex || fields[0] == "Z" || fields[0] == "X" {
		return ""
	}
	return fields[startTimeIndex]
}

// ownerIsDead reports whether labels name a werk process of this host that no
// longer runs. Objects of other hosts are never judged dead.
func ownerIsDead(labels map[string]string) bool {
	host, _ := os.Hostname()
	if labels[LabelHost] != host {
		return false
	}
	pid, err := strconv.Atoi(labels[LabelPID])
	if err != nil || pid <= 0 {
		return false
	}
	start := processStartTime(pid)
	return start == "" || start != labels[LabelPIDStart]
}

// SweepDeadRuns removes containers, networks and volumes left by werk runs
// whose process is gone (for example after kill -9), and returns their names.
func (d *Docker) SweepDeadRuns(ctx context.Context) ([]string, error) {
	var removed []string
	args := filters.NewArgs(filters.Arg("label", LabelRun))

	containers, err := d.API.ContainerList(ctx, container.ListOptions{All: true, Filters: args})
	if err != nil {
		return nil, fmt.Errorf("listing werk containers: %w", err)
	}
	deadRuns := map[string]bool{}
	for _, c := range containers {
		if !ownerIsDead(c.Labels) {
			continue
		}
		deadRuns[c.Labels[LabelRun]] = true
		if err := d.API.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !errdefs.IsNotFound(err) {
			slog.Warn("removing container of a dead run", "container", c.ID, "err", err)
			continue
		}
		removed = append(removed, "container "+containerName(c.Names))
	}

	networks, err := d.API.NetworkList(ctx, network.ListOptions{Filters: args})
	if err != nil {
		return removed, fmt.Errorf("listing werk networks: %w", err)
	}
	for _, n := range networks {
		if !ownerIsDead(n.Labels) {
			continue
		}
		if err := d.API.NetworkRemove(ctx, n.ID); err != nil && !errdefs.IsNotFound(err) {
			slog.Warn("removing network of a dead run", "network", n.Name, "err", err)
			continue
		}
		removed = append(removed, "network "+n.Name)
	}

	volumes, err := d.API.VolumeList(ctx, volume.ListOptions{Filters: args})
	if err != nil {
		return removed, fmt.Errorf("listing werk volumes: %w", err)
	}
	for _, v := range volumes.Volumes {
		if !ownerIsDead(v.Labels) {
			continue
		}
		if err := d.API.VolumeRemove(ctx, v.Name, true); err != nil && !errdefs.IsNotFound(err) {
			slog.Warn("removing volume of a dead run", "volume", v.Name, "err", err)
			continue
		}
		removed = append(removed, "volume "+v.Name)
	}
	return removed, nil
}

func containerName(names []string) string {
	if len(names) == 0 {
		return "?"
	}
	return strings.TrimPrefix(names[0], "/")
}

// resources records what a run created, in creation order, so cleanup can
// remove it in reverse.
type resources struct {
	containers []string // names
	networks   []string
	volumes    []string
}

// remove deletes everything in r. Containers go first because a network or
// volume in use cannot be removed. Errors are collected, not fatal.
func (r *resources) remove(ctx context.Context, d *Docker) []error {
	var errs []error
	for i := len(r.containers) - 1; i >= 0; i-- {
		name := r.containers[i]
		err := d.API.ContainerRemove(ctx, name, container.RemoveOptions{Force: true, RemoveVolumes: true})
		if err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("removing container %s: %w", name, err))
		}
	}
	for _, name := range r.networks {
		if err := d.API.NetworkRemove(ctx, name); err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("removing network %s: %w", name, err))
		}
	}
	for _, name := range r.volumes {
		if err := d.API.VolumeRemove(ctx, name, true); err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("removing volume %s: %w", name, err))
		}
	}
	return errs
}

func (r *resources) names() []string {
	var out []string
	for _, c := range r.containers {
		out = append(out, "container "+c)
	}
	for _, n := range r.networks {
		out = append(out, "network "+n)
	}
	for _, v := range r.volumes {
		out = append(out, "volume "+v)
	}
	return out
}
