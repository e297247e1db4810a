package engine

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/go-connections/nat"

	"werk/config"
	"werk/internal/testenv"
)

func TestTakenPortFromEngineMessages(t *testing.T) {
	cases := map[string]string{
		"Bind for 0.0.0.0:8080 failed: port is already allocated": "8080",
		"driver failed programming external connectivity on endpoint werk-1-box (abc): " +
			"Error starting userland proxy: listen tcp4 0.0.0.0:18080: bind: address already in use": "18080",
		"no such image": "",
	}
	for msg, want := range cases {
		if got := takenPort(msg); got != want {
			t.Errorf("takenPort(%q) = %q, want %q", msg, got, want)
		}
	}
}

func TestProcessListeningOnFindsThisProcess(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())

	pid, cmdline := processListeningOn(port)
	if pid != strconv.Itoa(os.Getpid()) {
		t.Errorf("pid = %q, want this test's %d", pid, os.Getpid())
	}
	if !strings.Contains(cmdline, filepath.Base(os.Args[0])) {
		t.Errorf("command line = %q, want the test binary %s", cmdline, filepath.Base(os.Args[0]))
	}
}

// runBoxPublishing runs a pipeline without steps whose box publishes
// hostPort on 127.0.0.1, and returns the run's error.
func runBoxPublishing(t *testing.T, hostPort string) error {
	t.Helper()
	cli := testenv.Docker(t)
	testenv.RequireImage(t, cli, testenv.BusyboxImage)
	dir := t.TempDir()
	yml := "box: " + testenv.BusyboxImage + "\nbuild:\n  steps:\n    - script:\n        code: true\n"
	file, err := config.Parse(filepath.Join(dir, "wercker.yml"), []byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	pipeline, err := file.Pipeline("build")
	if err != nil {
		t.Fatal(err)
	}
	runner := NewRunner(&Docker{API: cli, Host: cli.DaemonHost()}, NewBus(nil), Options{
		Command:    "build",
		ProjectDir: dir,
		WorkingDir: filepath.Join(dir, ".werk"),
		File:       file,
		Pipeline:   pipeline,
		Pull:       PullNever,
		Publish:    []string{"127.0.0.1:" + hostPort + ":8080"},
	}, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return runner.Run(ctx).Err
}

func freeLoopbackPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

func TestPortInUseNamesHostProcess(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())

	err = runBoxPublishing(t, port)
	if !errors.Is(err, ErrPortInUse) {
		t.Fatalf("run error = %v, want ErrPortInUse", err)
	}
	t.Logf("run error: %v", err)
	if want := "held by process " + strconv.Itoa(os.Getpid()); !strings.Contains(err.Error(), want) {
		t.Errorf("run error = %q, want it to contain %q", err, want)
	}
}

func TestPortInUseNamesContainer(t *testing.T) {
	cli := testenv.Docker(t)
	testenv.RequireImage(t, cli, testenv.BusyboxImage)
	port := freeLoopbackPort(t)
	ctx := context.Background()
	name := "werk-test-port-holder-" + port
	created, err := cli.ContainerCreate(ctx, &container.Config{
		Image:        testenv.BusyboxImage,
		Cmd:          []string{"sleep", "600"},
		ExposedPorts: nat.PortSet{"80/tcp": {}},
	}, &container.HostConfig{
		PortBindings: nat.PortMap{"80/tcp": {{HostIP: "127.0.0.1", HostPort: port}}},
	}, nil, nil, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cli.ContainerRemove(context.Background(), created.ID, container.RemoveOptions{Force: true})
	})
	if err := cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}

	err = runBoxPublishing(t, port)
	if !errors.Is(err, ErrPortInUse) {
		t.Fatalf("run error = %v, want ErrPortInUse", err)
	}
	t.Logf("run error: %v", err)
	if want := "published by the running container " + name; !strings.Contains(err.Error(), want) {
		t.Errorf("run error = %q, want it to contain %q", err, want)
	}
}
