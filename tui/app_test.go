package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/vt"

	"werk/engine"
)

// update feeds messages to m as the program would, ignoring commands.
func update(m *model, msgs ...tea.Msg) {
	for _, msg := range msgs {
		m.Update(msg)
	}
}

// logsRows returns the drawn rows of the logs pane without styles.
func logsRows(m *model) []string {
	m.compose()
	boxed := m.cache[paneLogs]
	var rows []string
	for _, row := range boxed[1 : len(boxed)-1] {
		text := []rune(ansi.Strip(row))
		rows = append(rows, string(text[1:len(text)-1]))
	}
	return rows
}

// emulate draws a frame on a terminal emulator of w x h cells.
func emulate(t *testing.T, frame string, w, h int) *vt.Emulator {
	t.Helper()
	em := vt.NewEmulator(w, h)
	if _, err := em.WriteString(strings.ReplaceAll(frame, "\n", "\r\n")); err != nil {
		t.Fatal(err)
	}
	return em
}

// findText returns the cell where text starts on the emulator's screen.
func findText(em *vt.Emulator, text string) (x, y int, ok bool) {
	for y := 0; y < em.Height(); y++ {
		var row strings.Builder
		var cols []int
		for x := 0; x < em.Width(); x++ {
			c := em.CellAt(x, y)
			if c == nil || c.Width == 0 {
				continue
			}
			for range c.Content {
				cols = append(cols, x)
			}
			row.WriteString(c.Content)
		}
		if i := strings.Index(row.String(), text); i >= 0 {
			return cols[len([]rune(row.String()[:i]))], y, true
		}
	}
	return 0, 0, false
}

func startedRun(steps ...string) []engine.Event {
	var infos []engine.StepInfo
	for _, s := range steps {
		infos = append(infos, engine.StepInfo{Name: s})
	}
	return []engine.Event{
		engine.RunStarted{RunID: "r1", Command: "build", Pipeline: "build", Box: "werk-test/busybox", Steps: infos, Time: t0},
		engine.StepStarted{Step: ref(engine.PhaseMain, 0, steps[0]), Time: t0},
	}
}

// A step printing printf '\033[31mred\nstill red\033[0m\n', a cursor-up
// sequence and an OSC title: both lines are red, and nothing else leaks into
// other panes or the border.
func TestCaseColoursStayInLogsPane(t *testing.T) {
	m, _ := newTestModel(Options{})
	step := ref(engine.PhaseMain, 0, "colours")
	update(m, tea.WindowSizeMsg{Width: 80, Height: 24}, eventsMsg{events: append(startedRun("colours"),
		engine.LogLine{Step: step, Text: "\x1b[31mred", Time: t0},
		engine.LogLine{Step: step, Text: "still red\x1b[0m", Time: t0},
		engine.LogLine{Step: step, Text: "up\x1b[1A\x1b[2Kafter\x1b]0;evil title\x07 end", Time: t0},
		engine.LogLine{Step: step, Text: "\x1b[41;97mred background runs past the edge " + strings.Repeat("x", 100), Time: t0},
	)})
	frame := m.compose()
	em := emulate(t, frame, 80, 24)

	for _, text := range []string{"red", "still red"} {
		x, y, ok := findText(em, " "+text)
		if !ok {
			t.Fatalf("%q not on screen:\n%s", text, ansi.Strip(frame))
		}
		for i := range len(text) {
			if fg := em.CellAt(x+1+i, y).Style.Fg; fg != ansi.Red {
				t.Errorf("cell %d of %q has colour %v, want red", i, text, fg)
			}
		}
	}
	if _, _, ok := findText(em, "upafter end"); !ok {
		t.Errorf("cursor movement or OSC not removed:\n%s", ansi.Strip(frame))
	}
	if strings.Contains(frame, "evil title") {
		t.Error("the OSC title text reached the frame")
	}

	// Every border cell and every cell outside the logs pane has the
	// default colours.
	logs := m.layout.panes[paneLogs]
	for y := 0; y < 24; y++ {
		for x := 0; x < 80; x++ {
			inside := x > logs.x && x < logs.x+logs.w-1 && y > logs.y && y < logs.y+logs.h-1
			c := em.CellAt(x, y)
			if inside || c == nil {
				continue
			}
			if c.Style.Fg == ansi.Red || c.Style.Bg != nil && y < logs.h {
				t.Fatalf("cell %d,%d %q outside the logs text has style %+v", x, y, c.Content, c.Style)
			}
		}
	}
}

