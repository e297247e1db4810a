package steps

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	"werk/config"
	"werk/engine"
	"werk/internal/testenv"
)

// pipelineRun is the outcome of one pipeline run in a test.
type pipelineRun struct {
	result engine.RunFinished
	// output is every log line, notice and step message, as a user sees them.
	output string
	// werkLog is what werk logged with log/slog during the run.
	werkLog string
	// durations are the main steps' durations by index.
	durations map[int]time.Duration
}

// runOptions adjust a test pipeline run.
type runOptions struct {
	pull    engine.PullPolicy
	noPush  bool
	hostEnv map[string]string
	// files are written into the project directory, by relative path.
	files map[string][]byte
	// quiet leaves the pipeline output out of the test log.
	quiet bool
	// noResponse replaces the two-minute limit on a silent step.
	noResponse time.Duration
}

// runPushPipeline runs the build pipeline of yml through engine.NewRunner
// with the steps package's builders, as werk build does.
func runPushPipeline(t testing.TB, yml string, o runOptions) pipelineRun {
	t.Helper()
	cli := testenv.Docker(t)
	testenv.RequireImage(t, cli, testenv.BusyboxImage)

	project := t.TempDir()
	workDir := filepath.Join(t.TempDir(), "werk")
	if err := os.MkdirAll(workDir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(project, "wercker.yml")
	if err := os.WriteFile(path, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, data := range o.files {
		if err := os.WriteFile(filepath.Join(project, name), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	file, err := config.Parse(path, []byte(yml))
	if err != nil {
		t.Fatalf("parsing the test pipeline: %v\n%s", err, yml)
	}
	pipeline, err := file.Pipeline("build")
	if err != nil {
		t.Fatal(err)
	}
	mainSteps, err := BuildAll(pipeline.Steps, Project{Dir: project, WorkingDir: workDir})
	if err != nil {
		t.Fatalf("building steps: %v", err)
	}

	// Capture werk's own log the way main sets it up, at debug level.
	var logBuf lockedBuffer
	previous := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer slog.SetDefault(previous)

	ctx := context.Background()
	docker, err := engine.Connect(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer docker.Close()

	pull := o.pull
	if pull == "" {
		pull = engine.PullMissing
	}
	noResponse := o.noResponse
	if noResponse == 0 {
		noResponse = 2 * time.Minute
	}
	hostEnv := o.hostEnv
	if hostEnv == nil {
		hostEnv = map[string]string{}
	}
	bus := engine.NewBus(nil)
	events := bus.Subscribe(1024, false)
	var output strings.Builder
	durations := map[int]time.Duration{}
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for e := range events.C {
			switch v := e.(type) {
			case engine.LogLine:
				output.WriteString(v.Text + "\n")
			case engine.Notice:
				output.WriteString("notice: " + v.Text + "\n")
			case engine.StepFinished:
				if v.Step.Phase == engine.PhaseMain {
					durations[v.Step.Index] = v.Duration
				}
				fmt.Fprintf(&output, "step %q %s: %s\n", v.Step.Name, v.Status, v.Message)
			case engine.RunFinished:
				if v.Err != nil {
					output.WriteString("run: " + v.Err.Error() + "\n")
				}
			}
		}
	}()
	runner := engine.NewRunner(docker, bus, engine.Options{
		Command:    "build",
		ProjectDir: project,
		WorkingDir: workDir,
		File:       file,
		Pipeline:   pipeline,
		Pull:       pull,
		NoPush:     o.noPush,
		HostEnv:    hostEnv,
		Timeouts:   engine.Timeouts{NoResponse: noResponse, Command: 5 * time.Minute},
	}, mainSteps, nil)
	result := runner.Run(ctx)
	bus.Close()
	<-collected
	run := pipelineRun{result: result, output: output.String(), werkLog: logBuf.String(), durations: durations}
	if !o.quiet {
		t.Logf("pipeline output:\n%s", run.output)
	}
	return run
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func requirePassed(t testing.TB, run pipelineRun) {
	t.Helper()
	if run.result.Result != engine.ResultPassed {
		t.Fatalf("pipeline result = %v (%v), want passed", run.result.Result, run.result.Err)
	}
}

// requireNoSecret fails when secret appears in the output or werk's log.
func requireNoSecret(t *testing.T, run pipelineRun, secret string) {
	t.Helper()
	if strings.Contains(run.output, secret) {
		t.Errorf("the password appears in the pipeline output")
	}
	if strings.Contains(run.werkLog, secret) {
		t.Errorf("the password appears in werk's log")
	}
	if run.result.Err != nil && strings.Contains(run.result.Err.Error(), secret) {
		t.Errorf("the password appears in the run's error")
	}
}

// removeImages deletes the local images the test made, when it ends.
func removeImages(t testing.TB, refs ...string) {
	t.Helper()
	cli := testenv.Docker(t)
	t.Cleanup(func() {
		for _, ref := range refs {
			_, _ = cli.ImageRemove(context.Background(), ref, image.RemoveOptions{Force: true, PruneChildren: true})
		}
	})
}

// registryJSON GETs path from the registry and decodes the JSON response
// into v. It returns the Docker-Content-Digest header.
func registryJSON(t *testing.T, reg *testenv.Registry, path string, v any) string {
	t.Helper()
	resp := reg.Get(t, path)
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", path, resp.Status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: decoding %s: %v", path, body, err)
	}
	return resp.Header.Get("Docker-Content-Digest")
}

type registryManifest struct {
	MediaType string `json:"mediaType"`
	Config    struct {
		Digest string `json:"digest"`
	} `json:"config"`
	Layers []struct {
		Digest    string `json:"digest"`
		MediaType string `json:"mediaType"`
	} `json:"layers"`
}

type registryImageConfig struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	Author       string `json:"author"`
	Created      string `json:"created"`
	Config       struct {
		Cmd          []string            `json:"Cmd"`
		Entrypoint   []string            `json:"Entrypoint"`
		Env          []string            `json:"Env"`
		Labels       map[string]string   `json:"Labels"`
		ExposedPorts map[string]struct{} `json:"ExposedPorts"`
		Volumes      map[string]struct{} `json:"Volumes"`
		WorkingDir   string              `json:"WorkingDir"`
	} `json:"config"`
}

// pushedImage reads the manifest and configuration of repo:tag from the
// registry and returns them with the manifest digest.
func pushedImage(t *testing.T, reg *testenv.Registry, repo, tag string) (registryManifest, registryImageConfig, string) {
	t.Helper()
	var m registryManifest
	digest := registryJSON(t, reg, "/v2/"+repo+"/manifests/"+tag, &m)
	var c registryImageConfig
	registryJSON(t, reg, "/v2/"+repo+"/blobs/"+m.Config.Digest, &c)
	return m, c, digest
}

// layerEntries lists the paths in one layer blob of repo, with a trailing /
// for directories and " -> target" for symbolic links, and the mode of each.
func layerEntries(t *testing.T, reg *testenv.Registry, repo, digest string) map[string]int64 {
	t.Helper()
	resp := reg.Get(t, "/v2/"+repo+"/blobs/"+digest)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET layer %s: %s", digest, resp.Status)
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatalf("layer %s is not gzip: %v", digest, err)
	}
	entries := map[string]int64{}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("reading layer %s: %v", digest, err)
		}
		name := strings.TrimPrefix(hdr.Name, "./")
		switch hdr.Typeflag {
		case tar.TypeSymlink:
			name += " -> " + hdr.Linkname
		case tar.TypeDir:
			name = strings.TrimSuffix(name, "/") + "/"
		}
		entries[name] = hdr.Mode
	}
	return entries
}

