package engine

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/go-connections/nat"
	"mvdan.cc/sh/v3/shell"

	"werk/config"
)

// keeperCommand is PID 1 of the box container. It idles and reaps orphaned
// processes, so the container outlives any step shell: a step that exits the
// shell still reports its real status, and after-steps and debug shells run in
// the same container.
var keeperCommand = []string{"/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"}

// defaultShell starts bash when the box has it, else sh, as wercker did.
var defaultShell = []string{"/bin/sh", "-c", "if [ -x /bin/bash ]; then exec /bin/bash; fi; exec /bin/sh"}

// serviceReadyTimeout bounds the wait for a service's exposed TCP ports.
const serviceReadyTimeout = 30 * time.Second

// splitWords splits a cmd or entrypoint string as a POSIX shell would, without
// expanding anything.
func splitWords(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	words, err := shell.Fields(s, func(string) string { return "" })
	if err != nil {
		return nil, fmt.Errorf("invalid command %q: %w", s, err)
	}
	return words, nil
}

// createNetwork makes the run's bridge network.
func (r *Runner) createNetwork(ctx context.Context) error {
	name := "werk-" + r.info.ID
	resp, err := r.docker.API.NetworkCreate(ctx, name, network.CreateOptions{
		Driver: "bridge",
		Labels: ownerLabels(r.info.ID, "network", r.opts.ProjectDir),
	})
	if err != nil {
		return fmt.Errorf("creating network %s: %w", name, err)
	}
	r.res.networks = append(r.res.networks, name)
	r.info.NetworkID = resp.ID
	r.networkName = name
	return nil
}

// portConfig parses docker-style port specs.
func portConfig(specs []string) (nat.PortSet, nat.PortMap, error) {
	exposed, bindings, err := nat.ParsePortSpecs(specs)
	if err != nil {
		return nil, nil, fmt.Errorf("invalid port spec in %q: %w (use PORT, HOSTPORT:PORT or IP:HOSTPORT:PORT, optionally with /tcp or /udp)",
			strings.Join(specs, " "), err)
	}
	return exposed, bindings, nil
}

// startServices starts every service in order and returns the link variables
// for the box.
func (r *Runner) startServices(ctx context.Context) ([]string, error) {
	var links []string
	for i := range r.opts.Pipeline.Services {
		svc := &r.opts.Pipeline.Services[i]
		vars, err := r.startService(ctx, svc, links)
		if err != nil {
			return nil, err
		}
		links = append(links, vars...)
	}
	return links, nil
}

func (r *Runner) startService(ctx context.Context, svc *config.Box, links []string) ([]string, error) {
	alias := svc.Alias()
	img := r.env.Expand(svc.Image())
	if svc.URL != "" {
		return nil, fmt.Errorf("%s: service %q uses url %q: external services built from another project are not supported yet; "+
			"build that project's image first and use it with id", svc.Pos, alias, svc.URL)
	}
	r.publish(ServiceState{Alias: alias, Image: img, Status: ServiceStarting, Time: time.Now()})
	if err := r.ensureImage(ctx, img, svc); err != nil {
		return nil, r.serviceFailed(alias, img, err)
	}
	cmd, err := splitWords(svc.Cmd)
	if err != nil {
		return nil, r.serviceFailed(alias, img, fmt.Errorf("%s: service %q cmd: %w", svc.Pos, alias, err))
	}
	entrypoint, err := splitWords(svc.Entrypoint)
	if err != nil {
		return nil, r.serviceFailed(alias, img, fmt.Errorf("%s: service %q entrypoint: %w", svc.Pos, alias, err))
	}
	ports := svc.Ports
	exposed, bindings, err := portConfig(ports)
	if err != nil {
		return nil, r.serviceFailed(alias, img, err)
	}
	if !r.opts.ExposePorts {
		bindings = nil
	}
	env := append([]string(nil), links...)
	for _, e := range svc.Env {
		env = append(env, e.Key+"="+r.env.Expand(e.Value))
	}
	name := fmt.Sprintf("werk-%s-%s", r.info.ID, sanitizeName(alias))
	cfg := &container.Config{
		Image:        img,
		Env:          env,
		Cmd:          cmd,
		ExposedPorts: exposed,
		Labels:       ownerLabels(r.info.ID, "service", r.opts.ProjectDir),
	}
	if len(entrypoint) > 0 {
		cfg.Entrypoint = entrypoint
	}
	hostCfg := &container.HostConfig{PortBindings: bindings}
	netCfg := &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
		r.networkName: {Aliases: []string{alias}},
	}}
	created, err := r.docker.API.ContainerCreate(ctx, cfg, hostCfg, netCfg, nil, name)
	if err != nil {
		return nil, r.serviceFailed(alias, img, fmt.Errorf("creating service %q: %w", alias, err))
	}
	r.res.containers = append(r.res.containers, name)
	if err := r.docker.API.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		return nil, r.serviceFailed(alias, img, portError(ctx, r.docker, fmt.Errorf("starting service %q: %w", alias, err)))
	}
	go r.followServiceLogs(created.ID, alias)

	inspect, err := r.docker.API.ContainerInspect(ctx, created.ID)
	if err != nil {
		return nil, r.serviceFailed(alias, img, fmt.Errorf("inspecting service %q: %w", alias, err))
	}
	ip := ""
	if ep, ok := inspect.NetworkSettings.Networks[r.networkName]; ok {
		ip = ep.IPAddress
	}
	allPorts := map[nat.Port]struct{}{}
	for p := range inspect.Config.ExposedPorts {
		allPorts[p] = struct{}{}
	}
	if err := r.waitForService(ctx, created.ID, alias, ip, allPorts); err != nil {
		return nil, r.serviceFailed(alias, img, err)
	}
	r.publish(ServiceState{Alias: alias, Image: img, Status: ServiceRunning, Detail: ip, Time: time.Now()})
	return linkVariables(r.boxName, alias, ip, allPorts, inspect.Config.Env), nil
}