// Wide and combining characters keep the right border in its column.
func TestWideCharactersKeepBordersAligned(t *testing.T) {
	m, _ := newTestModel(Options{})
	step := ref(engine.PhaseMain, 0, "wide")
	lines := []string{
		"宽字符宽字符宽字符宽字符宽字符宽字符宽字符宽字符宽字符宽字符宽字符宽字符宽字符宽字符",
		"e\u0301e\u0301e\u0301 combining accents " + strings.Repeat("a\u0308", 60),
		"emoji 🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂",
		"x宽" + strings.Repeat("字", 40),
	}
	events := startedRun("wide")
	for _, l := range lines {
		events = append(events, engine.LogLine{Step: step, Text: l, Time: t0})
	}
	for _, wrap := range []bool{true, false} {
		update(m, tea.WindowSizeMsg{Width: 81, Height: 24})
		if len(m.store.sources) == 0 {
			update(m, eventsMsg{events: events})
		}
		m.logs.wrap = wrap
		m.logs.invalidate()
		m.touch(paneLogs)
		frame := m.compose()
		for i, row := range screenRows(frame) {
			if w := ansi.StringWidthWc(row); w != 81 {
				t.Errorf("wrap %v: row %d is %d cells wide, want 81: %q", wrap, i, w, ansi.Strip(row))
			}
		}
		em := emulate(t, frame, 81, 24)
		logs := m.layout.panes[paneLogs]
		for y := 1; y < logs.h-1; y++ {
			if c := em.CellAt(logs.x+logs.w-1, y); c == nil || c.Content != "│" {
				t.Errorf("wrap %v: row %d ends in %+v, want the border", wrap, y, c)
			}
		}
	}
}

// A step printing one 100,000-character line without a newline, and another
// redrawing a progress bar with \r ten times a second for a minute: the bar
// is one line, and the long line is capped so scrolling draws only the rows
// on screen.
func TestCaseLongLineAndProgressBar(t *testing.T) {
	m, _ := newTestModel(Options{})
	long, bar := ref(engine.PhaseMain, 0, "long"), ref(engine.PhaseMain, 1, "bar")
	var progress strings.Builder
	for i := 0; i <= 600; i++ {
		fmt.Fprintf(&progress, "\rdownloading [%-30s] %3d%%", strings.Repeat("=", i*30/600), i*100/600)
	}
	update(m, tea.WindowSizeMsg{Width: 80, Height: 24}, eventsMsg{events: []engine.Event{
		engine.RunStarted{RunID: "r1", Command: "build", Pipeline: "build", Steps: []engine.StepInfo{{Name: "long"}, {Name: "bar"}}, Time: t0},
		engine.StepStarted{Step: long, Time: t0},
		engine.LogLine{Step: long, Text: strings.Repeat("0123456789", 10_000), Time: t0},
		engine.StepFinished{Step: long, Status: engine.StepPassed, Time: t0},
		engine.StepStarted{Step: bar, Time: t0},
		engine.LogLine{Step: bar, Text: progress.String(), Time: t0},
	}})

	barSrc := m.store.byKey[stepKey(bar)]
	var barLines []string
	for i := 0; i < barSrc.lines.len(); i++ {
		if l := barSrc.lines.at(i); l.flag&flagMark == 0 {
			barLines = append(barLines, l.text)
		}
	}
	if want := "downloading [==============================] 100%"; len(barLines) != 1 || barLines[0] != want {
		t.Errorf("progress bar lines = %q, want one line %q", barLines, want)
	}

	longLine := m.store.byKey[stepKey(long)].lines.at(1)
	cw := m.logs.contentWidth()
	maxRows := DefaultLineBytes/cw + 2
	if rows := m.logs.rows(longLine); rows > maxRows {
		t.Errorf("the long line wraps into %d rows, want at most %d", rows, maxRows)
	}

	// Scroll from the oldest line to the tail one row at a time: each step
	// draws exactly one pane of rows and moves by one.
	update(m, special(tea.KeyHome, 0))
	steps := 0
	prevTop := logsRows(m)[0]
	for !m.logs.follow && steps < 2*maxRows {
		update(m, press('j'))
		rows := logsRows(m)
		if len(rows) != m.logs.height {
			t.Fatalf("drew %d rows, want %d", len(rows), m.logs.height)
		}
		if rows[0] == prevTop && !m.logs.follow {
			t.Fatalf("j did not move the view at step %d", steps)
		}
		prevTop = rows[0]
		steps++
	}
	if !m.logs.follow {
		t.Errorf("scrolling down %d rows did not reach the tail", steps)
	}
	tail := logsRows(m)
	if !strings.Contains(strings.Join(tail, "\n"), "downloading [=====") {
		t.Errorf("the tail does not show the progress bar:\n%s", strings.Join(tail, "\n"))
	}
}

