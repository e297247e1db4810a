// Package testenv gives tests access to the Docker engine, the offline box
// images and a private image registry, and skips or fails each test that needs
// one of them when it is missing.
//
// Outside CI a missing component skips the test, so `go test ./...` works on
// a machine without Docker. When the environment variable CI is true (as
// strconv.ParseBool reads it), a missing component fails the test instead,
// so that a broken setup cannot pass as a run of skipped tests.
// scripts/test.sh installs and starts everything these helpers look for.
package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/client"
	"golang.org/x/crypto/bcrypt"
)

// Box images that scripts/box-images.sh builds with `docker import` from
// Debian's busybox-static and bash-static, so that tests need no registry.
const (
	// BusyboxImage contains /bin/busybox, a symlink for every applet, root and
	// nobody in /etc/passwd, and /tmp with mode 1777.
	BusyboxImage = "werk-test/busybox:latest"
	// BashImage is BusyboxImage plus /bin/bash and tput with its terminfo entries.
	BashImage = "werk-test/bash:latest"
)

// pingTimeout bounds the first contact with the Docker engine. A local
// engine responds to a ping in milliseconds, so reaching the limit means that
// none is running.
const pingTimeout = 5 * time.Second

// InCI reports whether the environment variable CI is set to a true value.
func InCI() bool {
	ci, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && ci
}

// skipOrFail stops the test because a component it needs is missing: it fails
// in CI and is skipped elsewhere.
func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

var engine struct {
	once   sync.Once
	client *client.Client
	err    error
}

// Docker returns a client of the Docker engine that DOCKER_HOST and the other
// DOCKER_* variables select, or the local socket. The first call pings the
// engine, and every later call in the process reuses that result, so a
// missing engine costs one timeout per test binary. The client is shared by
// all tests: do not close it.
func Docker(t testing.TB) *client.Client {
	t.Helper()
	engine.once.Do(func() {
		engine.client, engine.err = connectDocker()
	})
	if engine.err != nil {
		skipOrFail(t, "Docker engine not reachable: %v; start one with scripts/docker-up.sh (as root)", engine.err)
	}
	return engine.client
}

func connectDocker() (*client.Client, error) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("creating the Docker client: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
	defer cancel()
	if _, err := cli.Ping(ctx); err != nil {
		host := cli.DaemonHost()
		cli.Close()
		return nil, fmt.Errorf("ping %s: %w", host, err)
	}
	return cli, nil
}

// RequireImage stops the test (failing in CI, skipping elsewhere) when the
// image ref is not in the engine's local image store. It never pulls.
func RequireImage(t testing.TB, cli *client.Client, ref string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := cli.ImageInspect(ctx, ref)
	if cerrdefs.IsNotFound(err) {
		skipOrFail(t, "image %s not found; build it with scripts/box-images.sh", ref)
	}
	if err != nil {
		t.Fatalf("inspecting image %s: %v", ref, err)
	}
}

// RepoRoot returns the repository root: the nearest folder at or above the
// working directory that contains go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("getting the working directory: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod found in the working directory or any parent")
		}
		dir = parent
	}
}

// registryBinary is the path of the registry (distribution 2.8) in Debian's
// docker-registry package.
const registryBinary = "/usr/bin/docker-registry"

// registryStartTimeout bounds the wait for a new registry to respond to /v2/.
const registryStartTimeout = 15 * time.Second

// Registry is a private image registry on 127.0.0.1 with htpasswd (basic)
// authentication and storage in a test's temporary folder. The Docker engine
// treats registries on 127.0.0.0/8 as insecure, so it pushes and pulls over
// plain HTTP without daemon configuration.
type Registry struct {
	// Addr is "127.0.0.1:PORT", the host part of image references such as
	// Addr + "/team/app:1".
	Addr string

	Username string
	// Password contains a quote, a double quote and a dollar sign, so that
	// code that passes it through a shell or a config file without quoting
	// fails.
	Password string

	logPath string
}

// StartRegistry starts Debian's docker-registry on a free port of 127.0.0.1
// and stops it when the test ends. It stops the test (failing in CI, skipping
// elsewhere) when docker-registry is not installed.
func StartRegistry(t testing.TB) *Registry {
	t.Helper()
	if _, err := os.Stat(registryBinary); err != nil {
		skipOrFail(t, "%s not found (%v); install it with 'apt-get install docker-registry' or run scripts/test.sh", registryBinary, err)
	}

	dir := t.TempDir()
	r := &Registry{
		Username: "werk-test",
		Password: `it's"$x`,
		logPath:  filepath.Join(dir, "registry.log"),
	}
	htpasswdPath := filepath.Join(dir, "htpasswd")
	if err := writeHtpasswd(htpasswdPath, r.Username, r.Password); err != nil {
		t.Fatalf("writing the registry's htpasswd file: %v", err)
	}

	// Another process can take the free port between the probe and the
	// registry's listen, so a start that fails on "address already in use"
	// is retried on a new port.
	const attempts = 3
	for attempt := 1; ; attempt++ {
		addr, err := freeLoopbackAddr()
		if err != nil {
			t.Fatalf("finding a free port on 127.0.0.1: %v", err)
		}
		r.Addr = addr
		err = r.start(t, dir, htpasswdPath)
		if err == nil {
			return r
		}
		if attempt == attempts || !strings.Contains(r.log(), "address already in use") {
			t.Fatalf("starting docker-registry on %s: %v\nregistry log:\n%s", addr, err, r.log())
		}
	}
}

