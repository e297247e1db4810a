package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
)

// testLabel marks the containers and networks these tests create, so that
// leftovers of a killed run can be found with `docker ps -a --filter label=...`.
const testLabel = "werk.test"

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// runResult is the outcome of a container run to completion.
type runResult struct {
	exitCode int64
	stdout   string
	stderr   string
}

// runContainer runs cmd in img until it exits and removes the container.
// A non-empty networkName attaches the container to that network.
func runContainer(t *testing.T, cli *client.Client, img, networkName string, cmd ...string) runResult {
	t.Helper()
	ctx := testContext(t)
	id := createContainer(t, cli, img, networkName, nil, cmd...)

	waitCh, errCh := cli.ContainerWait(ctx, id, container.WaitConditionNextExit)
	if err := cli.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		t.Fatalf("starting container %s: %v", id, err)
	}
	var exitCode int64
	select {
	case res := <-waitCh:
		exitCode = res.StatusCode
	case err := <-errCh:
		t.Fatalf("waiting for container %s: %v", id, err)
	}

	logs, err := cli.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatalf("reading logs of container %s: %v", id, err)
	}
	defer logs.Close()
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, logs); err != nil {
		t.Fatalf("demultiplexing logs of container %s: %v", id, err)
	}
	return runResult{exitCode: exitCode, stdout: stdout.String(), stderr: stderr.String()}
}

// createContainer creates a container that is force-removed when the test
// ends. aliases, when not empty, are its DNS names on networkName.
func createContainer(t *testing.T, cli *client.Client, img, networkName string, aliases []string, cmd ...string) string {
	t.Helper()
	ctx := testContext(t)
	config := &container.Config{
		Image:  img,
		Cmd:    cmd,
		Labels: map[string]string{testLabel: t.Name()},
	}
	hostConfig := &container.HostConfig{}
	var networking *network.NetworkingConfig
	if networkName != "" {
		hostConfig.NetworkMode = container.NetworkMode(networkName)
		networking = &network.NetworkingConfig{
			EndpointsConfig: map[string]*network.EndpointSettings{
				networkName: {Aliases: aliases},
			},
		}
	}
	created, err := cli.ContainerCreate(ctx, config, hostConfig, networking, nil, "")
	if err != nil {
		t.Fatalf("creating a container of %s: %v", img, err)
	}
	t.Cleanup(func() {
		err := cli.ContainerRemove(context.Background(), created.ID, container.RemoveOptions{Force: true})
		if err != nil {
			t.Errorf("removing container %s: %v", created.ID, err)
		}
	})
	return created.ID
}

func TestDockerPing(t *testing.T) {
	cli := Docker(t)
	if again := Docker(t); again != cli {
		t.Errorf("second Docker call returned a new client; expected the cached one")
	}

	ping, err := cli.Ping(testContext(t))
	if err != nil {
		t.Fatalf("ping: %v", err)
	}
	if ping.APIVersion == "" {
		t.Errorf("ping returned an empty API version")
	}
	if cli.ClientVersion() == "" {
		t.Errorf("client has no negotiated API version")
	}
}

func TestRequireImageBoxImages(t *testing.T) {
	cli := Docker(t)
	for _, ref := range []string{BusyboxImage, BashImage} {
		RequireImage(t, cli, ref)
	}
}

func TestBusyboxImageLayout(t *testing.T) {
	cli := Docker(t)
	RequireImage(t, cli, BusyboxImage)

	script := `stat -c '%a' /tmp
id -un
grep -c . /etc/passwd
grep '^nobody:' /etc/group
readlink /bin/sh
for d in /root /proc /sys /dev; do test -d "$d" || echo "missing $d"; done
for applet in wget httpd nc sed awk; do command -v "$applet" >/dev/null || echo "missing $applet"; done`
	res := runContainer(t, cli, BusyboxImage, "", "sh", "-c", script)
	if res.exitCode != 0 {
		t.Fatalf("script exited with %d; stderr:\n%s", res.exitCode, res.stderr)
	}

	expected := "1777\nroot\n2\nnobody:x:65534:\n/bin/busybox\n"
	if res.stdout != expected {
		t.Errorf("output = %q, expected %q", res.stdout, expected)
	}
}

