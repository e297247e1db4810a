package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/charmbracelet/x/vt"
	"github.com/creack/pty"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
)

// ptyTerm runs werk on a pseudo-terminal and keeps a terminal emulator of
// what it draws, so tests can read the screen as a user sees it.
type ptyTerm struct {
	t    testing.TB
	ptmx *os.File
	tty  *os.File
	cmd  *exec.Cmd
	done chan struct{}

	mu  sync.Mutex
	em  *vt.Emulator
	raw bytes.Buffer
}

// startOnPTY starts werk with args on a new terminal of cols x rows, as the
// session leader with the terminal as its controlling terminal.
func startOnPTY(t testing.TB, cols, rows int, args ...string) *ptyTerm {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no PTY: %v", err)
	}
	if err := pty.Setsize(ptmx, &pty.Winsize{Cols: uint16(cols), Rows: uint16(rows)}); err != nil {
		t.Fatal(err)
	}
	p := &ptyTerm{t: t, ptmx: ptmx, tty: tty, em: vt.NewEmulator(cols, rows), done: make(chan struct{})}
	p.cmd = exec.Command(werkBinary, args...)
	p.cmd.Env = append(os.Environ(), "TERM=xterm-256color", "NO_COLOR=")
	p.cmd.Stdin, p.cmd.Stdout, p.cmd.Stderr = tty, tty, tty
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting werk on a PTY: %v", err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	// The emulator answers the app's terminal queries, as a terminal does.
	go func() {
		buf := make([]byte, 1024)
		for {
			n, err := p.em.Read(buf)
			if err != nil {
				return
			}
			_, _ = ptmx.Write(buf[:n])
		}
	}()
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := ptmx.Read(buf)
			if n > 0 {
				p.mu.Lock()
				p.raw.Write(buf[:n])
				_, _ = p.em.Write(buf[:n])
				p.mu.Unlock()
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		tty.Close()
		ptmx.Close()
	})
	return p
}