func tagsOf(t *testing.T, reg *testenv.Registry, repo string) []string {
	t.Helper()
	var list struct {
		Tags []string `json:"tags"`
	}
	registryJSON(t, reg, "/v2/"+repo+"/tags/list", &list)
	slices.Sort(list.Tags)
	return list.Tags
}

// pullAndRun removes ref locally, pulls it from the registry and runs it,
// returning its output.
func pullAndRun(t *testing.T, reg *testenv.Registry, ref string) string {
	t.Helper()
	cli := testenv.Docker(t)
	ctx := context.Background()
	_, _ = cli.ImageRemove(ctx, ref, image.RemoveOptions{Force: true})
	rc, err := cli.ImagePull(ctx, ref, image.PullOptions{RegistryAuth: reg.EncodedAuth(t)})
	if err != nil {
		t.Fatalf("pulling %s: %v", ref, err)
	}
	if _, err := io.Copy(io.Discard, rc); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if _, err := cli.ImageInspect(ctx, ref); err != nil {
		t.Fatalf("%s not there after the pull: %v", ref, err)
	}
	return runImage(t, cli, ref)
}

func runImage(t *testing.T, cli *client.Client, ref string) string {
	t.Helper()
	ctx := context.Background()
	created, err := cli.ContainerCreate(ctx, &container.Config{Image: ref}, nil, nil, nil, "")
	if err != nil {
		t.Fatalf("creating a container of %s: %v", ref, err)
	}
	defer cli.ContainerRemove(ctx, created.ID, container.RemoveOptions{Force: true})

	if err := cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		t.Fatalf("starting %s: %v", ref, err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	statusCh, errCh := cli.ContainerWait(waitCtx, created.ID, container.WaitConditionNotRunning)
	select {
	case st := <-statusCh:
		if st.StatusCode != 0 {
			t.Errorf("%s exited with status %d", ref, st.StatusCode)
		}
	case err := <-errCh:
		t.Fatalf("waiting for %s: %v", ref, err)
	}

	logs, err := cli.ContainerLogs(ctx, created.ID, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, logs); err != nil {
		t.Fatal(err)
	}
	return stdout.String() + stderr.String()
}

// closedPort returns a 127.0.0.1 address on which nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// yamlQuote returns s as a YAML double-quoted scalar.
func yamlQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestDockerPushStepCredentials(t *testing.T) {
	reg := testenv.StartRegistry(t)
	repo := reg.Addr + "/team/app"
	removeImages(t, repo+":v1")

	yml := `box: werk-test/busybox:latest
build:
  steps:
    - script:
        name: make output
        code: |
          mkdir -p $WERCKER_OUTPUT_DIR
          echo built > $WERCKER_OUTPUT_DIR/result.txt
    - internal/docker-push:
        repository: ` + repo + `
        tag: v1
        username: $REGISTRY_USER
        password: $REGISTRY_PASSWORD
        cmd: /bin/sh -c "cat /pipeline/output/result.txt"
        env: GREETING="hello world" MODE=prod
        labels: org.example.team=core "org.example.note=a b"
        ports: 8080 53/udp
`
	run := runPushPipeline(t, yml, runOptions{hostEnv: map[string]string{
		"X_REGISTRY_USER":       reg.Username,
		"XXX_REGISTRY_PASSWORD": reg.Password,
	}})
	requirePassed(t, run)
	requireNoSecret(t, run, reg.Password)

	if got := tagsOf(t, reg, "team/app"); !slices.Equal(got, []string{"v1"}) {
		t.Errorf("tags = %q, want [v1]", got)
	}
	_, cfg, digest := pushedImage(t, reg, "team/app", "v1")
	if !strings.Contains(run.output, "pushed "+repo+":v1@"+digest) {
		t.Errorf("output does not report the pushed digest %s", digest)
	}
	if !strings.Contains(run.output, "registry: "+reg.Addr+" (from the repository name)") {
		t.Errorf("output does not name the registry")
	}
	if !strings.Contains(run.output, "credentials: user "+reg.Username+" from step options") {
		t.Errorf("output does not say where the credentials came from")
	}
	if want := []string{"/bin/sh", "-c", "cat /pipeline/output/result.txt"}; !slices.Equal(cfg.Config.Cmd, want) {
		t.Errorf("cmd = %q, want %q", cfg.Config.Cmd, want)
	}
	for _, e := range []string{"GREETING=hello world", "MODE=prod"} {
		if !slices.Contains(cfg.Config.Env, e) {
			t.Errorf("env %q missing from %q", e, cfg.Config.Env)
		}
	}
	if cfg.Config.Labels["org.example.team"] != "core" || cfg.Config.Labels["org.example.note"] != "a b" {
		t.Errorf("labels = %q", cfg.Config.Labels)
	}
	for _, p := range []string{"8080/tcp", "53/udp"} {
		if _, ok := cfg.Config.ExposedPorts[p]; !ok {
			t.Errorf("exposed port %s missing from %v", p, cfg.Config.ExposedPorts)
		}
	}
	if v, ok := cfg.Config.Labels[engine.LabelHost]; ok && v != "" {
		t.Errorf("the image carries werk's owner label %s=%q", engine.LabelHost, v)
	}

	if out := pullAndRun(t, reg, repo+":v1"); strings.TrimSpace(out) != "built" {
		t.Errorf("running the pulled image printed %q, want built", out)
	}
}

func TestDockerPushLiteralPassword(t *testing.T) {
	reg := testenv.StartRegistry(t)
	if reg.Password != `it's"$x` {
		t.Fatalf("the test registry's password is %q; this test needs it's\"$x", reg.Password)
	}
	repo := reg.Addr + "/team/literal"
	removeImages(t, repo+":latest")

	// $$ is a literal $, so the option holds the password as it is.
	literal := strings.ReplaceAll(reg.Password, "$", "$$")
	yml := `box: werk-test/busybox:latest
build:
  steps:
    - internal/docker-push:
        repository: ` + repo + `
        username: ` + reg.Username + `
        password: ` + yamlQuote(literal) + `
`
	run := runPushPipeline(t, yml, runOptions{})
	requirePassed(t, run)
	requireNoSecret(t, run, reg.Password)
	if got := tagsOf(t, reg, "team/literal"); !slices.Equal(got, []string{"latest"}) {
		t.Errorf("tags = %q, want [latest]", got)
	}
}

func TestDockerPushConfigCredentials(t *testing.T) {
	reg := testenv.StartRegistry(t)
	repo := reg.Addr + "/team/cfg"
	removeImages(t, repo+":latest")

	dir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(reg.Username + ":" + reg.Password))
	cfg := `{"auths":{"` + reg.Addr + `":{"auth":"` + auth + `"}}}`
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)

	yml := `box: werk-test/busybox:latest
build:
  steps:
    - internal/docker-push:
        repository: ` + repo + `
`
	run := runPushPipeline(t, yml, runOptions{})
	requirePassed(t, run)
	requireNoSecret(t, run, reg.Password)
	if !strings.Contains(run.output, "from "+filepath.Join(dir, "config.json")) {
		t.Errorf("output does not name the Docker config as the credential source")
	}
	if got := tagsOf(t, reg, "team/cfg"); !slices.Equal(got, []string{"latest"}) {
		t.Errorf("tags = %q, want [latest]", got)
	}
}

