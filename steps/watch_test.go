package steps

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"werk/config"
	"werk/engine"
	"werk/internal/testenv"
)

// waitLimit bounds every wait for an event of a watch pipeline. It is
// generous so that a loaded two-core machine passes; no test asserts how
// long anything took.
const waitLimit = 30 * time.Second

// eventLog records the events of a run and lets a test wait for a condition
// on them.
type eventLog struct {
	mu      sync.Mutex
	events  []engine.Event
	changed chan struct{}
}

func newEventLog() *eventLog { return &eventLog{changed: make(chan struct{})} }

func (l *eventLog) consume(sub *engine.Subscription) {
	for e := range sub.C {
		l.mu.Lock()
		l.events = append(l.events, e)
		close(l.changed)
		l.changed = make(chan struct{})
		l.mu.Unlock()
	}
}

func (l *eventLog) snapshot() []engine.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

// waitFor returns the first event that matches, waiting up to waitLimit.
func (l *eventLog) waitFor(t *testing.T, what string, match func(engine.Event) bool) engine.Event {
	t.Helper()
	deadline := time.After(waitLimit)
	seen := 0
	for {
		l.mu.Lock()
		events, changed := l.events, l.changed
		l.mu.Unlock()
		for ; seen < len(events); seen++ {
			if match(events[seen]) {
				return events[seen]
			}
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("no %s within %s; events:\n%s", what, waitLimit, describeEvents(l.snapshot()))
		}
	}
}

// waitReload waits for the Reload of instance seq with the given result.
func (l *eventLog) waitReload(t *testing.T, seq int, result engine.ReloadResult) engine.Reload {
	t.Helper()
	e := l.waitFor(t, fmt.Sprintf("reload #%d %s", seq, result), func(e engine.Event) bool {
		r, ok := e.(engine.Reload)
		return ok && r.Seq == seq && r.Result == result
	})
	return e.(engine.Reload)
}

// reloadsStarted returns the Started reloads after the first start.
func (l *eventLog) reloadsStarted() []engine.Reload {
	var out []engine.Reload
	for _, e := range l.snapshot() {
		if r, ok := e.(engine.Reload); ok && r.Result == engine.ReloadStarted && r.Seq > 0 {
			out = append(out, r)
		}
	}
	return out
}

func describeEvents(events []engine.Event) string {
	var sb strings.Builder
	for _, e := range events {
		fmt.Fprintf(&sb, "  %T %+v\n", e, e)
	}
	return sb.String()
}

// watchPipeline is a dev pipeline running against the real engine.
type watchPipeline struct {
	dir    string
	runner *engine.Runner
	events *eventLog
	done   chan engine.RunFinished
}

// startWatchPipeline writes files and wercker.yml into a new project, and
// runs its dev pipeline with the project mounted, as `werk dev` does.
func startWatchPipeline(t *testing.T, yml string, files map[string]string, publish []string) *watchPipeline {
	t.Helper()
	cli := testenv.Docker(t)
	testenv.RequireImage(t, cli, testenv.BusyboxImage)
	dir := t.TempDir()
	files["wercker.yml"] = yml
	for name, content := range files {
		writeProjectFile(t, dir, name, content)
	}
	return runWatchPipeline(t, cli.DaemonHost(), dir, dir, publish)
}