// start runs the registry on r.Addr and waits until /v2/ returns 401.
func (r *Registry) start(t testing.TB, dir, htpasswdPath string) error {
	t.Helper()
	configPath := filepath.Join(dir, "config.yml")
	config := registryConfig(r.Addr, filepath.Join(dir, "storage"), htpasswdPath)
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", configPath, err)
	}

	logFile, err := os.Create(r.logPath)
	if err != nil {
		return fmt.Errorf("creating the registry log: %w", err)
	}
	cmd := exec.Command(registryBinary, "serve", configPath)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("running %s: %w", registryBinary, err)
	}
	// waitErr is written before done is closed and read only after.
	done := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		logFile.Close()
		close(done)
	}()
	stop := func() {
		// The storage is a temporary folder, so the registry needs no
		// graceful shutdown.
		_ = cmd.Process.Kill()
		<-done
	}

	if err := waitForRegistry(r.Addr, done); err != nil {
		stop()
		if errors.Is(err, errRegistryExited) {
			return fmt.Errorf("%w: %v", err, waitErr)
		}
		return err
	}
	t.Cleanup(stop)
	return nil
}

// registryConfig returns a distribution 2.8 configuration. Strings are
// written as JSON strings, which YAML reads as double-quoted scalars, so
// that any path is quoted correctly.
func registryConfig(addr, storageDir, htpasswdPath string) string {
	quote := func(s string) string {
		b, _ := json.Marshal(s)
		return string(b)
	}
	return fmt.Sprintf(`version: 0.1
log:
  level: info
  formatter: text
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
auth:
  htpasswd:
    realm: werk-test
    path: %s
`, quote(storageDir), quote(addr), quote(htpasswdPath))
}

// writeHtpasswd writes one bcrypt entry, the only hash format that
// distribution's htpasswd authentication accepts.
func writeHtpasswd(path, username, password string) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	return os.WriteFile(path, []byte(username+":"+string(hash)+"\n"), 0o600)
}

func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

var errRegistryExited = errors.New("docker-registry exited during start-up")

// waitForRegistry polls http://addr/v2/ until it returns 401 Unauthorized,
// which shows that the registry runs with authentication on. It returns
// errRegistryExited as soon as done is closed.
func waitForRegistry(addr string, done <-chan struct{}) error {
	deadline := time.Now().Add(registryStartTimeout)
	httpClient := &http.Client{Timeout: time.Second}
	lastErr := errors.New("no response yet")
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return errRegistryExited
		default:
		}
		resp, err := httpClient.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
			lastErr = fmt.Errorf("GET /v2/ returned %s, expected 401 Unauthorized", resp.Status)
		} else {
			lastErr = err
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("timed out after %v waiting for the registry: %v", registryStartTimeout, lastErr)
}

// log returns the registry's output so far, for failure messages.
func (r *Registry) log() string {
	b, err := os.ReadFile(r.logPath)
	if err != nil {
		return fmt.Sprintf("(reading %s: %v)", r.logPath, err)
	}
	return string(bytes.TrimSpace(b))
}

// AuthConfig returns the registry's credentials for RegistryLogin and for
// encoding with registry.EncodeAuthConfig.
func (r *Registry) AuthConfig() registry.AuthConfig {
	return registry.AuthConfig{
		Username:      r.Username,
		Password:      r.Password,
		ServerAddress: r.Addr,
	}
}

// EncodedAuth returns the credentials in the base64 form that the engine
// expects in ImagePushOptions.RegistryAuth and ImagePullOptions.RegistryAuth.
func (r *Registry) EncodedAuth(t testing.TB) string {
	t.Helper()
	auth, err := registry.EncodeAuthConfig(r.AuthConfig())
	if err != nil {
		t.Fatalf("encoding the registry credentials: %v", err)
	}
	return auth
}

// manifestMediaTypes are the Accept values that make the registry return a
// manifest as pushed: Docker image manifest v2 schema 2 or an OCI manifest,
// or the list or index of either.
var manifestMediaTypes = []string{
	"application/vnd.docker.distribution.manifest.v2+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.oci.image.index.v1+json",
}

// Get sends an authenticated GET for path (such as "/v2/_catalog") to the
// registry and returns the response, whatever its status. The body is closed
// when the test ends, so callers may leave it open.
func (r *Registry) Get(t testing.TB, path string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+r.Addr+path, nil)
	if err != nil {
		t.Fatalf("creating a request for %s: %v", path, err)
	}
	req.SetBasicAuth(r.Username, r.Password)
	req.Header.Set("Accept", strings.Join(manifestMediaTypes, ", "))

	httpClient := &http.Client{Timeout: 30 * time.Second}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s from the registry: %v\nregistry log:\n%s", path, err, r.log())
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}