func TestDockerPushMissingHelper(t *testing.T) {
	reg := testenv.StartRegistry(t)
	repo := reg.Addr + "/team/helper"
	removeImages(t, repo+":latest")

	dir := t.TempDir()
	cfg := `{"credHelpers":{"` + reg.Addr + `":"werk-test-missing"}}`
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)

	yml := `box: werk-test/busybox:latest
build:
  steps:
    - internal/docker-push:
        repository: ` + repo + `
`
	run := runPushPipeline(t, yml, runOptions{})
	if run.result.Result != engine.ResultFailed {
		t.Fatalf("result = %v, want failed", run.result.Result)
	}
	for _, want := range []string{"docker-credential-werk-test-missing", reg.Addr, "not found"} {
		if !strings.Contains(run.output, want) {
			t.Errorf("the failure does not mention %q", want)
		}
	}
}

func TestDockerPushWrongPassword(t *testing.T) {
	reg := testenv.StartRegistry(t)
	repo := reg.Addr + "/team/wrong"
	removeImages(t, repo+":latest")

	const secret = "wrong-p4ss'\"$word"
	yml := `box: werk-test/busybox:latest
build:
  steps:
    - internal/docker-push:
        repository: ` + repo + `
        username: ` + reg.Username + `
        password: $PUSH_PASSWORD
`
	run := runPushPipeline(t, yml, runOptions{hostEnv: map[string]string{"X_PUSH_PASSWORD": secret}})
	if run.result.Result != engine.ResultFailed {
		t.Fatalf("result = %v, want failed", run.result.Result)
	}
	requireNoSecret(t, run, secret)
	if !strings.Contains(run.output, "unauthorized") && !strings.Contains(run.output, "authentication required") {
		t.Errorf("the failure does not show the registry's message")
	}
	if !strings.Contains(run.output, "check the username and password") {
		t.Errorf("the failure does not say what to check")
	}
	if strings.Contains(run.output, "pushed "+repo) {
		t.Errorf("the output reports a push that failed")
	}
	resp := reg.Get(t, "/v2/team/wrong/tags/list")
	if resp.StatusCode == http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Errorf("the registry has the repository after a rejected push: %s", body)
	}
}

