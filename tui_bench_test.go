package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/docker/docker/api/types/container"
	"golang.org/x/sys/unix"

	"werk/internal/testenv"
)

// floodLines is how many lines the flood benchmark prints.
const floodLines = 1_000_000

// keyInterval is the pause between the key presses of the latency probe.
const keyInterval = 25 * time.Millisecond

// floodScript prints the container's clock (seconds since boot, from the
// shared kernel) and then the flood; the harness reads the same clock.
var floodScript = "cat /proc/uptime; seq 1 " + strconv.Itoa(floodLines)

// BenchmarkTUIFlood measures, in one run, the TUI against its floor:
//
//   - floor: a container running floodScript, followed with `docker logs -f`
//     whose output the harness discards; the time from the container's first
//     line to the end of docker logs.
//   - werk: `werk build` on a PTY, its step running floodScript; the time
//     from the step's first line until the steps pane shows the step passed,
//     which the app draws only after the last line is in its buffer.
//   - latency: while the flood runs, the harness presses m (mouse reporting
//     on/off) keyInterval after the last press showed, and times each press until the mode sequence of
//     the redrawn frame arrives on the PTY. It reads the PTY without a
//     terminal emulator, so it costs werk little CPU.
//   - memory: werk's peak resident set size (VmHWM) after the run.
//
// Run: go test -run '^$' -bench TUIFlood -benchtime 1x .
func BenchmarkTUIFlood(b *testing.B) {
	cli := testenv.Docker(b)
	testenv.RequireImage(b, cli, testenv.BusyboxImage)

	floor := floodFloor(b)
	werkTime, latencies, peakKiB, dropped := floodWerk(b)

	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	worst, median := time.Duration(0), time.Duration(0)
	if n := len(latencies); n > 0 {
		worst, median = latencies[n-1], latencies[n/2]
	}
	b.ReportMetric(floor.Seconds(), "floor-s")
	b.ReportMetric(werkTime.Seconds(), "werk-s")
	b.ReportMetric(floor.Seconds()/werkTime.Seconds(), "rate-ratio")
	b.ReportMetric(float64(peakKiB)/1024, "peak-MiB")
	b.ReportMetric(float64(worst.Microseconds())/1000, "worst-key-ms")
	b.ReportMetric(float64(median.Microseconds())/1000, "median-key-ms")
	b.ReportMetric(float64(len(latencies)), "keys")
	b.ReportMetric(float64(dropped), "dropped-lines")
	b.Logf("latencies: %v", latencies)
	b.Logf("machine: %d CPUs (%s); floor %s, werk %s, ratio %.2f, peak %.1f MiB, key latency worst %s median %s over %d presses, %d lines dropped from the view",
		runtime.NumCPU(), cpuModel(), floor, werkTime, floor.Seconds()/werkTime.Seconds(), float64(peakKiB)/1024, worst, median, len(latencies), dropped)
}

// boottime returns the time since boot, the clock of /proc/uptime.
func boottime(b *testing.B) time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ts.Nano())
}

// parseUptime reads the first field of /proc/uptime ("2590.06 2089.03").
func parseUptime(b *testing.B, line string) time.Duration {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		b.Fatalf("not an uptime line: %q", line)
	}
	secs, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		b.Fatalf("not an uptime line: %q", line)
	}
	return time.Duration(secs * float64(time.Second))
}

func floodFloor(b *testing.B) time.Duration {
	b.Helper()
	cli := testenv.Docker(b)
	ctx := context.Background()
	created, err := cli.ContainerCreate(ctx, &container.Config{Image: testenv.BusyboxImage, Cmd: []string{"sh", "-c", floodScript}}, nil, nil, nil, "")
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cli.ContainerRemove(ctx, created.ID, container.RemoveOptions{Force: true}) }()
	if err := cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		b.Fatal(err)
	}
	logs := exec.Command("docker", "logs", "-f", created.ID)
	stdout, err := logs.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := logs.Start(); err != nil {
		b.Fatal(err)
	}
	r := bufio.NewReaderSize(stdout, 1<<20)
	first, err := r.ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	start := parseUptime(b, first)
	lines := 0
	for {
		chunk, err := r.ReadSlice('\n')
		if len(chunk) > 0 && chunk[len(chunk)-1] == '\n' {
			lines++
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			break
		}
	}
	end := boottime(b)
	_ = logs.Wait()
	if lines != floodLines {
		b.Fatalf("docker logs gave %d lines, want %d", lines, floodLines)
	}
	return end - start
}

// rawPTY runs werk on a PTY without a terminal emulator, so the harness
// takes little CPU from werk. It finds marker strings in werk's output.
type rawPTY struct {
	cmd  *exec.Cmd
	ptmx *os.File
	mu   sync.Mutex
	out  []byte
	done chan struct{}
}