// runWatchPipeline runs the dev pipeline of the project in dir, entered as
// projectDir (the same folder, or a symlink to it).
func runWatchPipeline(t *testing.T, host, dir, projectDir string, publish []string) *watchPipeline {
	t.Helper()
	cli := testenv.Docker(t)
	ymlPath := filepath.Join(projectDir, "wercker.yml")
	data, err := os.ReadFile(ymlPath)
	if err != nil {
		t.Fatal(err)
	}
	file, err := config.Parse(ymlPath, data)
	if err != nil {
		t.Fatalf("parsing the test's wercker.yml: %v", err)
	}
	pipeline, err := file.Pipeline("dev")
	if err != nil {
		t.Fatal(err)
	}

	project := Project{Dir: projectDir, WorkingDir: filepath.Join(projectDir, ".werk")}
	mainSteps, err := BuildAll(pipeline.Steps, project)
	if err != nil {
		t.Fatal(err)
	}
	afterSteps, err := BuildAll(pipeline.AfterSteps, project)
	if err != nil {
		t.Fatal(err)
	}

	bus := engine.NewBus(nil)
	events := newEventLog()
	sub := bus.Subscribe(1<<16, false)
	go events.consume(sub)
	runner := engine.NewRunner(&engine.Docker{API: cli, Host: host}, bus, engine.Options{
		Command:     "dev",
		ProjectDir:  projectDir,
		WorkingDir:  project.WorkingDir,
		File:        file,
		Pipeline:    pipeline,
		Pull:        engine.PullNever,
		DirectMount: true,
		Publish:     publish,
	}, mainSteps, afterSteps)

	p := &watchPipeline{dir: dir, runner: runner, events: events, done: make(chan engine.RunFinished, 1)}
	go func() {
		p.done <- runner.Run(context.Background())
		bus.Close()
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
			return
		default:
		}
		runner.Interrupt()
		runner.Interrupt()
		select {
		case <-p.done:
		case <-time.After(time.Minute):
			t.Errorf("the run did not end within a minute of two interrupts")
		}
	})
	return p
}

// stop ends the watch step as the first Ctrl-C does and returns the run's
// result once the pipeline finished.
func (p *watchPipeline) stop(t *testing.T) engine.RunFinished {
	t.Helper()
	p.runner.Interrupt()
	select {
	case res := <-p.done:
		p.done <- res
		return res
	case <-time.After(time.Minute):
		t.Fatalf("the run did not end within a minute of stopping the watch step; events:\n%s", describeEvents(p.events.snapshot()))
	}
	return engine.RunFinished{}
}

// sentinelReload changes a file that nothing else touches and returns the
// reload it causes. Events arrive in order, so every reload that earlier
// changes cause starts before it, or names their files too.
func (p *watchPipeline) sentinelReload(t *testing.T) engine.Reload {
	t.Helper()
	writeProjectFile(t, p.dir, "sentinel.txt", time.Now().String())
	e := p.events.waitFor(t, "reload for sentinel.txt", func(e engine.Event) bool {
		r, ok := e.(engine.Reload)
		return ok && r.Result == engine.ReloadStarted && slices.Contains(r.Files, "sentinel.txt")
	})
	return e.(engine.Reload)
}

func writeProjectFile(t *testing.T, dir, rel, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func renameProjectFile(t *testing.T, dir, from, to string) {
	t.Helper()
	if err := os.Rename(filepath.Join(dir, from), filepath.Join(dir, to)); err != nil {
		t.Fatal(err)
	}
}

// runHostShell runs a command line with sh in the project folder on the host.
func runHostShell(t *testing.T, dir, line string) {
	t.Helper()
	cmd := exec.Command("sh", "-c", line)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sh -c %q: %v: %s", line, err, out)
	}
}

// watchYML returns a dev pipeline whose only step is internal/watch with
// the code and extra options (indented as step options), followed by steps.
func watchYML(code string, options string, after string) string {
	var sb strings.Builder
	sb.WriteString("box: " + testenv.BusyboxImage + "\ndev:\n  steps:\n    - internal/watch:\n        code: |\n")
	for _, line := range strings.Split(strings.TrimSpace(code), "\n") {
		sb.WriteString("          " + line + "\n")
	}
	sb.WriteString("        reload: true\n        debounce: 50ms\n")
	for _, line := range strings.Split(strings.TrimSpace(options), "\n") {
		if line != "" {
			sb.WriteString("        " + strings.TrimSpace(line) + "\n")
		}
	}
	sb.WriteString(after)
	return sb.String()
}

const sleeperCode = `echo "changed: $(echo $WERK_CHANGED_PATHS)"
exec sleep 1000`