func TestDockerPushSeveralTags(t *testing.T) {
	reg := testenv.StartRegistry(t)
	repo := reg.Addr + "/team/tags"
	removeImages(t, repo+":v1", repo+":v1-abc", repo+":latest")

	yml := `box: werk-test/busybox:latest
build:
  steps:
    - script:
        name: compute the version
        code: export BUILD_SUFFIX=abc
    - internal/docker-push:
        repository: ` + repo + `
        tag: v1, v1-$BUILD_SUFFIX latest
        username: ` + reg.Username + `
        password: $REGISTRY_PASSWORD
`
	run := runPushPipeline(t, yml, runOptions{hostEnv: map[string]string{"XXX_REGISTRY_PASSWORD": reg.Password}})
	requirePassed(t, run)
	if got, want := tagsOf(t, reg, "team/tags"), []string{"latest", "v1", "v1-abc"}; !slices.Equal(got, want) {
		t.Fatalf("tags = %q, want %q", got, want)
	}
	_, _, first := pushedImage(t, reg, "team/tags", "v1")
	for _, tag := range []string{"v1-abc", "latest"} {
		if _, _, d := pushedImage(t, reg, "team/tags", tag); d != first {
			t.Errorf("tag %s has digest %s, want the same image as v1 (%s)", tag, d, first)
		}
		if !strings.Contains(run.output, "pushed "+repo+":"+tag+"@sha256:") {
			t.Errorf("output does not report the push of %s", tag)
		}
	}
}