func startRawPTY(b *testing.B, cols, rows int, args ...string) *rawPTY {
	b.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		b.Skipf("no PTY: %v", err)
	}
	if err := pty.Setsize(ptmx, &pty.Winsize{Cols: uint16(cols), Rows: uint16(rows)}); err != nil {
		b.Fatal(err)
	}
	p := &rawPTY{ptmx: ptmx, done: make(chan struct{})}
	p.cmd = exec.Command(werkBinary, args...)
	p.cmd.Env = append(os.Environ(), "TERM=xterm-256color")
	p.cmd.Stdin, p.cmd.Stdout, p.cmd.Stderr = tty, tty, tty
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := p.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := ptmx.Read(buf)
			if n > 0 {
				p.mu.Lock()
				p.out = append(p.out, buf[:n]...)
				p.mu.Unlock()
			}
			if err != nil {
				return
			}
		}
	}()
	b.Cleanup(func() {
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

// waitMarker waits until marker appears in the output after offset from,
// and returns the offset just after it.
func (p *rawPTY) waitMarker(b *testing.B, marker string, from int) int {
	b.Helper()
	if !p.findMarker(marker, from, 2*time.Minute) {
		b.Fatalf("no %q in werk's output after byte %d of %d", marker, from, p.size())
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return from + bytes.Index(p.out[from:], []byte(marker)) + len(marker)
}

// findMarker waits up to timeout for marker after offset from. Only one
// goroutine may wait on the output at a time, so this polls.
func (p *rawPTY) findMarker(marker string, from int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		found := from < len(p.out) && bytes.Contains(p.out[from:], []byte(marker))
		p.mu.Unlock()
		if found {
			return true
		}
		time.Sleep(time.Millisecond)
	}
	return false
}

func (p *rawPTY) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.out)
}

func floodWerk(b *testing.B) (took time.Duration, latencies []time.Duration, peakKiB, dropped int) {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "flood")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	yml := "box: werk-test/busybox\nbuild:\n  steps:\n    - script:\n        name: flood\n        code: " + floodScript + "\n"
	if err := os.WriteFile(filepath.Join(dir, "wercker.yml"), []byte(yml), 0o644); err != nil {
		b.Fatal(err)
	}
	term := startRawPTY(b, 120, 40, "build", dir)
	pos := term.waitMarker(b, "step 1/1 flood started", 0)

	// The step's "passed" marker line, drawn after its last line is in the
	// buffer, ends the flood. (The renderer styles "passed" apart from the
	// words around it, so the word alone is the marker.) m toggles mouse
	// reporting, whose mode sequence comes with the frame that shows the
	// change.
	finished := make(chan time.Duration, 1)
	go func() {
		if term.findMarker("passed", pos, 2*time.Minute) {
			finished <- boottime(b)
		}
	}()
	markers := [2]string{"\x1b[?1006l", "\x1b[?1006h"}
	var end time.Duration
	for i := 0; end == 0; i++ {
		from := term.size()
		sent := time.Now()
		if _, err := term.ptmx.Write([]byte("m")); err != nil {
			b.Fatal(err)
		}
		term.waitMarker(b, markers[i%2], from)
		latencies = append(latencies, time.Since(sent))
		select {
		case end = <-finished:
		case <-time.After(keyInterval):
		}
	}
	// Quit once the run, cleanup included, has ended: its marker line is
	// the only "pipeline" after the step started.
	term.waitMarker(b, "pipeline", pos)
	peakKiB = vmHWM(b, term.cmd.Process.Pid)
	if _, err := term.ptmx.Write([]byte("q")); err != nil {
		b.Fatal(err)
	}
	select {
	case <-term.done:
	case <-time.After(time.Minute):
		b.Fatal("werk did not quit")
	}
	if code := term.cmd.ProcessState.ExitCode(); code != 0 {
		b.Fatalf("werk exit status %d", code)
	}

	// The step's first line, the container's clock at its start, is in the
	// run log.
	logs, _ := filepath.Glob(filepath.Join(dir, ".werk", "logs", "*.log"))
	if len(logs) != 1 {
		b.Fatalf("run logs: %v", logs)
	}
	data, err := os.ReadFile(logs[0])
	if err != nil {
		b.Fatal(err)
	}
	m := regexp.MustCompile(`\[flood\] ([0-9.]+ [0-9.]+)`).FindSubmatch(data)
	if m == nil {
		b.Fatal("no uptime line in the run log")
	}
	if !strings.Contains(string(data), "[flood] "+strconv.Itoa(floodLines)+"\n") {
		b.Fatal("the run log lacks the last line")
	}
	// The app logs how many lines it never got.
	werkLog, err := os.ReadFile(filepath.Join(dir, ".werk", "werk.log"))
	if err != nil {
		b.Fatal(err)
	}
	shown := regexp.MustCompile(`terminal UI showed the run.* lines_dropped=(\d+)`).FindSubmatch(werkLog)
	if shown == nil {
		b.Fatal("werk.log lacks the terminal UI's line counts")
	}
	dropped, _ = strconv.Atoi(string(shown[1]))
	return end - parseUptime(b, string(m[1])), latencies, peakKiB, dropped
}

// vmHWM returns the peak resident set size of process pid in KiB.
func vmHWM(b *testing.B, pid int) int {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		b.Fatal(err)
	}
	m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(data)
	if m == nil {
		b.Fatal("no VmHWM in /proc status")
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

func cpuModel() string {
	data, _ := os.ReadFile("/proc/cpuinfo")
	if m := regexp.MustCompile(`model name\s*:\s*(.+)`).FindSubmatch(data); m != nil {
		return string(m[1])
	}
	return "unknown CPU"
}
