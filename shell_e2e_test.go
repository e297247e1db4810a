package main

import (
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"werk/internal/testenv"
)

// shellWait bounds every wait for the screen in these tests.
const shellWait = 30 * time.Second

// within waits until cond holds for the screen, at most shellWait.
func (p *ptyTerm) within(what string, cond func(screen string) bool) {
	p.t.Helper()
	deadline := time.Now().Add(shellWait)
	for {
		s := p.screen()
		if cond(s) {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("timed out waiting for %s; screen:\n%s", what, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *ptyTerm) shows(text string) {
	p.t.Helper()
	p.within("the screen to show "+text, func(s string) bool { return strings.Contains(s, text) })
}

// paneArea returns the inner size of the terminal pane as drawn: the
// columns and rows between its borders.
func paneArea(screen string) (cols, rows int, ok bool) {
	lines := strings.Split(screen, "\n")
	for top, line := range lines {
		runes := []rune(line)
		i := strings.Index(line, "╭─ Shell")
		if i < 0 {
			continue
		}
		left := len([]rune(line[:i]))
		right := left + 1
		for right < len(runes) && runes[right] != '╮' {
			right++
		}
		for bottom := top + 1; bottom < len(lines); bottom++ {
			b := []rune(lines[bottom])
			if left < len(b) && b[left] == '╰' {
				return right - left - 1, bottom - top - 1, true
			}
		}
	}
	return 0, 0, false
}

// requireCooked checks that the terminal is back in cooked mode with echo.
func (p *ptyTerm) requireCooked() {
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
}

func requireBash(t *testing.T) {
	t.Helper()
	cli := testenv.Docker(t)
	testenv.RequireImage(t, cli, testenv.BashImage)
}

// shellProject is a pipeline whose second step is an interactive shell with
// the prompt "ready$ ", and an after-step.
func shellProject(t *testing.T) string {
	return writeProject(t, `box: `+testenv.BashImage+`
build:
  steps:
    - script:
        name: prepare
        code: echo made > made.txt
    - internal/shell:
        name: poke
        code: PS1='ready$ '
  after-steps:
    - script:
        name: bye
        code: echo bye-from-after
`)
}

var sizeLine = regexp.MustCompile(`size=(\d+) (\d+) (\d+)`)

// shellSize runs `tput cols; stty size` in the shell and returns the columns
// that tput reports and the rows and columns that stty reports. The unquoted
// command substitution joins the two outputs on one line after marker, and
// the echoed command line does not match sizeLine.
func shellSize(t *testing.T, term *ptyTerm, marker string) (tputCols, rows, cols int) {
	t.Helper()
	term.send(fmt.Sprintf("echo %s size=$(tput cols; stty size)\r", marker))
	var m []string
	term.within("the size from "+marker, func(s string) bool {
		for _, line := range strings.Split(s, "\n") {
			if i := strings.Index(line, marker+" size="); i >= 0 {
				if m = sizeLine.FindStringSubmatch(line[i:]); m != nil {
					return true
				}
			}
		}
		return false
	})
	tputCols, _ = strconv.Atoi(m[1])
	rows, _ = strconv.Atoi(m[2])
	cols, _ = strconv.Atoi(m[3])
	return tputCols, rows, cols
}

func TestShellPaneSizeFollowsResize(t *testing.T) {
	requireBash(t)
	term := startOnPTY(t, 200, 50, "build", shellProject(t))
	term.shows("ready$")

	cols, rows, ok := paneArea(term.screen())
	if !ok {
		t.Fatalf("no shell pane on screen:\n%s", term.screen())
	}
	tputCols, sttyRows, sttyCols := shellSize(t, term, "first")
	if tputCols != cols {
		t.Errorf("tput cols = %d in a pane of %dx%d", tputCols, cols, rows)
	}
	if sttyRows != rows || sttyCols != cols {
		t.Errorf("stty size = %d %d in a pane of %dx%d", sttyRows, sttyCols, cols, rows)
	}

	term.resize(150, 40)
	term.within("the pane to shrink", func(s string) bool {
		c, _, ok := paneArea(s)
		return ok && c < cols
	})
	cols, rows, _ = paneArea(term.screen())
	tputCols, sttyRows, sttyCols = shellSize(t, term, "second")
	if tputCols != cols {
		t.Errorf("after the resize: tput cols = %d in a pane of %dx%d", tputCols, cols, rows)
	}
	if sttyRows != rows || sttyCols != cols {
		t.Errorf("after the resize: stty size = %d %d in a pane of %dx%d", sttyRows, sttyCols, cols, rows)
	}

	term.send("exit\r")
	term.shows("build · passed in")
	term.send("q")
	if code := term.exitCode(); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	term.requireTerminalRestored()
}

func TestShellPaneFullScreenProgramRedraws(t *testing.T) {
	requireBash(t)
	term := startOnPTY(t, 120, 40, "build", shellProject(t))
	term.shows("ready$")
	term.send("echo before-$((1+1))\r")
	term.shows("before-2")

	term.send("vi /tmp/notes.txt\r")
	// busybox vi fills the rows below the text with ~ and shows the file
	// name on its status line.
	term.within("vi's screen", func(s string) bool {
		return strings.Contains(s, "/tmp/notes.txt") && strings.Count(s, "│~") > 10
	})
	term.send("ihello from vi")
	term.shows("hello from vi")
	// Escape on its own, as a key press arrives; busybox vi's status line
	// starts with - in command mode.
	term.send("\x1b")
	term.shows("- /tmp/notes.txt")

	term.resize(90, 30)
	term.within("vi redrawn in the smaller pane", func(s string) bool {
		cols, rows, ok := paneArea(s)
		if !ok || cols >= 80 {
			return false
		}
		// Every row below the text is a ~ row again, up to the status
		// line: vi redrew at the new size.
		return strings.Contains(s, "hello from vi") && strings.Count(s, "│~") == rows-2
	})

	term.send(":q!\r")
	term.within("the shell's screen back", func(s string) bool {
		return strings.Contains(s, "before-2") && !strings.Contains(s, "hello from vi") && strings.Count(s, "│~") == 0
	})
	term.send("exit\r")
	term.shows("build · passed in")
	term.send("q")
	term.exitCode()
	term.requireTerminalRestored()
}

func TestShellPaneExitStatusFailsStep(t *testing.T) {
	requireBash(t)
	term := startOnPTY(t, 120, 40, "build", shellProject(t))
	term.shows("ready$")
	term.send("echo $((6*7))\r")
	term.within("42 in the pane", func(s string) bool {
		return strings.Contains(s, "│42 ")
	})
	term.send("exit 4\r")
	term.shows("build · failed in")
	s := term.screen()
	if !strings.Contains(s, "✘ poke") || !strings.Contains(s, "exit 4") {
		t.Errorf("the steps pane does not show the shell step failed with 4:\n%s", s)
	}
	if !strings.Contains(s, "✔ bye") || !strings.Contains(s, "bye-from-after") {
		t.Errorf("the after-step did not run:\n%s", s)
	}
	if _, _, open := paneArea(s); open {
		t.Errorf("the shell pane is still open:\n%s", s)
	}
	term.send("q")
	if code := term.exitCode(); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	term.requireTerminalRestored()
}

func TestShellPaneDeviceAttributesQuery(t *testing.T) {
	requireBash(t)
	term := startOnPTY(t, 120, 40, "build", shellProject(t))
	term.shows("ready$")
	// The query's reply reaches the shell, which reads it.
	term.send(`printf '\033[c'; IFS= read -rs -t 10 -d c reply; echo "da-reply-${#reply}"` + "\r")
	term.within("the reply read by the shell", func(s string) bool {
		m := regexp.MustCompile(`da-reply-(\d+)`).FindStringSubmatch(s)
		return m != nil && m[1] != "0"
	})
	// The pane still takes keys and shows output.
	term.send("echo still-$((2+2))\r")
	term.shows("still-4")
	term.send("exit\r")
	term.shows("build · passed in")
	term.send("q")
	term.exitCode()
	term.requireTerminalRestored()
}

func TestShellPaneTallScrollRegionDuringResize(t *testing.T) {
	requireBash(t)
	term := startOnPTY(t, 120, 40, "build", shellProject(t))
	term.shows("ready$")
	term.send(`for i in $(seq 1 100); do printf '\033[5;200r\033[200;1H\033[3L'; sleep 0.02; done; printf '\033[r'; clear; echo region-done` + "\r")
	for _, size := range [][2]int{{100, 30}, {130, 45}, {80, 24}, {120, 40}} {
		time.Sleep(200 * time.Millisecond)
		term.resize(size[0], size[1])
	}
	term.shows("region-done")
	term.send("echo alive-$((3+4))\r")
	term.shows("alive-7")
	term.send("exit\r")
	term.shows("build · passed in")
	term.send("q")
	if code := term.exitCode(); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	term.requireTerminalRestored()
}

const breakOnFailureYML = `box: ` + testenv.BusyboxImage + `
build:
  steps:
    - script:
        name: first
        code: echo one > first.txt
    - script:
        name: second
        code: |
          cat first.txt
          test -f fixed.txt
`

func TestBreakOnFailureShellThenRetryInTUI(t *testing.T) {
	requireDocker(t)
	term := startOnPTY(t, 120, 40, "build", "--break-on-failure", writeProject(t, breakOnFailureYML))
	term.shows("paused after the failure of")
	term.shows("s shell · r retry · x skip · a abort")

	term.send("s")
	term.within("the shell pane", func(s string) bool { _, _, ok := paneArea(s); return ok && strings.Contains(s, "# ") })
	term.send("ls; echo ok > fixed.txt; echo fixed-$((1+1))\r")
	term.shows("fixed-2")
	if s := term.screen(); !strings.Contains(s, "first.txt") {
		t.Errorf("the shell does not see the first step's file:\n%s", s)
	}
	term.send("exit\r")
	term.within("the pause again", func(s string) bool {
		_, _, open := paneArea(s)
		return !open && strings.Contains(s, "r retry")
	})
	term.send("r")
	term.shows("build · passed in")
	if s := term.screen(); !strings.Contains(s, "✔ second") {
		t.Errorf("the retried step did not pass:\n%s", s)
	}
	term.send("q")
	if code := term.exitCode(); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	term.requireTerminalRestored()
}

func TestBreakOnFailureShellThenRetryPlain(t *testing.T) {
	requireDocker(t)
	term := startOnPTY(t, 120, 40, "build", "--no-tui", "--break-on-failure", writeProject(t, breakOnFailureYML))
	term.shows("[s]hell, [r]etry, s[k]ip, [a]bort?")
	term.send("s")
	term.shows("exit the shell to go on")
	term.send("ls; echo ok > fixed.txt; echo fixed-$((1+1))\r")
	term.shows("fixed-2")
	if s := term.screen(); !strings.Contains(s, "first.txt") {
		t.Errorf("the shell does not see the first step's file:\n%s", s)
	}
	term.send("exit\r")
	term.within("the prompt again", func(s string) bool {
		return strings.Count(s, "[s]hell, [r]etry, s[k]ip, [a]bort?") == 2
	})
	term.send("r")
	term.shows("build passed in")
	if code := term.exitCode(); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	term.requireCooked()
}

func TestShellStepWithoutTerminalFails(t *testing.T) {
	requireBash(t)
	out, code := runWerk(t, nil, "build", "--no-tui", shellProject(t))
	if code != 1 {
		t.Errorf("exit status %d, want 1; output:\n%s", code, out)
	}
	if !strings.Contains(out, "needs an interactive terminal") {
		t.Errorf("the output does not say why the shell step failed:\n%s", out)
	}
	if !strings.Contains(out, "bye-from-after") {
		t.Errorf("the after-step did not run:\n%s", out)
	}
}

func TestBreakOnFailureWithoutTerminalIsUsageError(t *testing.T) {
	requireDocker(t)
	out, code := runWerk(t, nil, "build", "--no-tui", "--break-on-failure", writeProject(t, breakOnFailureYML))
	if code != 2 || !strings.Contains(out, "need an interactive terminal") {
		t.Errorf("exit status %d, output:\n%s\nwant status 2 and the reason", code, out)
	}
}

func TestWerkShellMountsSource(t *testing.T) {
	requireBash(t)
	dir := shellProject(t)
	term := startOnPTY(t, 100, 30, "shell", dir)
	term.shows("exit the shell to go on")
	term.send("ls; touch from-the-shell; exit 3\r")
	term.shows("wercker.yml")
	if code := term.exitCode(); code != 3 {
		t.Errorf("exit status %d, want the shell's 3; screen:\n%s", code, term.screen())
	}
	term.requireCooked()
	if out, err := exec.Command("ls", dir).Output(); err != nil || !strings.Contains(string(out), "from-the-shell") {
		t.Errorf("the file made in the shell is not in the project (the source is not mounted): %s %v", out, err)
	}
	if s := term.screen(); strings.Contains(s, "made.txt") {
		t.Errorf("werk shell ran the pipeline's steps:\n%s", s)
	}
}