func TestDockerPushKeepsCacheOut(t *testing.T) {
	reg := testenv.StartRegistry(t)
	repo := reg.Addr + "/team/cache"
	removeImages(t, repo+":latest")

	yml := `box: werk-test/busybox:latest
build:
  steps:
    - script:
        name: fill cache and output
        code: |
          echo cached > $WERCKER_CACHE_DIR/cache-marker.txt
          mkdir -p $WERCKER_OUTPUT_DIR
          echo out > $WERCKER_OUTPUT_DIR/output-marker.txt
    - internal/docker-push:
        repository: ` + repo + `
        username: ` + reg.Username + `
        password: $REGISTRY_PASSWORD
`
	run := runPushPipeline(t, yml, runOptions{hostEnv: map[string]string{"XXX_REGISTRY_PASSWORD": reg.Password}})
	requirePassed(t, run)

	m, cfg, _ := pushedImage(t, reg, "team/cache", "latest")
	if cmd := strings.Join(cfg.Config.Cmd, " "); !strings.Contains(cmd, "exec /bin/sh") {
		t.Errorf("cmd = %q, want the box's shell when the step sets no cmd", cmd)
	}
	all := map[string]int64{}
	for _, l := range m.Layers {
		for name, mode := range layerEntries(t, reg, "team/cache", l.Digest) {
			all[name] = mode
		}
	}
	if _, ok := all["pipeline/output/output-marker.txt"]; !ok {
		t.Fatalf("the committed layer lacks pipeline/output/output-marker.txt, so the check below proves nothing")
	}
	if _, ok := all["pipeline/cache/cache-marker.txt"]; ok {
		t.Errorf("the image contains the cache file pipeline/cache/cache-marker.txt")
	}
	// The mount points themselves stay as empty directories: the engine
	// creates them in the container's layer before it mounts anything.
	for name := range all {
		if strings.HasPrefix(name, "pipeline/cache/") && name != "pipeline/cache/" {
			t.Errorf("the image contains cache content %s", name)
		}
		if strings.HasPrefix(name, "werk/") && name != "werk/" {
			t.Errorf("the image contains werk's bookkeeping %s", name)
		}
	}
}

