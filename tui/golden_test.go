package tui

import (
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"
)

// The golden files under testdata hold the text of whole screens, without
// styles; run the tests with -update to write them again after a change,
// and review the difference.

func TestScreenRunning80x24(t *testing.T) {
	m, _ := newTestModel(Options{})
	tm := startTeatest(t, m, 80, 24)
	tm.Send(eventsMsg{events: runningRun()})
	_, screen := finalScreen(t, tm)
	golden.RequireEqual(t, screen)
}

func TestScreenFinished120x40(t *testing.T) {
	m, _ := newTestModel(Options{})
	tm := startTeatest(t, m, 120, 40)
	tm.Send(eventsMsg{events: finishedRun()})
	_, screen := finalScreen(t, tm)
	golden.RequireEqual(t, screen)
}

func TestScreenDroppedLines(t *testing.T) {
	m, _ := newTestModel(Options{Command: "dev", CanRerun: true})
	tm := startTeatest(t, m, 100, 30)
	tm.Send(eventsMsg{events: runningRun()})
	tm.Send(eventsMsg{dropped: 1234})
	_, screen := finalScreen(t, tm)
	golden.RequireEqual(t, screen)
}

func TestScreenZoomFilterSearch(t *testing.T) {
	m, _ := newTestModel(Options{})
	tm := startTeatest(t, m, 80, 24)
	tm.Send(eventsMsg{events: finishedRun()})
	tm.Send(special(tea.KeyTab, tea.ModShift)) // focus the steps pane
	tm.Send(press('j'))
	tm.Send(press('j'))
	tm.Send(special(tea.KeyEnter, 0)) // logs of step "test"
	tm.Send(special(tea.KeyTab, 0))
	tm.Send(press('z'))
	tm.Send(press('t'))
	tm.Send(press('/'))
	typeText(tm, "pass")
	tm.Send(special(tea.KeyEnter, 0))
	_, screen := finalScreen(t, tm)
	golden.RequireEqual(t, screen)
}

func TestScreenFullHelp(t *testing.T) {
	m, _ := newTestModel(Options{Command: "dev", CanRerun: true})
	tm := startTeatest(t, m, 80, 24)
	tm.Send(eventsMsg{events: runningRun()})
	tm.Send(press('?'))
	_, screen := finalScreen(t, tm)
	golden.RequireEqual(t, screen)
}

func TestScreenQuitPrompt(t *testing.T) {
	m, _ := newTestModel(Options{})
	tm := startTeatest(t, m, 80, 24)
	tm.Send(eventsMsg{events: runningRun()})
	tm.Send(press('q'))
	_, screen := finalScreen(t, tm)
	golden.RequireEqual(t, screen)
}
