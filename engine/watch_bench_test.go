package engine_test

// Benchmarks of the dev loop, recorded in docs/benchmarks.md under "Watch".
// Run them one at a time, each once:
//
//	go test ./engine -run '^$' -bench BenchmarkWatchReloadLatency -benchtime 1x
//	go test ./engine -run '^$' -bench BenchmarkWatcherStart -benchtime 1x
//	go test ./engine -run '^$' -bench BenchmarkWatchIdleCPU -benchtime 1x

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"werk/config"
	"werk/engine"
	"werk/internal/testenv"
	"werk/steps"
)

// reloadSamples is the number of reloads (and of floor execs) measured.
const reloadSamples = 50

// benchPipeline runs a dev pipeline whose only step is internal/watch with
// code, with the project mounted, and returns the runner and its events.
func benchPipeline(b *testing.B, code string) (dir string, runner *engine.Runner, events <-chan engine.Event, stop func()) {
	b.Helper()
	cli := testenv.Docker(b)
	testenv.RequireImage(b, cli, testenv.BusyboxImage)
	dir = b.TempDir()
	yml := "box: " + testenv.BusyboxImage + "\ndev:\n  steps:\n    - internal/watch:\n        reload: true\n        code: " + code + "\n"
	ymlPath := filepath.Join(dir, "wercker.yml")
	if err := os.WriteFile(ymlPath, []byte(yml), 0o644); err != nil {
		b.Fatal(err)
	}
	file, err := config.Parse(ymlPath, []byte(yml))
	if err != nil {
		b.Fatal(err)
	}
	pipeline, err := file.Pipeline("dev")
	if err != nil {
		b.Fatal(err)
	}

	project := steps.Project{Dir: dir, WorkingDir: filepath.Join(dir, ".werk")}
	list, err := steps.BuildAll(pipeline.Steps, project)
	if err != nil {
		b.Fatal(err)
	}

	bus := engine.NewBus(nil)
	sub := bus.Subscribe(1<<16, false)
	runner = engine.NewRunner(&engine.Docker{API: cli, Host: cli.DaemonHost()}, bus, engine.Options{
		Command: "dev", ProjectDir: dir, WorkingDir: project.WorkingDir, File: file, Pipeline: pipeline,
		Pull: engine.PullNever, DirectMount: true,
	}, list, nil)
	done := make(chan struct{})
	go func() {
		runner.Run(context.Background())
		bus.Close()
		close(done)
	}()
	stop = func() {
		runner.Interrupt()
		go func() {
			for range sub.C {
			}
		}()
		<-done
	}
	return dir, runner, sub.C, stop
}

// waitEvent reads events until match returns true.
func waitEvent(b *testing.B, events <-chan engine.Event, match func(engine.Event) bool) time.Time {
	b.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case e, ok := <-events:
			if !ok {
				b.Fatal("the run ended")
			}
			if match(e) {
				return time.Now()
			}
		case <-timeout:
			b.Fatal("no matching event within a minute")
		}
	}
}

// floorExec measures a bare exec of the command's first output in the box:
// from the exec's creation to its first output byte.
func floorExec(b *testing.B, d *engine.Docker, boxID string) time.Duration {
	b.Helper()
	ctx := context.Background()
	start := time.Now()
	created, err := d.API.ContainerExecCreate(ctx, boxID, container.ExecOptions{
		Cmd: []string{"/bin/sh", "-c", "echo ready"}, AttachStdout: true, AttachStderr: true,
	})
	if err != nil {
		b.Fatal(err)
	}
	conn, err := d.API.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	first := &firstByteWriter{seen: make(chan time.Time, 1)}
	go func() { _, _ = stdcopy.StdCopy(first, first, conn.Reader) }()
	return (<-first.seen).Sub(start)
}

type firstByteWriter struct{ seen chan time.Time }

func (w *firstByteWriter) Write(p []byte) (int, error) {
	select {
	case w.seen <- time.Now():
	default:
	}
	return len(p), nil
}