func TestDockerPushDockerHubInferred(t *testing.T) {
	cli := testenv.Docker(t)
	const repo = "werk-test/hub-inference"
	removeImages(t, repo+":latest")

	yml := `box: werk-test/busybox:latest
build:
  steps:
    - internal/docker-push:
        repository: ` + repo + `
`
	for _, c := range []struct {
		name   string
		opts   runOptions
		reason string
	}{
		{"docker-local", runOptions{pull: engine.PullNever}, "--docker-local"},
		{"push off", runOptions{noPush: true}, "--push=false"},
	} {
		t.Run(c.name, func(t *testing.T) {
			run := runPushPipeline(t, yml, c.opts)
			requirePassed(t, run)
			if !strings.Contains(run.output, "registry: Docker Hub (docker.io) (the repository has no registry part)") {
				t.Errorf("output does not say the registry is Docker Hub")
			}
			if !strings.Contains(run.output, "not pushing to Docker Hub (docker.io): "+c.reason+" only tags images locally") {
				t.Errorf("output does not say that %s only tags", c.reason)
			}
			if strings.Contains(run.output, "pushing "+repo) {
				t.Errorf("output reports a push")
			}
			if _, err := cli.ImageInspect(context.Background(), repo+":latest"); err != nil {
				t.Errorf("the image is not tagged locally: %v", err)
			}
		})
	}
}

func TestDockerPushRegistryDown(t *testing.T) {
	repo := closedPort(t) + "/team/down"
	removeImages(t, repo+":latest")

	yml := `box: werk-test/busybox:latest
build:
  steps:
    - internal/docker-push:
        repository: ` + repo + `
        username: someone
        password: some-secret-value
`
	run := runPushPipeline(t, yml, runOptions{})
	if run.result.Result != engine.ResultFailed {
		t.Fatalf("result = %v, want failed", run.result.Result)
	}
	if !strings.Contains(run.output, "connection refused") {
		t.Errorf("the failure does not show the connection error")
	}
	requireNoSecret(t, run, "some-secret-value")
}

