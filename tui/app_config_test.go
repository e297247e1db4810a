package tui

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"werk/engine"
)

// updateWithRerun feeds msg to m and runs the commands it returns, as the
// program would, feeding back the rerunMsg they produce. Other messages of
// those commands are dropped.
func updateWithRerun(m *model, msg tea.Msg) {
	_, cmd := m.Update(msg)
	for _, out := range runCmd(cmd) {
		if r, ok := out.(rerunMsg); ok {
			updateWithRerun(m, r)
		}
	}
}

// runCmd runs cmd and the commands of any batch it returns, and returns
// their messages.
func runCmd(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	batch, ok := msg.(tea.BatchMsg)
	if !ok {
		return []tea.Msg{msg}
	}
	var out []tea.Msg
	for _, c := range batch {
		out = append(out, runCmd(c)...)
	}
	return out
}

// statusText returns the status bar of m, w cells wide, without styles.
func statusText(m *model, w int) string { return ansi.Strip(m.statusBar(w)) }

func configEvent(err error) eventsMsg {
	return eventsMsg{events: []engine.Event{engine.ConfigChanged{Path: "/src/project/wercker.yml", Err: err, Time: at(20e9)}}}
}

const restartPrompt = "wercker.yml changed: press r to restart the pipeline with it"

func TestConfigChangeShowsRestartPrompt(t *testing.T) {
	m, ctrl := newTestModel(Options{Command: "dev", CanRerun: true})
	update(m, tea.WindowSizeMsg{Width: 80, Height: 24}, eventsMsg{events: runningRun()})
	updateWithRerun(m, configEvent(nil))

	if got := statusText(m, 80); !strings.Contains(got, restartPrompt) {
		t.Errorf("status bar at 80 columns = %q, want the whole prompt %q", got, restartPrompt)
	}
	if _, reruns := ctrl.counts(); reruns != 0 {
		t.Errorf("a valid change requested %d reruns without the flag, want 0", reruns)
	}
	if !strings.Contains(strings.Join(logsRows(m), "\n"), "wercker.yml changed: press r") {
		t.Errorf("the logs pane lacks the change:\n%s", strings.Join(logsRows(m), "\n"))
	}

	// The prompt outlives a status message and its timer.
	update(m, press('m'), clearMessageMsg{seq: m.messageSeq})
	if got := statusText(m, 80); !strings.Contains(got, restartPrompt) {
		t.Errorf("status bar after a message expired = %q, want the prompt", got)
	}

	updateWithRerun(m, press('r'))
	if _, reruns := ctrl.counts(); reruns != 1 {
		t.Fatalf("r requested %d reruns, want 1", reruns)
	}
	if !m.rerunPending {
		t.Error("no rerun pending after r")
	}
	if got := statusText(m, 80); strings.Contains(got, "press r") {
		t.Errorf("status bar after r = %q, want the prompt gone", got)
	}
	if !strings.Contains(m.message, "stopping the run") {
		t.Errorf("message after r = %q, want it to say the run stops", m.message)
	}
}

func TestConfigErrorShownAndRunGoesOn(t *testing.T) {
	m, ctrl := newTestModel(Options{Command: "dev", CanRerun: true})
	update(m, tea.WindowSizeMsg{Width: 200, Height: 24}, eventsMsg{events: runningRun()})
	updateWithRerun(m, configEvent(errors.New("/src/project/wercker.yml:4:3: did not find expected key")))

	bar := m.statusBar(200)
	if !strings.Contains(ansi.Strip(bar), "wercker.yml:4:3: did not find expected key") {
		t.Errorf("status bar = %q, want the error with its position", ansi.Strip(bar))
	}
	if !strings.Contains(bar, styleError) {
		t.Errorf("status bar %q does not use the error style", bar)
	}
	if interrupts, reruns := ctrl.counts(); interrupts != 0 || reruns != 0 {
		t.Errorf("invalid change: %d interrupts, %d reruns; want the run left alone", interrupts, reruns)
	}
	if !m.run.active() {
		t.Error("the run is no longer active after an invalid change")
	}

	// The next change replaces the error.
	updateWithRerun(m, configEvent(nil))
	if got := statusText(m, 200); strings.Contains(got, "expected key") || !strings.Contains(got, restartPrompt) {
		t.Errorf("status bar after a valid change = %q, want only the prompt", got)
	}
}

