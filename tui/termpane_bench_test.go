package tui

import (
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	uv "github.com/charmbracelet/ultraviolet"
	"github.com/creack/pty"
)

// benchLines is how many lines the throughput benchmark prints.
const benchLines = 200_000

// paneSizes are the inner sizes of the terminal pane measured: the pane in
// an 80x40 terminal's layout and in a 200x60 one, zoomed.
var paneSizes = [][2]int{{78, 37}, {198, 58}}

// BenchmarkPaneThroughput prints `seq 1 200000` on a local PTY three ways
// at each pane size, in the same run:
//
//   - tmux: a detached tmux session of the same size runs seq; the time
//     from starting the session to `tmux wait-for` after seq.
//   - emulator: the PTY's output goes straight into x/vt v0.1.0, line by
//     line, as a pane without werk's feeder would; the time until EOF.
//   - pane: a terminal pane (feeder, scrollback ring, frames) runs seq;
//     the time until the pane has published its last frame.
//
// Run: go test ./tui -run '^$' -bench PaneThroughput -benchtime 1x
func BenchmarkPaneThroughput(b *testing.B) {
	if _, err := exec.LookPath("tmux"); err != nil {
		b.Skip("tmux not installed")
	}
	for _, size := range paneSizes {
		cols, rows := size[0], size[1]
		floor := tmuxSeq(b, cols, rows)
		raw := emulatorSeq(b, cols, rows)
		pane := paneSeq(b, cols, rows)
		b.Logf("%dx%d: tmux %v, x/vt line by line %v (%.1fx), pane %v (%.2fx)",
			cols, rows, floor.Round(time.Millisecond), raw.Round(time.Millisecond), ratio(raw, floor),
			pane.Round(time.Millisecond), ratio(pane, floor))
		b.ReportMetric(ratio(pane, floor), fmt.Sprintf("pane/tmux-%dx%d", cols, rows))
		b.ReportMetric(ratio(raw, floor), fmt.Sprintf("xvt/tmux-%dx%d", cols, rows))
	}
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

func tmuxSeq(b *testing.B, cols, rows int) time.Duration {
	b.Helper()
	name := fmt.Sprintf("werk-bench-%d", time.Now().UnixNano())
	start := time.Now()
	cmd := exec.Command("tmux", "new-session", "-d", "-s", name, "-x", fmt.Sprint(cols), "-y", fmt.Sprint(rows),
		fmt.Sprintf("seq 1 %d; tmux wait-for -S %s", benchLines, name))
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("starting tmux: %v: %s", err, out)
	}
	if out, err := exec.Command("tmux", "wait-for", name).CombinedOutput(); err != nil {
		b.Fatalf("waiting for tmux: %v: %s", err, out)
	}
	took := time.Since(start)
	_ = exec.Command("tmux", "kill-session", "-t", name).Run()
	return took
}

func emulatorSeq(b *testing.B, cols, rows int) time.Duration {
	b.Helper()
	em := newVTEmulator(cols, rows)
	go func() { _, _ = io.Copy(io.Discard, em) }()
	defer em.CloseInput()
	f := newFeeder(em, newLineRing(DefaultScrollbackLines), cols, rows, func() func() { return func() {} })
	start := time.Now()
	ptmx, err := pty.StartWithSize(exec.Command("seq", "1", fmt.Sprint(benchLines)), &pty.Winsize{Cols: uint16(cols), Rows: uint16(rows)})
	if err != nil {
		b.Fatal(err)
	}
	defer ptmx.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := ptmx.Read(buf)
		if n > 0 {
			f.write(buf[:n])
		}
		if err != nil {
			break
		}
	}
	return time.Since(start)
}

func paneSeq(b *testing.B, cols, rows int) time.Duration {
	b.Helper()
	p := newTermPane("bench", cols, rows, DefaultScrollbackLines)
	start := time.Now()
	if _, err := p.runLocal(exec.Command("seq", "1", fmt.Sprint(benchLines))); err != nil {
		b.Fatal(err)
	}
	<-p.done
	took := time.Since(start)
	if !strings.Contains(paneText(p), fmt.Sprint(benchLines)) {
		b.Fatalf("the pane does not show the last line; screen:\n%s", paneText(p))
	}
	return took
}

