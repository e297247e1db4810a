package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"

	"werk/config"
	"werk/internal/testenv"
)

// ttyWait bounds every wait for output of a program in a box.
const ttyWait = 30 * time.Second

// testTerminal is a Terminal whose input the test types and whose output
// it reads.
type testTerminal struct {
	size    TermSize
	resized chan TermSize
	inR     *io.PipeReader
	inW     *io.PipeWriter

	mu      sync.Mutex
	out     bytes.Buffer
	changed chan struct{}
	closed  chan struct{}
	once    sync.Once
}

func newTestTerminal(cols, rows int) *testTerminal {
	r, w := io.Pipe()
	return &testTerminal{
		size: TermSize{Cols: cols, Rows: rows}, resized: make(chan TermSize, 1),
		inR: r, inW: w, changed: make(chan struct{}, 1), closed: make(chan struct{}),
	}
}

func (t *testTerminal) Read(p []byte) (int, error) { return t.inR.Read(p) }

func (t *testTerminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.out.Write(p)
	t.mu.Unlock()
	select {
	case t.changed <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (t *testTerminal) Size() TermSize           { return t.size }
func (t *testTerminal) Resized() <-chan TermSize { return t.resized }

func (t *testTerminal) Close() error {
	t.once.Do(func() {
		close(t.closed)
		t.inW.CloseWithError(io.EOF)
	})
	return nil
}

// typeText sends input as the user would type it.
func (t *testTerminal) typeText(s string) {
	go func() { _, _ = io.WriteString(t.inW, s) }()
}

func (t *testTerminal) output() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.out.String()
}

// waitOutput waits until the output contains text.
func (t *testTerminal) waitOutput(tb testing.TB, text string) {
	tb.Helper()
	deadline := time.After(ttyWait)
	for !strings.Contains(t.output(), text) {
		select {
		case <-t.changed:
		case <-deadline:
			tb.Fatalf("timed out waiting for %q; terminal output:\n%s", text, t.output())
		}
	}
}

// testHost opens test terminals and hands each to a script.
type testHost struct {
	cols, rows int
	mu         sync.Mutex
	opened     []*testTerminal
	script     func(t *testTerminal)
}

func (h *testHost) OpenTerminal(context.Context, string) (Terminal, error) {
	t := newTestTerminal(h.cols, h.rows)
	h.mu.Lock()
	h.opened = append(h.opened, t)
	h.mu.Unlock()
	if h.script != nil {
		go h.script(t)
	}
	return t, nil
}

func TestConsoleSizeSupported(t *testing.T) {
	for v, want := range map[string]bool{"": false, "1.24": false, "1.41": false, "1.42": true, "1.47": true, "1.51": true} {
		if got := consoleSizeSupported(v); got != want {
			t.Errorf("consoleSizeSupported(%q) = %v, want %v", v, got, want)
		}
	}
}

// fakeExecAPI is the part of the Engine API that StartTTY uses, recording
// the requests.
type fakeExecAPI struct {
	mu       sync.Mutex
	creates  []container.ExecOptions
	starts   []container.ExecStartOptions
	resizes  []string
	hijacked chan struct{}
}

func (f *fakeExecAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch {
	case strings.HasSuffix(path, "/containers/box/exec"):
		var opts container.ExecOptions
		_ = json.NewDecoder(r.Body).Decode(&opts)
		f.mu.Lock()
		f.creates = append(f.creates, opts)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"Id":"exec1"}`)
	case strings.HasSuffix(path, "/exec/exec1/start"):
		var opts container.ExecStartOptions
		_ = json.NewDecoder(r.Body).Decode(&opts)
		f.mu.Lock()
		f.starts = append(f.starts, opts)
		f.mu.Unlock()
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		_, _ = buf.WriteString("HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
		_ = buf.Flush()
		close(f.hijacked)
		go func() {
			_, _ = io.Copy(io.Discard, bufio.NewReader(conn))
			conn.Close()
		}()
	case strings.HasSuffix(path, "/exec/exec1/resize"):
		f.mu.Lock()
		f.resizes = append(f.resizes, r.URL.Query().Get("h")+"x"+r.URL.Query().Get("w"))
		f.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	default:
		http.Error(w, "not in the fake: "+path, http.StatusNotFound)
	}
}

// startFakeTTY runs StartTTY against the fake API speaking version.
func startFakeTTY(t *testing.T, version string) *fakeExecAPI {
	t.Helper()
	fake := &fakeExecAPI{hijacked: make(chan struct{})}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	cli, err := client.NewClientWithOpts(client.WithHost("tcp://"+srv.Listener.Addr().String()), client.WithVersion(version))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	d := &Docker{API: cli}
	ctx, cancel := context.WithTimeout(context.Background(), ttyWait)
	defer cancel()
	tty, err := d.StartTTY(ctx, "box", TTYOptions{Cmd: []string{"/bin/sh"}, Size: TermSize{Cols: 132, Rows: 43}})
	if err != nil {
		t.Fatalf("StartTTY at API %s: %v", version, err)
	}
	tty.conn.Close()
	return fake
}

// The two ways to give an exec its size, tested against a fake engine
// because the engine on the test machine speaks API 1.41 only.
func TestStartTTYSizeAtCreateFromAPI142(t *testing.T) {
	fake := startFakeTTY(t, "1.43")
	if len(fake.creates) != 1 || fake.creates[0].ConsoleSize == nil || *fake.creates[0].ConsoleSize != [2]uint{43, 132} {
		t.Errorf("exec create requests %+v, want one with ConsoleSize [43 132]", fake.creates)
	}
	if len(fake.starts) != 1 || fake.starts[0].ConsoleSize == nil || *fake.starts[0].ConsoleSize != [2]uint{43, 132} {
		t.Errorf("exec start requests %+v, want one with ConsoleSize [43 132]", fake.starts)
	}
	if !fake.creates[0].Tty {
		t.Error("the exec has no TTY")
	}
	if cmd := fake.creates[0].Cmd; len(cmd) < 5 || cmd[4] != "go" {
		t.Errorf("exec command %q: the wrapper must not wait for a resize", cmd)
	}
	if len(fake.resizes) != 0 {
		t.Errorf("resized %v; the size came with the create", fake.resizes)
	}
}

func TestStartTTYResizesAfterStartBeforeAPI142(t *testing.T) {
	fake := startFakeTTY(t, "1.41")
	if len(fake.creates) != 1 || fake.creates[0].ConsoleSize != nil {
		t.Errorf("exec create requests %+v, want one without ConsoleSize", fake.creates)
	}
	if len(fake.resizes) != 1 || fake.resizes[0] != "43x132" {
		t.Errorf("resizes %v, want one to 43x132 right after the start", fake.resizes)
	}
	if cmd := fake.creates[0].Cmd; len(cmd) < 5 || cmd[4] != "wait" {
		t.Errorf("exec command %q: the wrapper must wait for the resize", cmd)
	}
}

// startTestBox runs a werk box for a build pipeline of steps and returns
// the runner once its box runs; the run goes on until ctx ends or the
// steps finish.
func newTestRunner(t *testing.T, image string, opts Options, steps, after []Step) (*Runner, *Bus) {
	t.Helper()
	cli := testenv.Docker(t)
	testenv.RequireImage(t, cli, image)
	dir := t.TempDir()
	yml := "box: " + image + "\nbuild:\n  steps:\n    - script:\n        code: true\n"
	file, err := config.Parse(filepath.Join(dir, "wercker.yml"), []byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	pipeline, err := file.Pipeline("build")
	if err != nil {
		t.Fatal(err)
	}
	opts.Command, opts.ProjectDir, opts.WorkingDir = "build", dir, filepath.Join(dir, ".werk")
	opts.File, opts.Pipeline, opts.Pull = file, pipeline, PullNever
	bus := NewBus(nil)
	return NewRunner(&Docker{API: cli, Host: cli.DaemonHost()}, bus, opts, steps, after), bus
}

// funcStep is a step that runs a Go function.
type funcStep struct {
	name string
	run  func(ctx context.Context, sc *StepContext) error
}

func (s funcStep) Info() StepInfo                                 { return StepInfo{ID: "script", Name: s.name} }
func (s funcStep) Run(ctx context.Context, sc *StepContext) error { return s.run(ctx, sc) }

// scriptStep is a step that runs code in the step shell.
func scriptStep(name, code string) Step {
	return funcStep{name: name, run: func(ctx context.Context, sc *StepContext) error {
		return sc.Box.RunShellStep(ctx, sc, ShellStep{Files: map[string][]byte{"run.sh": []byte("set -e\n" + code + "\n")}})
	}}
}

// runInBox runs f as a step of a run in a fresh box and returns its error.
func runInBox(t *testing.T, image string, f func(ctx context.Context, sc *StepContext) error) error {
	t.Helper()
	var stepErr error
	runner, _ := newTestRunner(t, image, Options{}, []Step{funcStep{name: "probe", run: func(ctx context.Context, sc *StepContext) error {
		stepErr = f(ctx, sc)
		return stepErr
	}}}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	runner.Run(ctx)
	return stepErr
}

func TestRunInteractiveSizeFromStartAndResize(t *testing.T) {
	term := newTestTerminal(123, 37)
	err := runInBox(t, testenv.BusyboxImage, func(ctx context.Context, sc *StepContext) error {
		done := make(chan struct{})
		go func() {
			defer close(done)
			deadline := time.Now().Add(ttyWait)
			for !strings.Contains(term.output(), "size:37 123") && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			term.resized <- TermSize{Cols: 50, Rows: 20}
			// The resize reaches the program asynchronously; ask until
			// it shows.
			for !strings.Contains(term.output(), "size:20 50") && time.Now().Before(deadline) {
				term.typeText("\n")
				time.Sleep(50 * time.Millisecond)
			}
			term.typeText("q\n")
		}()
		// The first instruction reads the size: it must be in place
		// before the program starts.
		code, err := sc.Box.RunInteractive(ctx, term, InteractiveOptions{
			Cmd: []string{"/bin/sh", "-c", `while :; do echo "size:$(stty size)"; read -r line; [ "$line" = q ] && exit 7; done`},
		})
		<-done
		if err != nil {
			return err
		}
		if code != 7 {
			t.Errorf("exit status %d, want 7", code)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	out := term.output()
	if !strings.HasPrefix(out, "size:37 123\r\n") {
		t.Errorf("the program's first output is not the size it was started with; output:\n%q", out)
	}
	if !strings.Contains(out, "size:20 50") {
		t.Errorf("the program never saw the new size; output:\n%q", out)
	}
}

func TestRunInteractiveStopsOnCancel(t *testing.T) {
	term := newTestTerminal(80, 24)
	err := runInBox(t, testenv.BusyboxImage, func(ctx context.Context, sc *StepContext) error {
		ctx, cancel := context.WithCancel(ctx)
		go func() {
			term.waitOutput(t, "started")
			cancel()
		}()
		_, err := sc.Box.RunInteractive(ctx, term, InteractiveOptions{Cmd: []string{"/bin/sh", "-c", "echo started; sleep 300 & wait"}})
		if err == nil {
			t.Error("RunInteractive returned no error after the cancel")
		}
		// The shell and its sleep are gone.
		res, err := sc.Box.Docker().ExecOutput(context.Background(), sc.Box.ID, []string{"/bin/sh", "-c", "for s in /proc/[0-9]*/cmdline; do cat $s; echo; done"}, nil, nil)
		if err != nil {
			return err
		}
		if strings.Contains(string(res.Stdout), "sleep300") {
			t.Errorf("the program's child still runs after the cancel:\n%s", res.Stdout)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestDefaultShell(t *testing.T) {
	for image, want := range map[string]string{testenv.BusyboxImage: "/bin/sh", testenv.BashImage: "/bin/bash"} {
		var got []string
		err := runInBox(t, image, func(ctx context.Context, sc *StepContext) error {
			got = sc.Box.DefaultShell(ctx)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0] != want {
			t.Errorf("%s: default shell %v, want %s", image, got, want)
		}
	}
}