func TestWatchVimSaveTwiceReloadsTwice(t *testing.T) {
	p := startWatchPipeline(t, watchYML(sleeperCode, "", ""), map[string]string{"app.sh": "v0"}, nil)
	p.events.waitReload(t, 0, engine.ReloadRunning)

	for i, content := range []string{"v1", "v2"} {
		// vim with backup on: write a temp, move the original aside as the
		// backup, move the temp into place.
		writeProjectFile(t, p.dir, "4913", content)
		renameProjectFile(t, p.dir, "app.sh", "app.sh~")
		renameProjectFile(t, p.dir, "4913", "app.sh")
		r := p.events.waitReload(t, i+1, engine.ReloadStarted)
		if want := []string{"app.sh"}; !slices.Equal(r.Files, want) {
			t.Errorf("reload #%d files = %q, want %q", i+1, r.Files, want)
		}
		p.events.waitReload(t, i+1, engine.ReloadRunning)
	}
	if r := p.sentinelReload(t); r.Seq != 3 || len(r.Files) != 1 {
		t.Errorf("sentinel reload = #%d with %q, want #3 with only sentinel.txt: the saves caused extra reloads", r.Seq, r.Files)
	}
	if res := p.stop(t); res.Result != engine.ResultPassed {
		t.Errorf("run result = %v (%v), want passed: stopping the watch step passes", res.Result, res.Err)
	}
}

func TestWatchJetBrainsSafeWriteReloadsOnce(t *testing.T) {
	cli := testenv.Docker(t)
	testenv.RequireImage(t, cli, testenv.BusyboxImage)
	dir := t.TempDir()
	writeProjectFile(t, dir, "wercker.yml", watchYML(sleeperCode, "", ""))
	writeProjectFile(t, dir, "app.sh", "v0")
	// The project is entered through a symlink.
	link := filepath.Join(t.TempDir(), "project")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	p := runWatchPipeline(t, cli.DaemonHost(), dir, link, nil)
	p.events.waitReload(t, 0, engine.ReloadRunning)

	writeProjectFile(t, dir, "app.sh___jb_tmp___", "v1")
	renameProjectFile(t, dir, "app.sh", "app.sh___jb_old___")
	renameProjectFile(t, dir, "app.sh___jb_tmp___", "app.sh")
	if err := os.Remove(filepath.Join(dir, "app.sh___jb_old___")); err != nil {
		t.Fatal(err)
	}
	r := p.events.waitReload(t, 1, engine.ReloadStarted)
	if want := []string{"app.sh"}; !slices.Equal(r.Files, want) {
		t.Errorf("reload files = %q, want %q", r.Files, want)
	}
	p.events.waitFor(t, "output naming app.sh", func(e engine.Event) bool {
		l, ok := e.(engine.LogLine)
		return ok && l.Stream == engine.Stdout && l.Text == "changed: app.sh"
	})
	if r := p.sentinelReload(t); r.Seq != 2 {
		t.Errorf("sentinel reload = #%d, want #2: the safe-write caused more than one reload", r.Seq)
	}
	p.stop(t)
}

func TestWatchVimSwapFileDoesNotReload(t *testing.T) {
	p := startWatchPipeline(t, watchYML(sleeperCode, "", ""), map[string]string{"app.sh": "v0"}, nil)
	p.events.waitReload(t, 0, engine.ReloadRunning)

	for i := 0; i < 5; i++ {
		writeProjectFile(t, p.dir, ".app.sh.swp", strings.Repeat("swap", i+1))
	}
	if r := p.sentinelReload(t); r.Seq != 1 || !slices.Equal(r.Files, []string{"sentinel.txt"}) {
		t.Errorf("first reload = #%d with %q, want #1 with only sentinel.txt: the swap file caused a reload", r.Seq, r.Files)
	}
	p.stop(t)
}

func TestWatchNewNestedFoldersAreWatched(t *testing.T) {
	p := startWatchPipeline(t, watchYML(sleeperCode, "", ""), map[string]string{"app.sh": "v0"}, nil)
	p.events.waitReload(t, 0, engine.ReloadRunning)

	runHostShell(t, p.dir, "mkdir -p src/new/deep && echo x > src/new/deep/a.txt")
	r := p.events.waitReload(t, 1, engine.ReloadStarted)
	if want := []string{"src/new/deep/a.txt"}; !slices.Equal(r.Files, want) {
		t.Errorf("reload #1 files = %q, want %q", r.Files, want)
	}
	p.events.waitFor(t, "WERK_CHANGED_PATHS in the output", func(e engine.Event) bool {
		l, ok := e.(engine.LogLine)
		return ok && l.Text == "changed: src/new/deep/a.txt"
	})

	runHostShell(t, p.dir, "echo y > src/new/deep/b.txt")
	r = p.events.waitReload(t, 2, engine.ReloadStarted)
	if want := []string{"src/new/deep/b.txt"}; !slices.Equal(r.Files, want) {
		t.Errorf("reload #2 files = %q, want %q", r.Files, want)
	}
	if n := len(p.events.reloadsStarted()); n != 2 {
		t.Errorf("reloads = %d, want 2", n)
	}
	p.stop(t)
}