func TestRerunKeepsRunWhenConfigFailsToLoad(t *testing.T) {
	m, ctrl := newTestModel(Options{Command: "dev", CanRerun: true})
	ctrl.rerunErr = errors.New("/src/project/wercker.yml:2:1: mapping values are not allowed here")
	update(m, tea.WindowSizeMsg{Width: 200, Height: 24}, eventsMsg{events: runningRun()})
	updateWithRerun(m, configEvent(nil))
	updateWithRerun(m, press('r'))

	if interrupts, reruns := ctrl.counts(); reruns != 1 || interrupts != 0 {
		t.Errorf("r with a broken file: %d reruns, %d interrupts; want 1 and 0", reruns, interrupts)
	}
	if m.rerunPending {
		t.Error("a rerun is still pending after the file failed to load")
	}
	if got := statusText(m, 200); !strings.Contains(got, "restart failed") || !strings.Contains(got, "wercker.yml:2:1") {
		t.Errorf("status bar = %q, want the load error", got)
	}

	// Once the file loads, r works again.
	ctrl.rerunErr = nil
	updateWithRerun(m, press('r'))
	if _, reruns := ctrl.counts(); reruns != 2 || !m.rerunPending {
		t.Errorf("second r: %d reruns, pending %v; want 2 and a pending rerun", reruns, m.rerunPending)
	}
}

func TestConfigChangeRestartsWithFlag(t *testing.T) {
	m, ctrl := newTestModel(Options{Command: "build", RestartOnConfigChange: true})
	update(m, tea.WindowSizeMsg{Width: 80, Height: 24}, eventsMsg{events: runningRun()})

	updateWithRerun(m, configEvent(errors.New("/src/project/wercker.yml:4:3: bad indentation")))
	if _, reruns := ctrl.counts(); reruns != 0 {
		t.Fatalf("an invalid change requested %d reruns, want 0", reruns)
	}

	updateWithRerun(m, configEvent(nil))
	if _, reruns := ctrl.counts(); reruns != 1 {
		t.Fatalf("a valid change requested %d reruns, want 1", reruns)
	}
	if !m.rerunPending {
		t.Error("no rerun pending after a valid change")
	}
	if got := statusText(m, 80); strings.Contains(got, "changed:") || strings.Contains(got, "bad indentation") {
		t.Errorf("status bar = %q, want no prompt and no stale error", got)
	}

	// A second change before the restart asks again, so the newest file
	// runs; the controller stops the run only once.
	updateWithRerun(m, configEvent(nil))
	if _, reruns := ctrl.counts(); reruns != 2 {
		t.Errorf("a second valid change requested %d reruns in all, want 2", reruns)
	}
}

func TestConfigPromptOutsideDev(t *testing.T) {
	m, _ := newTestModel(Options{Command: "build"})
	update(m, tea.WindowSizeMsg{Width: 120, Height: 24}, eventsMsg{events: runningRun()})
	updateWithRerun(m, configEvent(nil))
	if got := statusText(m, 120); !strings.Contains(got, "wercker.yml changed: restart werk to apply it") {
		t.Errorf("status bar = %q, want the prompt without the rerun key", got)
	}
}

func TestPlainPrintsConfigChanges(t *testing.T) {
	valid := engine.ConfigChanged{Path: "/src/project/wercker.yml"}
	invalid := engine.ConfigChanged{Path: "/src/project/wercker.yml", Err: errors.New("/src/project/wercker.yml:4:3: bad indentation")}
	cases := []struct {
		name    string
		restart bool
		event   engine.ConfigChanged
		want    string
	}{
		{"valid", false, valid, "werk: wercker.yml changed; restart werk to apply it, or use --restart-on-config-change\n"},
		{"valid with restart", true, valid, "werk: wercker.yml changed and is valid; restarting the pipeline with it\n"},
		{"invalid", false, invalid, "werk: error: wercker.yml changed but is invalid, so the running pipeline goes on unchanged: /src/project/wercker.yml:4:3: bad indentation\n"},
		{"invalid with restart", true, invalid, "werk: error: wercker.yml changed but is invalid, so the running pipeline goes on unchanged: /src/project/wercker.yml:4:3: bad indentation\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			p := NewPlain(&out, false)
			p.SetRestartOnConfigChange(c.restart)
			p.Handle(c.event)
			if out.String() != c.want {
				t.Errorf("output = %q, want %q", out.String(), c.want)
			}
		})
	}
}