// silentListener accepts connections on 127.0.0.1 and never responds, like
// a registry that hangs. It returns the address.
func silentListener(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

func TestDockerPushRegistryHangs(t *testing.T) {
	// No Docker configuration, so the push is anonymous whatever the user
	// running the test has configured.
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	repo := silentListener(t) + "/team/hangs"
	removeImages(t, repo+":latest")

	yml := `box: werk-test/busybox:latest
build:
  steps:
    - internal/docker-push:
        repository: ` + repo + `
`
	run := runPushPipeline(t, yml, runOptions{noResponse: 3 * time.Second})
	if run.result.Result != engine.ResultFailed {
		t.Fatalf("result = %v, want failed", run.result.Result)
	}
	if !strings.Contains(run.output, "no response from the engine or the registry for 3s") {
		t.Errorf("the failure does not report the silent registry")
	}
	if !strings.Contains(run.output, "check that the registry") {
		t.Errorf("the failure does not say what to check")
	}
}

// buildStaticHello compiles a Go program that prints msg, without cgo, for
// the engine's platform, and returns the binary.
func buildStaticHello(t *testing.T, msg string) []byte {
	t.Helper()
	cli := testenv.Docker(t)
	v, err := cli.ServerVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src := "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(" + yamlQuote(msg) + ") }\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module hello\n\ngo 1.21\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	cmd := exec.Command(goTool, "build", "-trimpath", "-ldflags=-s -w", "-o", "hello", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+v.Os, "GOARCH="+v.Arch, "GOFLAGS=", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the static test program: %v\n%s", err, out)
	}
	bin, err := os.ReadFile(filepath.Join(dir, "hello"))
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func TestScratchPushStaticBinary(t *testing.T) {
	reg := testenv.StartRegistry(t)
	repo := reg.Addr + "/team/scratch"
	removeImages(t, repo+":v1", repo+":latest")
	const message = "hello from a werk scratch image"
	bin := buildStaticHello(t, message)

	yml := `box: werk-test/busybox:latest
build:
  steps:
    - script:
        name: install the binary
        code: |
          mkdir -p $WERCKER_OUTPUT_DIR/bin
          cp hello $WERCKER_OUTPUT_DIR/bin/hello
          chmod 0755 $WERCKER_OUTPUT_DIR/bin/hello
          ln -s bin/hello $WERCKER_OUTPUT_DIR/hello-link
          echo config > $WERCKER_OUTPUT_DIR/settings.conf
          chmod 0600 $WERCKER_OUTPUT_DIR/settings.conf
    - internal/docker-scratch-push:
        repository: ` + repo + `
        tag: v1 latest
        username: ` + reg.Username + `
        password: $REGISTRY_PASSWORD
        entrypoint: /hello-link
        env: APP_MODE=scratch
        labels: org.example.kind=scratch
        ports: 9090
        volumes: /data
        working-dir: /bin
`
	opts := runOptions{
		hostEnv: map[string]string{"XXX_REGISTRY_PASSWORD": reg.Password},
		files:   map[string][]byte{"hello": bin},
	}
	run := runPushPipeline(t, yml, opts)
	requirePassed(t, run)
	requireNoSecret(t, run, reg.Password)

	if got, want := tagsOf(t, reg, "team/scratch"), []string{"latest", "v1"}; !slices.Equal(got, want) {
		t.Errorf("tags = %q, want %q", got, want)
	}
	m, cfg, digest := pushedImage(t, reg, "team/scratch", "v1")
	if len(m.Layers) != 1 {
		t.Fatalf("the image has %d layers, want 1", len(m.Layers))
	}
	v, err := testenv.Docker(t).ServerVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.OS != v.Os || cfg.Architecture != v.Arch {
		t.Errorf("platform = %s/%s, want the engine's %s/%s", cfg.OS, cfg.Architecture, v.Os, v.Arch)
	}
	if !slices.Equal(cfg.Config.Entrypoint, []string{"/hello-link"}) {
		t.Errorf("entrypoint = %q", cfg.Config.Entrypoint)
	}
	if !slices.Contains(cfg.Config.Env, "APP_MODE=scratch") {
		t.Errorf("env = %q", cfg.Config.Env)
	}
	if cfg.Config.Labels["org.example.kind"] != "scratch" {
		t.Errorf("labels = %q", cfg.Config.Labels)
	}
	if _, ok := cfg.Config.ExposedPorts["9090/tcp"]; !ok {
		t.Errorf("exposed ports = %v", cfg.Config.ExposedPorts)
	}
	if _, ok := cfg.Config.Volumes["/data"]; !ok || cfg.Config.WorkingDir != "/bin" {
		t.Errorf("volumes = %v, working dir = %q", cfg.Config.Volumes, cfg.Config.WorkingDir)
	}
	if !strings.HasPrefix(cfg.Created, "1970-01-01T00:00:00") {
		t.Errorf("created = %q, want the Unix epoch", cfg.Created)
	}

	entries := layerEntries(t, reg, "team/scratch", m.Layers[0].Digest)
	want := map[string]int64{"bin/": -1, "bin/hello": 0o755, "hello-link -> bin/hello": -1, "settings.conf": 0o600}
	for name, mode := range want {
		got, ok := entries[name]
		if !ok {
			t.Errorf("layer lacks %s; it has %v", name, entries)
			continue
		}
		if mode >= 0 && got&0o7777 != mode {
			t.Errorf("%s has mode %o, want %o", name, got&0o7777, mode)
		}
	}
	for name := range entries {
		if strings.HasPrefix(name, "output") || strings.HasPrefix(name, "pipeline") {
			t.Errorf("layer entry %s is not rooted at /", name)
		}
	}

	if out := pullAndRun(t, reg, repo+":v1"); strings.TrimSpace(out) != message {
		t.Errorf("the image printed %q, want %q", out, message)
	}

	// The same output gives the same image: push it again under another tag.
	yml2 := strings.Replace(yml, "tag: v1 latest", "tag: again", 1)
	removeImages(t, repo+":again")
	run2 := runPushPipeline(t, yml2, opts)
	requirePassed(t, run2)
	m2, _, digest2 := pushedImage(t, reg, "team/scratch", "again")
	if m2.Config.Digest != m.Config.Digest {
		t.Errorf("config digest %s differs from the first push's %s", m2.Config.Digest, m.Config.Digest)
	}
	if digest2 != digest {
		t.Errorf("manifest digest %s differs from the first push's %s", digest2, digest)
	}
}