func TestWatchTwoFilesOneReloadOneServer(t *testing.T) {
	port := freePort(t)
	code := `mkdir -p /tmp/www && echo ok > /tmp/www/index.html
exec httpd -f -p 8080 -h /tmp/www`
	p := startWatchPipeline(t, watchYML(code, "", ""), map[string]string{"a.sh": "a", "b.sh": "b"},
		[]string{"127.0.0.1:" + port + ":8080"})
	p.events.waitReload(t, 0, engine.ReloadRunning)
	waitPortReadyAfter(t, p.events, engine.Reload{Seq: 0, Result: engine.ReloadRunning})

	runHostShell(t, p.dir, "echo >> a.sh; echo >> b.sh")
	r := p.events.waitReload(t, 1, engine.ReloadStarted)
	if want := []string{"a.sh", "b.sh"}; !slices.Equal(r.Files, want) {
		t.Errorf("reload files = %q, want %q", r.Files, want)
	}
	p.events.waitReload(t, 1, engine.ReloadRunning)
	waitPortReadyAfter(t, p.events, engine.Reload{Seq: 1, Result: engine.ReloadRunning})

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://127.0.0.1:" + port + "/")
	if err != nil {
		t.Fatalf("the server's port does not answer after the reload: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "ok" {
		t.Errorf("GET / = %d %q, want 200 \"ok\"", resp.StatusCode, body)
	}
	if n := countBoxProcesses(t, p.runner, "httpd"); n != 1 {
		t.Errorf("httpd processes in the box = %d, want 1", n)
	}
	if r := p.sentinelReload(t); r.Seq != 2 {
		t.Errorf("sentinel reload = #%d, want #2: the two writes caused more than one reload", r.Seq)
	}
	p.stop(t)
}

// waitPortReadyAfter waits for a PortState ready published after the given
// reload event.
func waitPortReadyAfter(t *testing.T, events *eventLog, after engine.Reload) {
	t.Helper()
	seenReload := false
	events.waitFor(t, fmt.Sprintf("port ready after reload #%d", after.Seq), func(e engine.Event) bool {
		switch v := e.(type) {
		case engine.Reload:
			if v.Seq == after.Seq && v.Result == after.Result {
				seenReload = true
			}
		case engine.PortState:
			return seenReload && v.Status == engine.PortReady
		}
		return false
	})
}

func TestWatchReloadsLeaveNoProcesses(t *testing.T) {
	code := `echo "instance up"
sh -c 'sleep 1001 & sh -c "sh -c \"sleep 1002 &\"; sleep 1003 &"; exec sleep 1004'`
	// The list step prints every process left in the box after the watch
	// step ended, with its state, before the run removes the box.
	list := `    - script:
        name: list
        code: |
          for f in /proc/[0-9]*/cmdline; do
            pid=${f#/proc/}; pid=${pid%/cmdline}
            read -r stat < /proc/$pid/stat 2>/dev/null || continue
            echo "PROC $pid $(tr '\0' ' ' < $f) [$stat]"
          done
`
	p := startWatchPipeline(t, watchYML(code, "grace: 1s", list), map[string]string{"app.sh": "v0"}, nil)
	p.events.waitReload(t, 0, engine.ReloadRunning)

	for i := 1; i <= 5; i++ {
		writeProjectFile(t, p.dir, "app.sh", fmt.Sprintf("v%d", i))
		p.events.waitReload(t, i, engine.ReloadRunning)
	}
	res := p.stop(t)
	if res.Result != engine.ResultPassed {
		t.Fatalf("run result = %v (%v), want passed", res.Result, res.Err)
	}
	listed := 0
	for _, e := range p.events.snapshot() {
		l, ok := e.(engine.LogLine)
		if !ok || l.Step.Name != "list" || !strings.HasPrefix(l.Text, "PROC ") {
			continue
		}
		listed++
		if strings.Contains(l.Text, "sleep 100") {
			t.Errorf("a process of the watched command remains in the box: %s", l.Text)
		}
		if strings.Contains(l.Text, ") Z ") {
			t.Errorf("a zombie remains in the box: %s", l.Text)
		}
	}
	if listed == 0 {
		t.Fatal("the list step printed no processes")
	}
	for seq := 0; seq < 5; seq++ {
		if r := findReloadEnd(p.events.snapshot(), seq); r.Result != engine.ReloadKilled {
			t.Errorf("instance #%d ended as %v (%s), want killed: its background sleeps ignore SIGINT", seq, r.Result, r.Detail)
		}
	}
}

func TestWatchKillsAfterGrace(t *testing.T) {
	code := `trap '' INT
echo "ignoring SIGINT"
exec sleep 1000`
	p := startWatchPipeline(t, watchYML(code, "grace: 2s", ""), map[string]string{"app.sh": "v0"}, nil)
	p.events.waitReload(t, 0, engine.ReloadRunning)

	writeProjectFile(t, p.dir, "app.sh", "v1")
	r := p.events.waitReload(t, 0, engine.ReloadKilled)
	if !strings.Contains(r.Detail, "SIGKILL") || !strings.Contains(r.Detail, "2s") {
		t.Errorf("killed detail = %q, want it to name SIGKILL and the 2s grace", r.Detail)
	}
	if r.ExitCode != 137 {
		t.Errorf("exit status = %d, want 137 (SIGKILL)", r.ExitCode)
	}
	p.events.waitReload(t, 1, engine.ReloadRunning)
	p.events.waitFor(t, "the killed line in the step's log", func(e engine.Event) bool {
		l, ok := e.(engine.LogLine)
		return ok && l.Stream == engine.System && strings.Contains(l.Text, "#0 killed by SIGKILL")
	})
	p.stop(t)
}

func TestWatchExitedCommandWaitsForChange(t *testing.T) {
	p := startWatchPipeline(t, watchYML(`echo "run $WERK_CHANGED_PATHS"; exit 3`, "", ""), map[string]string{"app.sh": "v0"}, nil)
	r := p.events.waitReload(t, 0, engine.ReloadExited)
	if r.ExitCode != 3 {
		t.Errorf("exit status = %d, want 3", r.ExitCode)
	}
	if r := p.sentinelReload(t); r.Seq != 1 {
		t.Errorf("first reload = #%d, want #1: an exited command must wait for a change", r.Seq)
	}
	if r := p.events.waitReload(t, 1, engine.ReloadExited); r.ExitCode != 3 {
		t.Errorf("exit status of #1 = %d, want 3", r.ExitCode)
	}
	p.stop(t)
	if n := len(p.events.reloadsStarted()); n != 1 {
		t.Errorf("reloads = %d, want 1: a crashing command must not run in a loop", n)
	}
}

func TestWatchWerckerYMLEdits(t *testing.T) {
	yml := watchYML(sleeperCode, "", "")
	p := startWatchPipeline(t, yml, map[string]string{"app.sh": "v0"}, nil)
	p.events.waitReload(t, 0, engine.ReloadRunning)

	writeProjectFile(t, p.dir, "wercker.yml", strings.Replace(yml, "reload: true", "reload: maybe", 1))
	e := p.events.waitFor(t, "ConfigChanged", func(e engine.Event) bool { _, ok := e.(engine.ConfigChanged); return ok })
	if cc := e.(engine.ConfigChanged); cc.Err == nil || !strings.Contains(cc.Err.Error(), "maybe") {
		t.Errorf("ConfigChanged.Err = %v, want the invalid reload value", cc.Err)
	}

	writeProjectFile(t, p.dir, "wercker.yml", yml+"# edited\n")
	p.events.waitFor(t, "valid ConfigChanged", func(e engine.Event) bool {
		cc, ok := e.(engine.ConfigChanged)
		return ok && cc.Err == nil && cc.Path == filepath.Join(p.dir, "wercker.yml")
	})
	if r := p.sentinelReload(t); r.Seq != 1 {
		t.Errorf("first reload = #%d, want #1: editing wercker.yml must not reload the command", r.Seq)
	}
	p.stop(t)
}

func TestWatchWithoutReloadRunsOnce(t *testing.T) {
	yml := strings.Replace(watchYML(sleeperCode, "", ""), "reload: true", "reload: false", 1)
	p := startWatchPipeline(t, yml, map[string]string{"app.sh": "v0"}, nil)
	p.events.waitReload(t, 0, engine.ReloadRunning)
	writeProjectFile(t, p.dir, "app.sh", "v1")
	// A wercker.yml edit is still noticed; it also shows that the change of
	// app.sh before it was seen and ignored.
	writeProjectFile(t, p.dir, "wercker.yml", yml+"# edited\n")
	p.events.waitFor(t, "ConfigChanged", func(e engine.Event) bool { _, ok := e.(engine.ConfigChanged); return ok })
	p.stop(t)
	if n := len(p.events.reloadsStarted()); n != 0 {
		t.Errorf("reloads = %d, want 0 with reload: false", n)
	}
	if r := findReloadEnd(p.events.snapshot(), 0); r.Result != engine.ReloadExited {
		t.Errorf("instance ended as %v (%s), want exited after SIGINT", r.Result, r.Detail)
	}
}

// findReloadEnd returns the final Reload of instance seq.
func findReloadEnd(events []engine.Event, seq int) engine.Reload {
	for _, e := range events {
		r, ok := e.(engine.Reload)
		if ok && r.Seq == seq && r.Result != engine.ReloadStarted && r.Result != engine.ReloadRunning {
			return r
		}
	}
	return engine.Reload{Seq: seq, Result: engine.ReloadRunning, Detail: "no final state published"}
}

// countBoxProcesses counts the processes in the box whose command line
// starts with name, leaving out children of such processes: busybox httpd,
// for one, forks a child per connection.
func countBoxProcesses(t *testing.T, runner *engine.Runner, name string) int {
	t.Helper()
	box := runner.Box()
	script := `for f in /proc/[0-9]*/stat; do
  read -r stat < $f 2>/dev/null || continue
  set -- ${stat##*) }
  pid=${f#/proc/}; pid=${pid%/stat}
  echo "$pid $2 $(tr '\0' ' ' < /proc/$pid/cmdline)"
done`
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	out, err := box.Docker().ExecOutput(ctx, box.ID, []string{"/bin/sh", "-c", script}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	matching := map[string]string{} // pid to parent pid
	for _, line := range strings.Split(string(out.Stdout), "\n") {
		fields := strings.SplitN(line, " ", 3)
		if len(fields) == 3 && strings.HasPrefix(fields[2], name+" ") {
			matching[fields[0]] = fields[1]
		}
	}
	n := 0
	for _, parent := range matching {
		if _, childOfMatch := matching[parent]; !childOfMatch {
			n++
		}
	}
	return n
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

func TestWatchOptionErrors(t *testing.T) {
	cases := []struct {
		key, value, want string
	}{
		{"reload", "maybe", `invalid value "maybe" for option "reload"`},
		{"debounce", "100", `invalid value "100" for option "debounce"`},
		{"debounce", "-1s", `invalid value "-1s" for option "debounce"`},
		{"debounce", "10s", `between 0s and 5s`},
		{"signal", "SIGFOO", `invalid value "SIGFOO" for option "signal"`},
		{"grace", "soon", `invalid value "soon" for option "grace"`},
		{"reloads", "true", `has no option "reloads"`},
	}
	for _, c := range cases {
		s := config.Step{ID: "internal/watch", Owner: "internal", Name: "watch", DisplayName: "watch",
			Options: []config.Option{{Key: "code", Value: "true"}, {Key: c.key, Value: c.value}}}
		_, err := Build(s, Project{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %q: error = %v, want one containing %q", c.key, c.value, err, c.want)
		}
	}
	s := config.Step{ID: "internal/watch", Owner: "internal", Name: "watch"}
	if _, err := Build(s, Project{}); err == nil || !strings.Contains(err.Error(), `needs the option "code"`) {
		t.Errorf("without code: error = %v, want one naming the missing code option", err)
	}
}

func TestWatchOptionValues(t *testing.T) {
	s := config.Step{ID: "internal/watch", Owner: "internal", Name: "watch", Options: []config.Option{
		{Key: "code", Value: "true"},
		{Key: "signal", Value: "sigterm"},
		{Key: "grace", Value: "1.5s"},
		{Key: "debounce", Value: "0s"},
		{Key: "ignore", Value: "dist/ *.tmp\nmy\\ notes.txt\n"},
	}}
	step, err := Build(s, Project{})
	if err != nil {
		t.Fatal(err)
	}
	w := step.(*watch)
	if w.signal != "TERM" {
		t.Errorf("signal = %q, want TERM", w.signal)
	}
	if w.grace != 1500*time.Millisecond {
		t.Errorf("grace = %s, want 1.5s", w.grace)
	}
	if w.debounce != 0 {
		t.Errorf("debounce = %s, want 0s", w.debounce)
	}
	if want := []string{"dist/", "*.tmp", `my\ notes.txt`}; !slices.Equal(w.ignore, want) {
		t.Errorf("ignore = %q, want %q", w.ignore, want)
	}
	if !w.StopsOnInterrupt() {
		t.Error("the watch step must stop on the first interrupt")
	}
}

func TestDescribeFiles(t *testing.T) {
	cases := map[string][]string{
		"a.sh":                        {"a.sh"},
		"a.sh, b.sh, c.sh":            {"a.sh", "b.sh", "c.sh"},
		"a.sh, b.sh, c.sh and 2 more": {"a.sh", "b.sh", "c.sh", "d.sh", "e.sh"},
		"changes not known (the kernel dropped events)": nil,
	}
	for want, files := range cases {
		if got := describeFiles(files); got != want {
			t.Errorf("describeFiles(%q) = %q, want %q", files, got, want)
		}
	}
}

func TestWatchQueuesOneReloadDuringStop(t *testing.T) {
	code := `trap '' INT
echo "ignoring SIGINT"
exec sleep 1000`
	p := startWatchPipeline(t, watchYML(code, "grace: 5s", ""), map[string]string{"app.sh": "v0"}, nil)
	p.events.waitReload(t, 0, engine.ReloadRunning)

	writeProjectFile(t, p.dir, "x1.txt", "1")
	p.events.waitReload(t, 1, engine.ReloadStarted)
	// Instance #0 now takes its 5 s grace. Two bursts while it does: the
	// pause between them is longer than the 50 ms debounce.
	writeProjectFile(t, p.dir, "x2.txt", "2")
	time.Sleep(300 * time.Millisecond)
	writeProjectFile(t, p.dir, "x3.txt", "3")

	r := p.events.waitReload(t, 2, engine.ReloadStarted)
	if want := []string{"x2.txt", "x3.txt"}; !slices.Equal(r.Files, want) {
		t.Errorf("queued reload files = %q, want %q in one reload", r.Files, want)
	}
	p.events.waitReload(t, 2, engine.ReloadRunning)
	if n := countBoxProcesses(t, p.runner, "sleep 1000"); n != 1 {
		t.Errorf("instances of the command in the box = %d, want 1", n)
	}
	p.stop(t)
	if n := len(p.events.reloadsStarted()); n != 2 {
		t.Errorf("reloads = %d, want 2", n)
	}
}

func TestWatchBashBoxRunsCodeWithBash(t *testing.T) {
	cli := testenv.Docker(t)
	testenv.RequireImage(t, cli, testenv.BashImage)
	code := `echo "bash ${BASH_VERSION:+yes}: $WERK_CHANGED_PATHS"
exec sleep 1000`
	yml := strings.Replace(watchYML(code, "", ""), testenv.BusyboxImage, testenv.BashImage, 1)
	p := startWatchPipeline(t, yml, map[string]string{"app.sh": "v0"}, nil)
	p.events.waitReload(t, 0, engine.ReloadRunning)

	writeProjectFile(t, p.dir, "app.sh", "v1")
	p.events.waitFor(t, "output of bash naming app.sh", func(e engine.Event) bool {
		l, ok := e.(engine.LogLine)
		return ok && l.Text == "bash yes: app.sh"
	})
	if r := findReloadEnd(p.events.snapshot(), 0); r.Result != engine.ReloadExited || r.ExitCode != 130 {
		t.Errorf("instance #0 ended as %v with status %d (%s), want exited with 130 after SIGINT", r.Result, r.ExitCode, r.Detail)
	}
	p.stop(t)
}