func (r *Runner) serviceFailed(alias, img string, err error) error {
	r.publish(ServiceState{Alias: alias, Image: img, Status: ServiceFailed, Detail: err.Error(), Time: time.Now()})
	return err
}

// waitForService waits until each exposed TCP port of the service accepts a
// connection, or the container exits. A port that never accepts only warns:
// some services expose ports they open late or never.
func (r *Runner) waitForService(ctx context.Context, id, alias, ip string, ports map[nat.Port]struct{}) error {
	if ip == "" || len(ports) == 0 {
		return nil
	}
	deadline := time.Now().Add(serviceReadyTimeout)
	for p := range ports {
		if p.Proto() != "tcp" {
			continue
		}
		addr := net.JoinHostPort(ip, p.Port())
		for {
			conn, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
			if err == nil {
				conn.Close()
				break
			}
			inspect, ierr := r.docker.API.ContainerInspect(ctx, id)
			if ierr == nil && !inspect.State.Running {
				return fmt.Errorf("service %q exited with status %d before port %s was ready (its output is in the log above)",
					alias, inspect.State.ExitCode, p)
			}
			if time.Now().After(deadline) {
				r.notice(NoticeWarn, fmt.Sprintf("service %q: port %s did not accept connections within %s; going on", alias, p, serviceReadyTimeout))
				return nil
			}
			select {
			case <-ctx.Done():
				return context.Cause(ctx)
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return nil
}

// followServiceLogs publishes a service's output until the container ends.
func (r *Runner) followServiceLogs(id, alias string) {
	rc, err := r.docker.API.ContainerLogs(context.Background(), id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Follow: true})
	if err != nil {
		return
	}
	defer rc.Close()
	sink := func(stream Stream, text string) {
		r.publish(LogLine{Service: alias, Stream: stream, Text: text, Time: time.Now()})
	}
	out := &plainLineWriter{sink: sink, stream: Stdout}
	errw := &plainLineWriter{sink: sink, stream: Stderr}
	_, _ = stdcopyStdCopy(out, errw, rc)
	out.flush()
	errw.flush()
}

// linkVariables returns the docker-link style variables wercker gave the box
// for a service: ALIAS_NAME, ALIAS_PORT, ALIAS_PORT_5432_TCP and its _ADDR,
// _PORT and _PROTO parts, and ALIAS_ENV_K for the service's environment.
func linkVariables(boxName, alias, ip string, ports map[nat.Port]struct{}, env []string) []string {
	prefix := strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(alias))
	vars := []string{fmt.Sprintf("%s_NAME=/%s/%s", prefix, boxName, strings.ReplaceAll(alias, "-", "_"))}
	sorted := make([]nat.Port, 0, len(ports))
	for p := range ports {
		sorted = append(sorted, p)
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Int() < sorted[j].Int() })
	for i, p := range sorted {
		proto := p.Proto()
		base := fmt.Sprintf("%s_PORT_%s_%s", prefix, p.Port(), strings.ToUpper(proto))
		url := fmt.Sprintf("%s://%s:%s", proto, ip, p.Port())
		vars = append(vars,
			base+"="+url,
			base+"_ADDR="+ip,
			base+"_PORT="+p.Port(),
			base+"_PROTO="+proto,
		)
		if i == 0 {
			vars = append(vars, prefix+"_PORT="+url)
		}
	}
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.Contains(k, "_PORT") || strings.HasSuffix(k, "_NAME") {
			continue
		}
		vars = append(vars, fmt.Sprintf("%s_ENV_%s=%s", prefix, k, v))
	}
	return vars
}

func sanitizeName(s string) string {
	return strings.NewReplacer("/", "-", ":", "_", "@", "_").Replace(s)
}