func TestScratchPushFallsBackToSource(t *testing.T) {
	reg := testenv.StartRegistry(t)
	repo := reg.Addr + "/team/fallback"
	removeImages(t, repo+":latest")

	yml := `box: werk-test/busybox:latest
build:
  steps:
    - script:
        name: empty output
        code: mkdir -p $WERCKER_OUTPUT_DIR/empty-dir
    - internal/docker-scratch-push:
        repository: ` + repo + `
        username: ` + reg.Username + `
        password: $REGISTRY_PASSWORD
`
	run := runPushPipeline(t, yml, runOptions{
		hostEnv: map[string]string{"XXX_REGISTRY_PASSWORD": reg.Password},
		files:   map[string][]byte{"source-marker.txt": []byte("from the source\n")},
	})
	requirePassed(t, run)
	if !strings.Contains(run.output, "has no regular file; building the image from the source directory") {
		t.Errorf("output does not say that the source directory was used")
	}
	m, _, _ := pushedImage(t, reg, "team/fallback", "latest")
	entries := layerEntries(t, reg, "team/fallback", m.Layers[0].Digest)
	if _, ok := entries["source-marker.txt"]; !ok {
		t.Errorf("the layer lacks source-marker.txt from the source directory; it has %v", entries)
	}
}

func TestDockerPushImageName(t *testing.T) {
	reg := testenv.StartRegistry(t)
	cli := testenv.Docker(t)
	testenv.RequireImage(t, cli, testenv.BusyboxImage)
	ctx := context.Background()
	source := fmt.Sprintf("werk-test/push-source-%d:latest", time.Now().UnixNano())
	if err := cli.ImageTag(ctx, testenv.BusyboxImage, source); err != nil {
		t.Fatal(err)
	}
	repo := reg.Addr + "/team/named"
	removeImages(t, source, repo+":latest")
	inspect, err := cli.ImageInspect(ctx, source)
	if err != nil {
		t.Fatal(err)
	}

	yml := `box: werk-test/busybox:latest
build:
  steps:
    - internal/docker-push:
        repository: ` + repo + `
        image-name: ` + source + `
        username: ` + reg.Username + `
        password: $REGISTRY_PASSWORD
`
	run := runPushPipeline(t, yml, runOptions{hostEnv: map[string]string{"XXX_REGISTRY_PASSWORD": reg.Password}})
	requirePassed(t, run)
	if strings.Contains(run.output, "committed the box") {
		t.Errorf("the step committed the box instead of pushing %s", source)
	}
	m, _, _ := pushedImage(t, reg, "team/named", "latest")
	if m.Config.Digest != inspect.ID {
		t.Errorf("pushed config %s, want the image %s (%s)", m.Config.Digest, source, inspect.ID)
	}
}

func TestScratchPushDockerLocal(t *testing.T) {
	const repo = "werk-test/scratch-local"
	removeImages(t, repo+":latest")
	const message = "local scratch image"
	bin := buildStaticHello(t, message)

	yml := `box: werk-test/busybox:latest
build:
  steps:
    - script:
        name: install the binary
        code: cp hello $WERCKER_OUTPUT_DIR/hello
    - internal/docker-scratch-push:
        repository: ` + repo + `
        cmd: /hello
`
	run := runPushPipeline(t, yml, runOptions{pull: engine.PullNever, files: map[string][]byte{"hello": bin}})
	requirePassed(t, run)
	if !strings.Contains(run.output, "--docker-local only tags images locally") {
		t.Errorf("output does not say that the image was only tagged")
	}
	if out := runImage(t, testenv.Docker(t), repo+":latest"); strings.TrimSpace(out) != message {
		t.Errorf("the local image printed %q, want %q", out, message)
	}
}