// A step logging one line per millisecond for two minutes while the user
// scrolls up: the view stays where the user put it; End returns to the tail.
func TestCaseViewStaysWhileFlooding(t *testing.T) {
	m, _ := newTestModel(Options{})
	step := ref(engine.PhaseMain, 0, "flood")
	update(m, tea.WindowSizeMsg{Width: 80, Height: 24}, eventsMsg{events: startedRun("flood")})

	// One batch per frame of 33 ms, one line per millisecond.
	n := 0
	feed := func(until int) {
		for n < until {
			var batch []engine.Event
			for range 33 {
				n++
				batch = append(batch, engine.LogLine{Step: step, Text: fmt.Sprintf("line %d", n), Time: t0.Add(time.Duration(n) * time.Millisecond)})
			}
			update(m, eventsMsg{events: batch})
		}
	}
	feed(60_000)
	update(m, press('k'), press('k'), press('k'), special(tea.KeyPgUp, 0))
	if m.logs.follow {
		t.Fatal("scrolling up did not pause following")
	}
	held := logsRows(m)

	feed(120_000)
	if got := logsRows(m); strings.Join(got, "\n") != strings.Join(held, "\n") {
		t.Errorf("the view moved while lines arrived:\nbefore:\n%s\nafter:\n%s", strings.Join(held, "\n"), strings.Join(got, "\n"))
	}
	if _, info := m.logsTitle(); !strings.Contains(ansi.Strip(info), "paused") {
		t.Errorf("logs title info = %q, want it to say paused", ansi.Strip(info))
	}

	update(m, special(tea.KeyEnd, 0))
	rows := logsRows(m)
	if !m.logs.follow || !strings.Contains(rows[len(rows)-1], fmt.Sprintf("line %d", n)) {
		t.Errorf("after End the last row is %q, want line %d", rows[len(rows)-1], n)
	}
}

// Scrolling down to the tail by rows resumes following.
func TestScrollToTailResumesFollowing(t *testing.T) {
	m, _ := newTestModel(Options{})
	step := ref(engine.PhaseMain, 0, "s")
	events := startedRun("s")
	for i := range 100 {
		events = append(events, engine.LogLine{Step: step, Text: fmt.Sprintf("line %d", i), Time: t0})
	}
	update(m, tea.WindowSizeMsg{Width: 80, Height: 24}, eventsMsg{events: events})
	update(m, press('k'), press('k'))
	if m.logs.follow {
		t.Fatal("k did not pause following")
	}
	update(m, press('j'), press('j'))
	if !m.logs.follow {
		t.Error("returning to the tail did not resume following")
	}
}

