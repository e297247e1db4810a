package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"werk/engine"
	"werk/internal/testenv"
)

// seqCommand prints 200,000 lines in the box and then the milliseconds
// that took, as bash's EPOCHREALTIME measures them inside the box.
// The quotes in E""L keep the marker out of the echo of the typed line.
const seqCommand = `t0=$EPOCHREALTIME; seq 1 200000; t1=$EPOCHREALTIME; echo "E""L=$(( (${t1/./}-${t0/./})/1000 ))ms"`

var elapsedMarker = regexp.MustCompile(`EL=(\d+)ms`)

// BenchmarkShellPane measures the terminal pane of `werk build` on a PTY of
// 200x60 cells, with internal/shell in the werk-test/bash box, in one run:
//
//   - throughput: seqCommand typed into the pane, against the same
//     command in the same box through `docker exec -it` in a tmux session
//     of the pane's size. Both print the time seq took inside the box,
//     which the terminal's reading speed bounds. Three rounds each,
//     alternating; medians.
//   - key to echo: a key written to werk's PTY until werk draws its echo
//     from the box (the first byte of it on the PTY), 100 keys 25 ms apart.
//   - memory: werk's resident set size before and after 15,000 lines of 80
//     characters, which fill the pane's 10,000-line scrollback.
//
// Run: go test -run '^$' -bench ShellPane -benchtime 1x .
func BenchmarkShellPane(b *testing.B) {
	cli := testenv.Docker(b)
	testenv.RequireImage(b, cli, testenv.BashImage)
	if _, err := exec.LookPath("tmux"); err != nil {
		b.Skip("tmux not installed")
	}
	dir := filepath.Join(b.TempDir(), "shell")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	yml := "box: " + testenv.BashImage + "\nbuild:\n  steps:\n    - internal/shell:\n        name: bench\n        code: PS1='ready$ '\n"
	if err := os.WriteFile(filepath.Join(dir, "wercker.yml"), []byte(yml), 0o644); err != nil {
		b.Fatal(err)
	}
	term := startRawPTY(b, 200, 60, "build", dir)
	pos := term.waitMarker(b, "ready$", 0)
	typeLine := func(line string) {
		if _, err := term.ptmx.Write([]byte(line + "\r")); err != nil {
			b.Fatal(err)
		}
	}

	typeLine(`echo "S""Z=$(stty size | tr ' ' x)"`)
	m := waitMatch(b, term, regexp.MustCompile(`SZ=(\d+)x(\d+)`), pos)
	rows, cols := m[1], m[2]

	// Memory with a full scrollback.
	before := vmRSS(b, term.cmd.Process.Pid)
	from := term.size()
	typeLine(`for i in $(seq 1 15000); do printf '%080d\n' $i; done; echo MEM-$((40+2))`)
	term.waitMarker(b, "MEM-42", from)
	time.Sleep(time.Second)
	after := vmRSS(b, term.cmd.Process.Pid)
	b.Logf("werk's resident set: %d KiB before, %d KiB with 10,000 lines of scrollback (peak %d KiB)", before, after, vmHWM(b, term.cmd.Process.Pid))
	b.ReportMetric(float64(after-before), "scrollback-KiB")

	box := boxContainer(b, dir)
	var werkTimes, tmuxTimes []int
	for range 3 {
		from := term.size()
		typeLine(seqCommand)
		ms, _ := strconv.Atoi(waitMatch(b, term, elapsedMarker, from)[1])
		werkTimes = append(werkTimes, ms)
		tmuxTimes = append(tmuxTimes, tmuxSeqInBox(b, box, cols, rows))
		b.Logf("round: werk %d ms, tmux %d ms", werkTimes[len(werkTimes)-1], tmuxTimes[len(tmuxTimes)-1])
	}
	werkMedian, tmuxMedian := median(werkTimes), median(tmuxTimes)
	b.Logf("seq 1 200000 in a %sx%s pane: werk %v ms, tmux with docker exec %v ms; medians %d and %d ms, ratio %.2f",
		cols, rows, werkTimes, tmuxTimes, werkMedian, tmuxMedian, float64(werkMedian)/float64(tmuxMedian))
	b.ReportMetric(float64(werkMedian)/float64(tmuxMedian), "werk/tmux")

	// Key to echo: uppercase letters that the rest of the screen does not
	// redraw while the shell idles.
	typeLine("clear")
	time.Sleep(500 * time.Millisecond)
	keys := "QZXJVKW"
	var latencies []time.Duration
	for i := range 100 {
		k := keys[i%len(keys)]
		from := term.size()
		sent := time.Now()
		if _, err := term.ptmx.Write([]byte{k}); err != nil {
			b.Fatal(err)
		}
		if !term.findMarker(string(k), from, 5*time.Second) {
			b.Fatalf("key %q never echoed", k)
		}
		latencies = append(latencies, time.Since(sent))
		if i%40 == 39 {
			// Ctrl-U empties the line before it wraps.
			if _, err := term.ptmx.Write([]byte{0x15}); err != nil {
				b.Fatal(err)
			}
		}
		time.Sleep(keyInterval)
	}
	if _, err := term.ptmx.Write([]byte{0x15}); err != nil {
		b.Fatal(err)
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	floor := echoFloor(b, box)
	b.Logf("key to echo through docker exec alone: median %v, 95th percentile %v", floor[len(floor)/2], floor[len(floor)*95/100])
	b.Logf("key to echo: median %v, 95th percentile %v, max %v", latencies[len(latencies)/2], latencies[len(latencies)*95/100], latencies[len(latencies)-1])
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "echo-median-ms")

	// The run log's summary marks the run's end, cleanup included.
	from = term.size()
	typeLine("exit")
	waitRunLog(b, dir, "build passed in")
	if _, err := term.ptmx.Write([]byte("q")); err != nil {
		b.Fatal(err)
	}
	select {
	case <-term.done:
	case <-time.After(time.Minute):
		b.Fatal("werk did not quit")
	}
	b.Logf("machine: %s, %d CPUs", cpuModel(), numCPU())
}