// BenchmarkPaneKeyEcho times a key press in a pane until the frame that
// shows its echo: sendKey, the PTY's echo by cat, the parse and the frame.
// It presses a key every 25 ms, 200 times.
//
// Run: go test ./tui -run '^$' -bench PaneKeyEcho -benchtime 1x
func BenchmarkPaneKeyEcho(b *testing.B) {
	p := newTermPane("bench", 78, 37, DefaultScrollbackLines)
	done := make(chan struct{})
	go func() {
		_, _ = p.runLocal(exec.Command("cat"))
		close(done)
	}()
	var samples []time.Duration
	for i := range 200 {
		r := rune('a' + i%26)
		// Drain the frame of the last key first.
		select {
		case <-p.frames:
		default:
		}
		before := p.snapshot()
		start := time.Now()
		p.sendKey(uv.KeyPressEvent{Code: r, Text: string(r)})
		for {
			<-p.frames
			if snap := p.snapshot(); snap != before && snapHasRuneAtCursorLeft(snap, r) {
				break
			}
		}
		samples = append(samples, time.Since(start))
		if i%60 == 59 {
			p.sendKey(uv.KeyPressEvent{Code: uv.KeyEnter})
			<-p.frames
		}
		time.Sleep(25 * time.Millisecond)
	}
	p.sendKey(uv.KeyPressEvent{Code: 'd', Mod: uv.ModCtrl})
	p.sendKey(uv.KeyPressEvent{Code: 'd', Mod: uv.ModCtrl})
	<-done
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	median, p95 := samples[len(samples)/2], samples[len(samples)*95/100]
	b.Logf("key to echo in the pane: median %v, 95th percentile %v, max %v", median, p95, samples[len(samples)-1])
	b.ReportMetric(float64(median.Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(p95.Microseconds())/1000, "p95-ms")
}

// snapHasRuneAtCursorLeft reports whether the cell left of the cursor shows
// r: the echo of the last key.
func snapHasRuneAtCursorLeft(snap *screenSnapshot, r rune) bool {
	y, x := snap.cursor.Y, snap.cursor.X-1
	if y < 0 || y >= len(snap.lines) || x < 0 {
		return false
	}
	line := []rune(snap.lines[y])
	return x < len(line) && line[x] == r
}

// BenchmarkPaneScrollbackMemory measures the Go heap that a pane holds with
// a full scrollback of 10,000 lines of 80 characters, against an empty pane.
//
// Run: go test ./tui -run '^$' -bench PaneScrollbackMemory -benchtime 1x
func BenchmarkPaneScrollbackMemory(b *testing.B) {
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	base := heap()
	empty := newTermPane("empty", 80, 24, DefaultScrollbackLines)
	emptyHeap := heap() - base

	full := newTermPane("full", 80, 24, DefaultScrollbackLines)
	script := `i=0; while [ $i -lt 12000 ]; do printf '%080d\n' $i; i=$((i+1)); done`
	if _, err := full.runLocal(exec.Command("/bin/sh", "-c", script)); err != nil {
		b.Fatal(err)
	}
	<-full.done
	if n := full.scrollbackLen(); n != DefaultScrollbackLines {
		b.Fatalf("scrollback has %d lines, want %d", n, DefaultScrollbackLines)
	}
	fullHeap := heap() - base - emptyHeap
	b.Logf("heap of an empty 80x24 pane: %d KiB; of a pane with 10,000 scrollback lines of 80 characters: %d KiB (the scrollback adds %d KiB)",
		emptyHeap>>10, fullHeap>>10, (int64(fullHeap)-int64(emptyHeap))>>10)
	b.ReportMetric(float64(fullHeap>>10), "full-KiB")
	b.ReportMetric(float64(emptyHeap>>10), "empty-KiB")
	runtime.KeepAlive(empty)
	runtime.KeepAlive(full)
}