func TestQuitAsksWhileRunning(t *testing.T) {
	m, ctrl := newTestModel(Options{})
	update(m, tea.WindowSizeMsg{Width: 80, Height: 24}, eventsMsg{events: runningRun()})

	_, cmd := m.Update(press('q'))
	if cmd != nil || m.mode != modeConfirmQuit {
		t.Fatalf("q while running: mode %v, cmd %v; want a question", m.mode, cmd)
	}
	update(m, press('n'))
	if interrupts, _ := ctrl.counts(); interrupts != 0 || m.mode != modeNormal {
		t.Fatalf("n: %d interrupts, mode %v; want nothing", interrupts, m.mode)
	}

	update(m, press('q'), press('y'))
	if interrupts, _ := ctrl.counts(); interrupts != 1 || !m.quitAfterRun {
		t.Fatalf("q y: %d interrupts, quitAfterRun %v; want the run stopped", interrupts, m.quitAfterRun)
	}
	_, cmd = m.Update(eventsMsg{events: []engine.Event{engine.RunFinished{Result: engine.ResultInterrupted, ExitCode: 130}}})
	if !isQuit(cmd) {
		t.Error("the app did not quit when the stopped run finished")
	}
}

func TestQuitQuestionEndsWithRun(t *testing.T) {
	m, _ := newTestModel(Options{})
	update(m, tea.WindowSizeMsg{Width: 80, Height: 24}, eventsMsg{events: runningRun()})
	update(m, press('q'))
	_, cmd := m.Update(eventsMsg{events: []engine.Event{engine.RunFinished{Result: engine.ResultPassed}}})
	if isQuit(cmd) || m.mode != modeNormal {
		t.Fatalf("after the run ended: mode %v, quit %v; want the question gone", m.mode, isQuit(cmd))
	}
	if _, cmd := m.Update(press('q')); !isQuit(cmd) {
		t.Error("q after the run did not quit")
	}
}

func TestQuitAtOnceWhenFinished(t *testing.T) {
	m, ctrl := newTestModel(Options{})
	update(m, tea.WindowSizeMsg{Width: 80, Height: 24}, eventsMsg{events: finishedRun()})
	_, cmd := m.Update(press('q'))
	if !isQuit(cmd) {
		t.Error("q after the run did not quit")
	}
	if interrupts, _ := ctrl.counts(); interrupts != 0 {
		t.Errorf("q after the run interrupted %d times", interrupts)
	}
}

func TestCtrlCInterruptsThenKills(t *testing.T) {
	m, ctrl := newTestModel(Options{})
	update(m, tea.WindowSizeMsg{Width: 80, Height: 24}, eventsMsg{events: runningRun()})
	ctrlC := special('c', tea.ModCtrl)

	update(m, ctrlC)
	if interrupts, _ := ctrl.counts(); interrupts != 1 || !strings.Contains(m.message, "again") {
		t.Fatalf("first ctrl+c: %d interrupts, message %q", interrupts, m.message)
	}
	update(m, ctrlC)
	if interrupts, _ := ctrl.counts(); interrupts != 2 || !strings.Contains(m.message, "killing") {
		t.Fatalf("second ctrl+c: %d interrupts, message %q", interrupts, m.message)
	}
	// The screen stays after the run ends; ctrl+c then quits.
	_, cmd := m.Update(eventsMsg{events: []engine.Event{engine.RunFinished{Result: engine.ResultInterrupted}}})
	if isQuit(cmd) {
		t.Fatal("the app quit when the interrupted run ended; it should stay")
	}
	if _, cmd := m.Update(ctrlC); !isQuit(cmd) {
		t.Error("ctrl+c after the run did not quit")
	}
}

func TestQuitAfterRunMsg(t *testing.T) {
	m, _ := newTestModel(Options{})
	update(m, tea.WindowSizeMsg{Width: 80, Height: 24}, eventsMsg{events: runningRun()})
	if _, cmd := m.Update(quitAfterRunMsg{}); isQuit(cmd) {
		t.Fatal("quit while the run is active")
	}
	_, cmd := m.Update(eventsMsg{events: []engine.Event{engine.RunFinished{Result: engine.ResultInterrupted}}})
	if !isQuit(cmd) {
		t.Error("no quit when the run ended")
	}
}