// echoFloor times keys written to `cat` on a TTY exec in the box until
// their echo comes back, with werk's engine code but no terminal pane: the
// floor of the pane's key-to-echo time.
func echoFloor(b *testing.B, box string) []time.Duration {
	b.Helper()
	d := &engine.Docker{API: testenv.Docker(b)}
	ctx := context.Background()
	tty, err := d.StartTTY(ctx, box, engine.TTYOptions{Cmd: []string{"cat"}, Size: engine.TermSize{Cols: 80, Rows: 24}})
	if err != nil {
		b.Fatal(err)
	}
	defer tty.Close()
	var samples []time.Duration
	buf := make([]byte, 256)
	for i := range 100 {
		k := byte('a' + i%26)
		sent := time.Now()
		if _, err := tty.Write([]byte{k}); err != nil {
			b.Fatal(err)
		}
		for {
			n, err := tty.Read(buf)
			if err != nil {
				b.Fatal(err)
			}
			if bytes.IndexByte(buf[:n], k) >= 0 {
				break
			}
		}
		samples = append(samples, time.Since(sent))
		time.Sleep(keyInterval)
	}
	_, _ = tty.Write([]byte{0x03})
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	return samples
}

// waitRunLog waits until the run log of the project in dir contains text.
func waitRunLog(b *testing.B, dir, text string) {
	b.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		logs, _ := filepath.Glob(filepath.Join(dir, ".werk", "logs", "*.log"))
		for _, l := range logs {
			if data, err := os.ReadFile(l); err == nil && bytes.Contains(data, []byte(text)) {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Fatalf("the run log never showed %q", text)
}

// waitMatch waits until re matches werk's output after offset from and
// returns the submatches.
func waitMatch(b *testing.B, term *rawPTY, re *regexp.Regexp, from int) []string {
	b.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		term.mu.Lock()
		m := re.FindSubmatch(term.out[from:])
		term.mu.Unlock()
		if m != nil {
			out := make([]string, len(m))
			for i := range m {
				out[i] = string(m[i])
			}
			return out
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.Fatalf("no match of %s in werk's output", re)
	return nil
}

// boxContainer returns the ID of the box container werk runs for project
// dir.
func boxContainer(b *testing.B, dir string) string {
	b.Helper()
	cli := testenv.Docker(b)
	args := filters.NewArgs(filters.Arg("label", "dev.werk.project="+dir), filters.Arg("label", "dev.werk.role=box"))
	cs, err := cli.ContainerList(context.Background(), container.ListOptions{Filters: args})
	if err != nil || len(cs) != 1 {
		b.Fatalf("finding the box container: %v (%d found)", err, len(cs))
	}
	return cs[0].ID
}

// tmuxSeqInBox runs seqCommand through `docker exec -it` in a tmux session
// of cols x rows and returns the milliseconds it printed.
func tmuxSeqInBox(b *testing.B, box, cols, rows string) int {
	b.Helper()
	name := fmt.Sprintf("werk-bench-%d", time.Now().UnixNano())
	quoted := "'" + strings.ReplaceAll(seqCommand, "'", `'\''`) + "'"
	inner := fmt.Sprintf("docker exec -it %s bash -c %s; tmux wait-for -S %s; sleep 60", box, quoted, name)
	if out, err := exec.Command("tmux", "new-session", "-d", "-s", name, "-x", cols, "-y", rows, inner).CombinedOutput(); err != nil {
		b.Fatalf("starting tmux: %v: %s", err, out)
	}
	defer func() { _ = exec.Command("tmux", "kill-session", "-t", name).Run() }()
	if out, err := exec.Command("tmux", "wait-for", name).CombinedOutput(); err != nil {
		b.Fatalf("waiting for tmux: %v: %s", err, out)
	}
	screen, err := exec.Command("tmux", "capture-pane", "-p", "-t", name).Output()
	if err != nil {
		b.Fatal(err)
	}
	m := elapsedMarker.FindAllSubmatch(screen, -1)
	if len(m) == 0 {
		b.Fatalf("no elapsed time in tmux:\n%s", screen)
	}
	ms, _ := strconv.Atoi(string(m[len(m)-1][1]))
	return ms
}

func median(v []int) int {
	s := append([]int(nil), v...)
	sort.Ints(s)
	return s[len(s)/2]
}

// vmRSS returns the resident set size of process pid in KiB.
func vmRSS(b *testing.B, pid int) int {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		b.Fatal(err)
	}
	m := regexp.MustCompile(`VmRSS:\s+(\d+) kB`).FindSubmatch(data)
	if m == nil {
		b.Fatal("no VmRSS in /proc status")
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

func numCPU() int {
	data, _ := os.ReadFile("/proc/cpuinfo")
	return bytes.Count(data, []byte("processor\t:"))
}