// createBox creates the box container (not started).
func (r *Runner) createBox(ctx context.Context, links []string) error {
	p := r.opts.Pipeline
	box := p.Box
	img := r.env.Expand(box.Image())

	shellCmd := defaultShell
	if box.Cmd != "" {
		words, err := splitWords(box.Cmd)
		if err != nil {
			return fmt.Errorf("%s: box cmd: %w", box.Pos, err)
		}
		shellCmd = words
	}
	if box.Entrypoint != "" {
		words, err := splitWords(box.Entrypoint)
		if err != nil {
			return fmt.Errorf("%s: box entrypoint: %w", box.Pos, err)
		}
		shellCmd = append(words, shellCmd...)
	}

	env := append([]string(nil), links...)
	for _, e := range box.Env {
		env = append(env, e.Key+"="+r.env.Expand(e.Value))
	}

	specs := r.opts.Publish
	if len(specs) == 0 && r.opts.ExposePorts {
		specs = box.Ports
	}
	exposed, bindings, err := portConfig(specs)
	if err != nil {
		return err
	}
	r.publishedSpecs = specs

	mounts := []mount.Mount{
		// An anonymous volume: the engine creates it with the container and
		// removes it with the container, which saves two API calls a run.
		{Type: mount.TypeVolume, Target: guestWerkDir, VolumeOptions: &mount.VolumeOptions{
			Labels: ownerLabels(r.info.ID, "bookkeeping", r.opts.ProjectDir),
		}},
		{Type: mount.TypeBind, Source: r.cacheDir, Target: "/pipeline/cache"},
	}
	if r.opts.DirectMount {
		mounts = append(mounts, mount.Mount{Type: mount.TypeBind, Source: r.opts.ProjectDir, Target: r.basePath})
	}
	hostCfg := &container.HostConfig{
		Mounts:       mounts,
		PortBindings: bindings,
		Privileged:   p.Docker,
	}
	if p.Docker {
		if sock, ok := strings.CutPrefix(r.docker.Host, "unix://"); ok {
			hostCfg.Binds = append(hostCfg.Binds, sock+":"+sock)
		}
	}
	for _, v := range box.Volumes {
		if !r.opts.EnableVolumes {
			break
		}
		hostCfg.Binds = append(hostCfg.Binds, volumeBind(r.env.Expand(v)))
	}
	cfg := &container.Config{
		Image:        img,
		Cmd:          keeperCommand,
		Entrypoint:   []string{},
		Env:          env,
		ExposedPorts: exposed,
		Labels:       ownerLabels(r.info.ID, "box", r.opts.ProjectDir),
	}
	var netCfg *network.NetworkingConfig
	if r.networkName != "" {
		netCfg = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{r.networkName: {}}}
	}
	created, err := r.docker.API.ContainerCreate(ctx, cfg, hostCfg, netCfg, nil, r.boxName)
	if err != nil {
		return fmt.Errorf("creating the box container from %q: %w", img, err)
	}
	r.res.containers = append(r.res.containers, r.boxName)
	r.box = &Box{d: r.docker, ID: created.ID, Name: r.boxName, Image: img, SourceDir: r.sourceDir, shell: shellCmd}
	return nil
}

// volumeBind turns a wercker volume entry into a bind: "path" mounts the
// same path on both sides.
func volumeBind(v string) string {
	if strings.Contains(v, ":") {
		return v
	}
	return v + ":" + v
}

// copySource copies the project into the created box (copy mode).
func (r *Runner) copySource(ctx context.Context) error {
	start := time.Now()
	r.publish(SetupProgress{Phase: "copy source", Detail: r.opts.ProjectDir, Time: start})
	pr, pw := io.Pipe()
	var files int
	var size int64
	go func() {
		var err error
		prefix := strings.TrimPrefix(r.basePath, "/")
		tw := tar.NewWriter(pw)
		err = tw.WriteHeader(outputDirHeader())
		if err == nil {
			files, size, err = writeTree(tw, r.opts.ProjectDir, prefix, []string{r.opts.WorkingDir}, []string{".werckerignore"})
		}
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	err := r.docker.API.CopyToContainer(ctx, r.box.ID, "/", pr, container.CopyToContainerOptions{})
	pr.CloseWithError(err)
	if err != nil {
		return fmt.Errorf("copying %s into the box: %w", r.opts.ProjectDir, err)
	}
	r.publish(SetupProgress{Phase: "copy source", Detail: fmt.Sprintf("%s, %s", plural(files, "file"), humanBytes(size)),
		Done: true, Duration: time.Since(start), Time: time.Now()})
	return nil
}

// createOutputDir creates /pipeline/output in the created box through the
// archive API, which needs no exec and no tools in the box.
func (r *Runner) createOutputDir(ctx context.Context) error {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(outputDirHeader()); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := r.docker.API.CopyToContainer(ctx, r.box.ID, "/", &buf, container.CopyToContainerOptions{}); err != nil {
		return fmt.Errorf("creating /pipeline/output in the box: %w", err)
	}
	return nil
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return strconv.FormatFloat(float64(n)/(1<<30), 'f', 1, 64) + " GiB"
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " B"
}

// guestJoin joins a guest path.
func guestJoin(elem ...string) string { return path.Clean(path.Join(elem...)) }

// plural returns "1 file" or "N files".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// outputDirHeader is the archive entry of /pipeline/output.
func outputDirHeader() *tar.Header {
	return &tar.Header{Typeflag: tar.TypeDir, Name: "pipeline/output/", Mode: 0o755, ModTime: time.Now()}
}