func percentile(samples []time.Duration, p float64) time.Duration {
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	i := int(p*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkWatchReloadLatency measures the time from writing a file on the
// host to the first output line of the restarted command, over 50 reloads
// with the default debounce (100 ms). The floor is a bare docker exec of the
// command's first line in the same box, interleaved with the reloads.
func BenchmarkWatchReloadLatency(b *testing.B) {
	dir, runner, events, stop := benchPipeline(b, `'echo "ready $WERK_CHANGED_PATHS"; exec sleep 1000'`)
	defer stop()
	waitEvent(b, events, func(e engine.Event) bool {
		l, ok := e.(engine.LogLine)
		return ok && l.Text == "ready "
	})
	box := runner.Box()
	var reloads, floors []time.Duration
	for i := 0; i < reloadSamples; i++ {
		floors = append(floors, floorExec(b, box.Docker(), box.ID))
		name := fmt.Sprintf("f%d.txt", i)
		start := time.Now()
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644); err != nil {
			b.Fatal(err)
		}
		end := waitEvent(b, events, func(e engine.Event) bool {
			l, ok := e.(engine.LogLine)
			return ok && l.Text == "ready "+name
		})
		reloads = append(reloads, end.Sub(start))
	}
	floorMedian, reloadMedian := percentile(floors, 0.5), percentile(reloads, 0.5)
	b.ReportMetric(ms(floorMedian), "floor-median-ms")
	b.ReportMetric(ms(percentile(floors, 0.95)), "floor-p95-ms")
	b.ReportMetric(ms(reloadMedian), "reload-median-ms")
	b.ReportMetric(ms(percentile(reloads, 0.95)), "reload-p95-ms")
	b.ReportMetric(ms(reloadMedian-floorMedian-engine.DefaultDebounce), "median-over-floor+debounce-ms")
}

// makeTree writes files files into folders of ten under dir/sub.
func makeTree(b *testing.B, dir, sub string, files int) {
	b.Helper()
	for i := 0; i < files; i++ {
		folder := filepath.Join(dir, sub, fmt.Sprintf("d%03d", i/1000), fmt.Sprintf("e%03d", i/10%100))
		if i%10 == 0 {
			if err := os.MkdirAll(folder, 0o755); err != nil {
				b.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(folder, fmt.Sprintf("f%d.txt", i%10)), nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// startRounds is how many times each tree is watched; the two trees of a
// size alternate, so both see the same machine load.
const startRounds = 9

// BenchmarkWatcherStart measures how long NewWatcher takes to watch a tree
// and the heap it keeps, for trees of 10k and 100k files, each without and
// with an ignored node_modules of 100k files. It reports medians over
// startRounds, after one warm-up start of each tree.
func BenchmarkWatcherStart(b *testing.B) {
	for _, files := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("files=%dk", files/1000), func(b *testing.B) {
			plain, withModules := b.TempDir(), b.TempDir()
			for _, dir := range []string{plain, withModules} {
				makeTree(b, dir, "src", files)
				if err := os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("node_modules/\n"), 0o644); err != nil {
					b.Fatal(err)
				}
			}
			makeTree(b, withModules, "node_modules", 100_000)
			for i := 0; i < b.N; i++ {
				var times [2][]time.Duration
				var heap [2]uint64
				var watches [2]int
				for round := -1; round < startRounds; round++ {
					for v, dir := range []string{plain, withModules} {
						runtime.GC()
						var before, after runtime.MemStats
						runtime.ReadMemStats(&before)
						start := time.Now()
						w, err := engine.NewWatcher(engine.WatchOptions{Root: dir, Recursive: true})
						if err != nil {
							b.Fatal(err)
						}
						elapsed := time.Since(start)
						runtime.GC()
						runtime.ReadMemStats(&after)
						watches[v] = w.WatchCount()
						w.Close()
						if round < 0 {
							continue // warm-up: fills the kernel's dentry cache
						}
						times[v] = append(times[v], elapsed)
						heap[v] = max(heap[v], after.HeapAlloc-min(after.HeapAlloc, before.HeapAlloc))
					}
				}
				plainMedian, modulesMedian := percentile(times[0], 0.5), percentile(times[1], 0.5)
				b.ReportMetric(ms(plainMedian), "start-ms")
				b.ReportMetric(ms(modulesMedian), "start-with-modules-ms")
				b.ReportMetric(float64(modulesMedian)/float64(plainMedian), "modules/plain")
				b.ReportMetric(float64(heap[0])/(1<<20), "heap-MiB")
				b.ReportMetric(float64(heap[1])/(1<<20), "heap-with-modules-MiB")
				b.ReportMetric(float64(watches[0]), "watches")
				b.ReportMetric(float64(watches[1]), "watches-with-modules")
			}
		})
	}
}

// cpuTime returns the user and system CPU time this process used so far.
func cpuTime(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// idleWindow is how long the idle benchmarks watch without any change.
const idleWindow = time.Minute

// BenchmarkWatchIdleCPU measures the CPU time of this process over a minute
// without changes: first with a Watcher alone on a 10k-file tree, then with
// a whole dev run whose watch step serves a sleeping command.
func BenchmarkWatchIdleCPU(b *testing.B) {
	b.Run("watcher", func(b *testing.B) {
		dir := b.TempDir()
		makeTree(b, dir, "src", 10_000)
		w, err := engine.NewWatcher(engine.WatchOptions{Root: dir, Recursive: true})
		if err != nil {
			b.Fatal(err)
		}
		defer w.Close()
		runtime.GC()
		before := cpuTime(b)
		time.Sleep(idleWindow)
		used := cpuTime(b) - before
		b.ReportMetric(100*used.Seconds()/idleWindow.Seconds(), "cpu-%")
		b.ReportMetric(ms(used), "cpu-ms")
	})
	b.Run("dev-run", func(b *testing.B) {
		_, _, events, stop := benchPipeline(b, `'echo "ready"; exec sleep 1000'`)
		defer stop()
		waitEvent(b, events, func(e engine.Event) bool {
			l, ok := e.(engine.LogLine)
			return ok && strings.HasPrefix(l.Text, "ready")
		})
		go func() {
			for range events {
			}
		}()
		runtime.GC()
		before := cpuTime(b)
		time.Sleep(idleWindow)
		used := cpuTime(b) - before
		b.ReportMetric(100*used.Seconds()/idleWindow.Seconds(), "cpu-%")
		b.ReportMetric(ms(used), "cpu-ms")
	})
}