func TestRerunKey(t *testing.T) {
	m, ctrl := newTestModel(Options{Command: "dev", CanRerun: true})
	update(m, tea.WindowSizeMsg{Width: 80, Height: 24}, eventsMsg{events: finishedRun()})
	updateWithRerun(m, press('r'))
	if _, reruns := ctrl.counts(); reruns != 1 || !m.rerunPending {
		t.Fatalf("r: %d reruns, pending %v", reruns, m.rerunPending)
	}
	if _, cmd := m.Update(press('q')); isQuit(cmd) {
		t.Error("q quit without asking while a rerun is pending")
	}
	update(m, press('n'))

	// The new run replaces the panes' content and keeps the view settings.
	update(m, press('w'))
	update(m, eventsMsg{events: startedRun("again")})
	if m.rerunPending || m.runs != 2 || m.logs.wrap {
		t.Errorf("after the new RunStarted: pending %v, runs %d, wrap %v", m.rerunPending, m.runs, m.logs.wrap)
	}
	if len(m.run.steps) != 1 || m.run.steps[0].ref.Name != "again" {
		t.Errorf("steps = %+v, want the new run's", m.run.steps)
	}
}

func TestRerunKeyOnlyInDev(t *testing.T) {
	m, ctrl := newTestModel(Options{Command: "build"})
	update(m, tea.WindowSizeMsg{Width: 80, Height: 24}, eventsMsg{events: finishedRun()})
	update(m, press('r'))
	if _, reruns := ctrl.counts(); reruns != 0 || !strings.Contains(m.message, "dev") {
		t.Errorf("r in build: %d reruns, message %q", reruns, m.message)
	}
}

func TestFocusCyclesAndZoom(t *testing.T) {
	m, _ := newTestModel(Options{})
	update(m, tea.WindowSizeMsg{Width: 80, Height: 24}, eventsMsg{events: runningRun()})
	want := []paneID{panePorts, paneReloads, paneSteps, paneLogs}
	for _, p := range want {
		update(m, special(tea.KeyTab, 0))
		if m.focus != p {
			t.Fatalf("tab: focus %v, want %v", m.focus, p)
		}
	}
	update(m, special(tea.KeyTab, tea.ModShift))
	if m.focus != paneSteps {
		t.Errorf("shift+tab: focus %v, want steps", m.focus)
	}
	update(m, press('z'))
	if r := m.layout.panes[paneSteps]; r.w != 80 || r.h != 22 || m.layout.visible(paneLogs) {
		t.Errorf("zoomed steps pane is %+v", r)
	}
	update(m, special(tea.KeyEscape, 0))
	if m.zoom >= 0 || !m.layout.visible(paneLogs) {
		t.Error("esc did not leave the zoom")
	}
}

func TestMouseWheelScrollsPaneUnderPointer(t *testing.T) {
	m, _ := newTestModel(Options{})
	step := ref(engine.PhaseMain, 0, "s")
	events := startedRun("s")
	for i := range 200 {
		events = append(events, engine.LogLine{Step: step, Text: fmt.Sprintf("line %d", i), Time: t0})
	}
	update(m, tea.WindowSizeMsg{Width: 80, Height: 24}, eventsMsg{events: events})
	m.focus = paneSteps
	logs := m.layout.panes[paneLogs]
	update(m, tea.MouseWheelMsg{X: logs.x + 5, Y: logs.y + 5, Button: tea.MouseWheelUp})
	if m.logs.follow {
		t.Error("the wheel over the logs pane did not scroll it")
	}
	if m.focus != paneSteps {
		t.Error("the wheel moved the focus")
	}
}