func TestBashImageRunsBash(t *testing.T) {
	cli := Docker(t)
	RequireImage(t, cli, BashImage)

	res := runContainer(t, cli, BashImage, "", "bash", "-c", `arr=(a b c); echo "${#arr[@]} ${BASH_VERSINFO[0]}"`)
	if res.exitCode != 0 {
		t.Fatalf("bash exited with %d; stderr:\n%s", res.exitCode, res.stderr)
	}
	fields := strings.Fields(res.stdout)
	if len(fields) != 2 || fields[0] != "3" {
		t.Fatalf("output = %q, expected the array length 3 and the bash major version", res.stdout)
	}
	if major, err := strconv.Atoi(fields[1]); err != nil || major < 4 {
		t.Errorf("bash major version = %q, expected 4 or later", fields[1])
	}
}

// TestBashImageRunsTput checks the dynamically linked tput that
// scripts/box-images.sh copies into the bash image with its libraries and
// terminfo entries. A missing library or loader makes tput fail to start, and
// a missing entry makes tput -T exit non-zero.
func TestBashImageRunsTput(t *testing.T) {
	cli := Docker(t)
	RequireImage(t, cli, BashImage)

	script := `command -v tput
tput -T xterm-256color colors
for term in xterm-256color xterm screen tmux-256color vt100 linux dumb; do
	tput -T "$term" longname >/dev/null || echo "missing terminfo entry $term"
done`
	res := runContainer(t, cli, BashImage, "", "sh", "-c", script)
	if res.exitCode != 0 {
		t.Fatalf("script exited with %d; stdout:\n%s\nstderr:\n%s", res.exitCode, res.stdout, res.stderr)
	}

	expected := "/usr/bin/tput\n256\n"
	if res.stdout != expected {
		t.Errorf("output = %q, expected %q; stderr:\n%s", res.stdout, expected, res.stderr)
	}
}

// TestUserNetworkAlias checks what werk's services rely on: a container
// reaches another one by its alias on a user-defined network.
func TestUserNetworkAlias(t *testing.T) {
	cli := Docker(t)
	RequireImage(t, cli, BusyboxImage)
	ctx := testContext(t)

	networkName := fmt.Sprintf("werk-testenv-%d", time.Now().UnixNano())
	created, err := cli.NetworkCreate(ctx, networkName, network.CreateOptions{
		Labels: map[string]string{testLabel: t.Name()},
	})
	if err != nil {
		t.Fatalf("creating network %s: %v", networkName, err)
	}
	// Registered before the containers, so that it runs after their removal.
	t.Cleanup(func() {
		if err := cli.NetworkRemove(context.Background(), created.ID); err != nil {
			t.Errorf("removing network %s: %v", networkName, err)
		}
	})

	serverID := createContainer(t, cli, BusyboxImage, networkName, []string{"web"},
		"sh", "-c", "mkdir /site && echo served-by-alias > /site/index.html && exec httpd -f -p 8080 -h /site")
	if err := cli.ContainerStart(ctx, serverID, container.StartOptions{}); err != nil {
		t.Fatalf("starting the server container: %v", err)
	}

	// httpd needs a moment to listen, so the client retries for up to 10 s.
	fetch := `for i in $(seq 50); do wget -q -O - http://web:8080/ 2>/dev/null && exit 0; sleep 0.2; done; wget -O - http://web:8080/`
	res := runContainer(t, cli, BusyboxImage, networkName, "sh", "-c", fetch)
	if res.exitCode != 0 {
		t.Fatalf("wget http://web:8080/ failed with exit code %d; stderr:\n%s", res.exitCode, res.stderr)
	}
	if got := strings.TrimSpace(res.stdout); got != "served-by-alias" {
		t.Errorf("page = %q, expected %q", got, "served-by-alias")
	}
}

func TestRepoRootHasGoMod(t *testing.T) {
	root := RepoRoot(t)
	for _, name := range []string{"go.mod", "scripts/box-images.sh"} {
		if _, err := os.Stat(filepath.Join(root, name)); err != nil {
			t.Errorf("RepoRoot returned %s, which lacks %s: %v", root, name, err)
		}
	}
}

func TestRegistryRequiresAuth(t *testing.T) {
	r := StartRegistry(t)

	resp, err := http.Get("http://" + r.Addr + "/v2/")
	if err != nil {
		t.Fatalf("anonymous GET /v2/: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous GET /v2/ returned %s, expected 401", resp.Status)
	}
	if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Basic ") {
		t.Errorf("WWW-Authenticate = %q, expected a Basic challenge", got)
	}

	if resp := r.Get(t, "/v2/"); resp.StatusCode != http.StatusOK {
		t.Errorf("authenticated GET /v2/ returned %s, expected 200", resp.Status)
	}
}