// screen returns the emulator's screen as text, one line per row.
func (p *ptyTerm) screen() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for y := 0; y < p.em.Height(); y++ {
		for x := 0; x < p.em.Width(); x++ {
			c := p.em.CellAt(x, y)
			switch {
			case c == nil:
				b.WriteByte(' ')
			case c.Width == 0:
			case c.Content == "":
				b.WriteByte(' ')
			default:
				b.WriteString(c.Content)
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func (p *ptyTerm) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.raw.String()
}

// waitScreen waits until the screen contains text.
func (p *ptyTerm) waitScreen(text string) {
	p.t.Helper()
	p.waitFor("screen to show "+text, func(s string) bool { return strings.Contains(s, text) })
}

func (p *ptyTerm) waitFor(what string, cond func(screen string) bool) {
	p.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	exited := false
	for {
		s := p.screen()
		if cond(s) {
			return
		}
		select {
		case <-p.done:
			if !exited {
				// What werk and its terminal guard wrote last may still be
				// on its way.
				exited = true
				deadline = time.Now().Add(5 * time.Second)
			}
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("timed out waiting for the %s (werk exited: %v); screen:\n%s", what, exited, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *ptyTerm) send(keys string) {
	p.t.Helper()
	if _, err := p.ptmx.Write([]byte(keys)); err != nil {
		p.t.Fatal(err)
	}
}

func (p *ptyTerm) resize(cols, rows int) {
	p.t.Helper()
	p.mu.Lock()
	p.em.Resize(cols, rows)
	p.mu.Unlock()
	if err := pty.Setsize(p.ptmx, &pty.Winsize{Cols: uint16(cols), Rows: uint16(rows)}); err != nil {
		p.t.Fatal(err)
	}
}

// exitCode waits for werk to end and returns its exit status.
func (p *ptyTerm) exitCode() int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(2 * time.Minute):
		p.t.Fatalf("werk did not exit; screen:\n%s", p.screen())
	}
	time.Sleep(200 * time.Millisecond) // the last output is still being read
	return p.cmd.ProcessState.ExitCode()
}

// requireTerminalRestored checks that the terminal is back in cooked mode
// with echo, and that werk left the alternate screen and showed the cursor
// after it last entered or hid them.
func (p *ptyTerm) requireTerminalRestored() {
	p.t.Helper()
	stty := exec.Command("stty", "-a")
	stty.Stdin = p.tty
	settings, err := stty.Output()
	if err != nil {
		p.t.Fatalf("stty -a: %v", err)
	}
	fields := strings.Fields(string(settings))
	for _, want := range []string{"echo", "icanon", "isig", "icrnl", "opost"} {
		if !containsString(fields, want) {
			p.t.Errorf("terminal setting %q is off after werk exited: %s", want, settings)
		}
	}
	out := p.output()
	if !strings.Contains(out, "\x1b[?1049h") {
		p.t.Error("werk never entered the alternate screen; the test proves nothing")
	}
	if strings.LastIndex(out, "\x1b[?1049h") > strings.LastIndex(out, "\x1b[?1049l") {
		p.t.Error("the alternate screen is still on")
	}
	if strings.LastIndex(out, "\x1b[?25l") > strings.LastIndex(out, "\x1b[?25h") {
		p.t.Error("the cursor is still hidden")
	}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// writeProject writes a wercker.yml into a new project directory.
func writeProject(t *testing.T, yml string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "project")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "wercker.yml"), []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// removeLeftovers removes what a killed werk left for the project dir.
func removeLeftovers(cli client.APIClient, dir string) {
	ctx := context.Background()
	args := filters.NewArgs(filters.Arg("label", "dev.werk.project="+dir))
	cs, _ := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: args})
	for _, c := range cs {
		_ = cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
	}
	ns, _ := cli.NetworkList(ctx, network.ListOptions{Filters: args})
	for _, n := range ns {
		_ = cli.NetworkRemove(ctx, n.ID)
	}
	vs, _ := cli.VolumeList(ctx, volume.ListOptions{Filters: args})
	for _, v := range vs.Volumes {
		_ = cli.VolumeRemove(ctx, v.Name, true)
	}
}

const tuiPipelineYML = `box: werk-test/busybox
build:
  steps:
    - script:
        name: greet
        code: |
          echo hello from greet
          printf '\033[31mred line\033[0m\n'
          echo "find the needle here"
    - script:
        name: count
        code: seq 1 200
  after-steps:
    - script:
        name: bye
        code: echo bye
`

func TestTUIRunsPipeline(t *testing.T) {
	requireDocker(t)
	dir := writeProject(t, tuiPipelineYML)
	term := startOnPTY(t, 80, 24, "build", dir)

	term.waitScreen("build · passed in")
	screen := term.screen()
	for _, want := range []string{"Steps", "Logs · all", "Ports", "Reloads", "✔ greet", "✔ count", "✔ bye", "pipeline passed", "werk build"} {
		if !strings.Contains(screen, want) {
			t.Errorf("screen lacks %q:\n%s", want, screen)
		}
	}

	term.send("/needle\r")
	term.waitScreen("match 1 of 1")
	if !strings.Contains(term.screen(), "find the needle here") {
		t.Errorf("the match is not on screen:\n%s", term.screen())
	}

	term.resize(100, 30)
	term.waitFor("layout at 100x30", func(s string) bool {
		rows := strings.Split(s, "\n")
		return len(rows) > 28 && strings.HasSuffix(strings.TrimRight(rows[0], " "), "╮") &&
			len([]rune(rows[0])) == 100 && strings.Contains(rows[28], "werk build")
	})

	term.send("q")
	if code := term.exitCode(); code != 0 {
		t.Errorf("exit status %d, want 0; screen:\n%s", code, term.screen())
	}
	term.requireTerminalRestored()
	// The summary stays on the normal screen.
	if s := term.screen(); !strings.Contains(s, "passed       greet") || !strings.Contains(s, "build passed in") {
		t.Errorf("no summary after exit:\n%s", s)
	}
}

func TestTUIFailedPipelineExitStatus(t *testing.T) {
	requireDocker(t)
	dir := writeProject(t, `box: werk-test/busybox
build:
  steps:
    - script:
        name: breaks
        code: |
          echo about to fail
          exit 3
`)
	term := startOnPTY(t, 80, 24, "build", dir)
	term.waitScreen("build · failed in")
	if s := term.screen(); !strings.Contains(s, "exit 3") {
		t.Errorf("the steps pane does not show the exit status:\n%s", s)
	}
	term.send("q")
	if code := term.exitCode(); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	term.requireTerminalRestored()
}

const longStepYML = `box: werk-test/busybox
build:
  steps:
    - script:
        name: wait
        code: |
          echo waiting for a signal
          sleep 300
`

func TestTUISignalsRestoreTerminal(t *testing.T) {
	cli := requireDocker(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := writeProject(t, longStepYML)
			term := startOnPTY(t, 80, 24, "build", dir)
			term.waitScreen("waiting for a signal")

			if err := term.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if code := term.exitCode(); code != 130 {
				t.Errorf("exit status %d, want 130 (interrupted)", code)
			}
			term.requireTerminalRestored()
			if s := term.screen(); !strings.Contains(s, "build interrupted") {
				t.Errorf("no summary after the signal:\n%s", s)
			}
			if left := leftovers(t, cli, dir); len(left) > 0 {
				t.Errorf("left behind after the signal: %v", left)
			}
		})
	}
}

func TestTUIQuitKeyAsksThenStops(t *testing.T) {
	cli := requireDocker(t)
	dir := writeProject(t, longStepYML)
	term := startOnPTY(t, 80, 24, "build", dir)
	term.waitScreen("waiting for a signal")

	term.send("q")
	term.waitScreen("Stop the running pipeline and quit?")
	term.send("y")
	if code := term.exitCode(); code != 130 {
		t.Errorf("exit status %d, want 130", code)
	}
	term.requireTerminalRestored()
	if left := leftovers(t, cli, dir); len(left) > 0 {
		t.Errorf("left behind after quitting: %v", left)
	}
}

// A crash that no recover can catch (the Go runtime's SIGQUIT dump stands in
// for a panic on an engine goroutine) and SIGKILL leave the terminal to the
// guard process, which restores it.
func TestTUICrashRestoresTerminal(t *testing.T) {
	cli := requireDocker(t)
	for _, sig := range []syscall.Signal{syscall.SIGQUIT, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := writeProject(t, longStepYML)
			t.Cleanup(func() { removeLeftovers(cli, dir) })
			term := startOnPTY(t, 80, 24, "build", dir)
			term.waitScreen("waiting for a signal")

			if err := term.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if code := term.exitCode(); code == 0 {
				t.Errorf("exit status %d, want a crash", code)
			}
			term.waitFor("guard's message", func(string) bool {
				return strings.Contains(term.output(), "the terminal guard restored it")
			})
			term.requireTerminalRestored()
			if sig == syscall.SIGQUIT && !strings.Contains(term.output(), "goroutine ") {
				t.Error("the crash report was not printed")
			}
		})
	}
}