func TestResizeKeepsEveryRowExact(t *testing.T) {
	m, _ := newTestModel(Options{})
	update(m, eventsMsg{events: finishedRun()})
	for _, size := range [][2]int{{80, 24}, {120, 40}, {100, 30}, {81, 25}, {200, 60}, {60, 15}} {
		update(m, tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		rows := screenRows(m.compose())
		if len(rows) != size[1] {
			t.Errorf("%dx%d: %d rows", size[0], size[1], len(rows))
		}
		for i, row := range rows {
			if w := ansi.StringWidthWc(row); w != size[0] {
				t.Errorf("%dx%d: row %d is %d cells: %q", size[0], size[1], i, w, ansi.Strip(row))
			}
		}
	}
}

func TestPortsOfFinishedRun(t *testing.T) {
	m, _ := newTestModel(Options{})
	update(m, tea.WindowSizeMsg{Width: 120, Height: 40}, eventsMsg{events: finishedRun()})
	frame := m.compose()
	if strings.Contains(frame, ansi.SetHyperlink("http://127.0.0.1:8080")) {
		t.Error("the port of a finished run is still a hyperlink")
	}
	if !strings.Contains(ansi.Strip(frame), "closed") {
		t.Error("the port of a finished run is not shown as closed")
	}
	if strings.Contains(frame, ansi.SetHyperlink("9090")) {
		t.Error("the failed port is a hyperlink")
	}
	if !strings.Contains(ansi.Strip(frame), "failed host port") {
		t.Error("the failed port does not show its reason")
	}
}

func TestSaveLogWritesFile(t *testing.T) {
	dir := t.TempDir()
	m, _ := newTestModel(Options{WorkingDir: dir})
	update(m, tea.WindowSizeMsg{Width: 80, Height: 24}, eventsMsg{events: finishedRun()})
	// The inner update, so the command is the save alone, without the
	// timer of the status message.
	_, cmd := m.update(press('s'))
	if cmd == nil {
		t.Fatal("s returned no command")
	}
	msg := cmd().(savedMsg)
	if msg.err != nil {
		t.Fatal(msg.err)
	}
	update(m, msg)
	if !strings.Contains(m.message, "saved") {
		t.Errorf("message = %q", m.message)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "logs", "0a1b2c3d4e5f-screen-*.log"))
	if len(files) != 1 {
		t.Fatalf("saved files = %v", files)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, want := range []string{"[build] ok werk/engine", "[test] FAIL: TestDeploy", "[redis] Ready to accept connections", "[werk] pipeline failed"} {
		if !strings.Contains(text, want) {
			t.Errorf("saved log lacks %q", want)
		}
	}
	if strings.Contains(text, "\x1b") {
		t.Error("saved log contains escape sequences")
	}
}

func TestStatusMessageExpires(t *testing.T) {
	m, _ := newTestModel(Options{})
	update(m, tea.WindowSizeMsg{Width: 80, Height: 24}, eventsMsg{events: finishedRun()})
	_, cmd := m.Update(press('m'))
	if m.message == "" || cmd == nil {
		t.Fatalf("m: message %q, command %v; want a message and its timer", m.message, cmd)
	}
	seq := m.messageSeq
	update(m, press('m'))
	update(m, clearMessageMsg{seq: seq})
	if m.message == "" {
		t.Error("the timer of an older message cleared a newer one")
	}
	update(m, clearMessageMsg{seq: m.messageSeq})
	if m.message != "" {
		t.Errorf("message %q stayed after its timer", m.message)
	}
}

func TestTimestampsAndWrapToggle(t *testing.T) {
	m, _ := newTestModel(Options{})
	step := ref(engine.PhaseMain, 0, "s")
	update(m, tea.WindowSizeMsg{Width: 80, Height: 24}, eventsMsg{events: append(startedRun("s"),
		engine.LogLine{Step: step, Text: strings.Repeat("abcdefghij", 20), Time: t0.Add(1500 * time.Millisecond)})})
	wrapped := len(nonBlank(logsRows(m)))
	update(m, press('w'))
	unwrapped := len(nonBlank(logsRows(m)))
	if unwrapped >= wrapped {
		t.Errorf("rows with wrap %d, without %d", wrapped, unwrapped)
	}
	update(m, press('l'))
	if m.logs.hscroll != hscrollStep {
		t.Errorf("hscroll = %d after l", m.logs.hscroll)
	}
	update(m, press('t'))
	if rows := logsRows(m); !strings.Contains(strings.Join(rows, "\n"), "12:00:01.500") {
		t.Errorf("no timestamp:\n%s", strings.Join(rows, "\n"))
	}
}

func TestFilterCyclesSources(t *testing.T) {
	m, _ := newTestModel(Options{})
	update(m, tea.WindowSizeMsg{Width: 80, Height: 24}, eventsMsg{events: runningRun()})
	var seen []string
	for range len(m.store.sources) + 1 {
		update(m, press('f'))
		title, _ := m.logsTitle()
		seen = append(seen, title)
	}
	want := []string{"Logs · werk", "Logs · build", "Logs · test", "Logs · deploy", "Logs · notify", "Logs · redis", "Logs · all"}
	if strings.Join(seen, "|") != strings.Join(want, "|") {
		t.Errorf("filter titles = %q, want %q", seen, want)
	}
	update(m, press('f'), press('f'), press('a'))
	if m.logs.filter != nil {
		t.Error("a did not show all sources")
	}
}

func TestSearchNextPreviousWraps(t *testing.T) {
	m, _ := newTestModel(Options{})
	step := ref(engine.PhaseMain, 0, "s")
	events := startedRun("s")
	for i := range 300 {
		text := fmt.Sprintf("line %d", i)
		if i%100 == 50 {
			text += " Needle"
		}
		events = append(events, engine.LogLine{Step: step, Text: text, Time: t0})
	}
	update(m, tea.WindowSizeMsg{Width: 80, Height: 24}, eventsMsg{events: events})
	update(m, press('/'))
	for _, r := range "needle" {
		update(m, press(r))
	}
	update(m, special(tea.KeyEnter, 0))
	if !strings.Contains(m.message, "match 3 of 3") {
		t.Errorf("after enter: %q, want the newest of 3 matches", m.message)
	}
	update(m, press('n'))
	if !strings.Contains(m.message, "match 1 of 3") || !strings.Contains(m.message, "wrapped") {
		t.Errorf("after n: %q", m.message)
	}
	update(m, press('N'))
	if !strings.Contains(m.message, "match 3 of 3") {
		t.Errorf("after N: %q", m.message)
	}
	if rows := strings.Join(logsRows(m), "\n"); !strings.Contains(rows, "line 250 Needle") {
		t.Errorf("match not on screen:\n%s", rows)
	}
	// New lines that match join the search.
	update(m, eventsMsg{events: []engine.Event{engine.LogLine{Step: step, Text: "late needle", Time: t0}}})
	update(m, press('n'))
	if !strings.Contains(m.message, "match 4 of 4") {
		t.Errorf("after a new match and n: %q", m.message)
	}
	// A capital letter makes the search case-sensitive.
	update(m, press('/'))
	for _, r := range "Needle" {
		update(m, press(r))
	}
	update(m, special(tea.KeyEnter, 0))
	if !strings.Contains(m.message, "of 3") {
		t.Errorf("case-sensitive search: %q", m.message)
	}
}

func nonBlank(rows []string) []string {
	var out []string
	for _, r := range rows {
		if strings.TrimSpace(r) != "" {
			out = append(out, r)
		}
	}
	return out
}

// isQuit reports whether cmd, possibly a batch, quits the program.
func isQuit(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	switch msg := cmd().(type) {
	case tea.QuitMsg:
		return true
	case tea.BatchMsg:
		for _, c := range msg {
			if c != nil {
				if _, ok := c().(tea.QuitMsg); ok {
					return true
				}
			}
		}
	}
	return false
}

func TestPortsOfRunningRunAreHyperlinks(t *testing.T) {
	var running []engine.Event
	for _, e := range finishedRun() {
		if _, done := e.(engine.RunFinished); !done {
			running = append(running, e)
		}
	}
	m, _ := newTestModel(Options{})
	update(m, tea.WindowSizeMsg{Width: 120, Height: 40}, eventsMsg{events: running})
	if frame := m.compose(); !strings.Contains(frame, ansi.SetHyperlink("http://127.0.0.1:8080")) {
		t.Error("the ready port is not an OSC 8 hyperlink")
	}
}