func TestRegistryLoginWrongPassword(t *testing.T) {
	cli := Docker(t)
	r := StartRegistry(t)

	auth := r.AuthConfig()
	auth.Password = "wrong"
	if _, err := cli.RegistryLogin(testContext(t), auth); err == nil {
		t.Errorf("login with a wrong password succeeded; expected an error")
	}
}

// TestRegistryPushBusybox pushes the box image through the engine over plain
// HTTP, which works without daemon configuration only because the engine
// treats 127.0.0.0/8 registries as insecure.
func TestRegistryPushBusybox(t *testing.T) {
	cli := Docker(t)
	RequireImage(t, cli, BusyboxImage)
	r := StartRegistry(t)
	ctx := testContext(t)

	login, err := cli.RegistryLogin(ctx, r.AuthConfig())
	if err != nil {
		t.Fatalf("login to %s as %s: %v\nregistry log:\n%s", r.Addr, r.Username, err, r.log())
	}
	if login.Status != "Login Succeeded" {
		t.Errorf("login status = %q, expected %q", login.Status, "Login Succeeded")
	}

	ref := r.Addr + "/werk-test/busybox:testenv"
	if err := cli.ImageTag(ctx, BusyboxImage, ref); err != nil {
		t.Fatalf("tagging %s as %s: %v", BusyboxImage, ref, err)
	}
	t.Cleanup(func() {
		_, err := cli.ImageRemove(context.Background(), ref, image.RemoveOptions{})
		if err != nil {
			t.Errorf("removing tag %s: %v", ref, err)
		}
	})

	push, err := cli.ImagePush(ctx, ref, image.PushOptions{RegistryAuth: r.EncodedAuth(t)})
	if err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	defer push.Close()
	if err := readProgressStream(push); err != nil {
		t.Fatalf("pushing %s: %v\nregistry log:\n%s", ref, err, r.log())
	}

	var tags struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}
	resp := r.Get(t, "/v2/werk-test/busybox/tags/list")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET tags/list returned %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&tags); err != nil {
		t.Fatalf("decoding tags/list: %v", err)
	}
	if !slices.Contains(tags.Tags, "testenv") {
		t.Errorf("tags of %s = %v, expected them to contain testenv", tags.Name, tags.Tags)
	}

	resp = r.Get(t, "/v2/werk-test/busybox/manifests/testenv")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET manifest returned %s", resp.Status)
	}
	if got := resp.Header.Get("Content-Type"); !slices.Contains(manifestMediaTypes, got) {
		t.Errorf("manifest Content-Type = %q, expected one of %v", got, manifestMediaTypes)
	}
	var manifest struct {
		SchemaVersion int               `json:"schemaVersion"`
		Layers        []json.RawMessage `json:"layers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&manifest); err != nil {
		t.Fatalf("decoding the manifest: %v", err)
	}
	if manifest.SchemaVersion != 2 {
		t.Errorf("manifest schemaVersion = %d, expected 2", manifest.SchemaVersion)
	}
	if len(manifest.Layers) != 1 {
		t.Errorf("manifest has %d layers, expected the 1 layer of an imported root filesystem", len(manifest.Layers))
	}
}

// readProgressStream reads a JSON message stream of a push or pull to its end
// and returns the first error message in it.
func readProgressStream(stream io.Reader) error {
	decoder := json.NewDecoder(stream)
	for {
		var message struct {
			Error       string `json:"error"`
			ErrorDetail *struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		err := decoder.Decode(&message)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("decoding the progress stream: %w", err)
		}
		if message.ErrorDetail != nil && message.ErrorDetail.Message != "" {
			return errors.New(message.ErrorDetail.Message)
		}
		if message.Error != "" {
			return errors.New(message.Error)
		}
	}
}

// TestAuthConfigEncodes checks that the awkward password survives the
// base64 JSON encoding that the engine API uses for credentials.
func TestAuthConfigEncodes(t *testing.T) {
	r := &Registry{Addr: "127.0.0.1:5000", Username: "u", Password: `it's"$x`}
	decoded, err := registry.DecodeAuthConfig(r.EncodedAuth(t))
	if err != nil {
		t.Fatalf("decoding: %v", err)
	}
	if decoded.Password != r.Password {
		t.Errorf("password = %q, expected %q", decoded.Password, r.Password)
	}
	if decoded.ServerAddress != r.Addr {
		t.Errorf("server address = %q, expected %q", decoded.ServerAddress, r.Addr)
	}
}
