package tui

import (
	"math"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// handleKey dispatches a key press by input mode, then by binding.
func (m *model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	m.frameDirty = true
	switch {
	case m.mode == modeSearch:
		return m.searchKey(msg)
	case m.mode == modeConfirmQuit:
		return m.confirmKey(msg)
	case key.Matches(msg, m.keys.Interrupt):
		return m.interrupt()
	case m.showHelp:
		// Any other key closes the full help.
		m.showHelp = false
		m.touch(paneSteps, paneLogs, panePorts, paneReloads)
		return nil
	}

	k := m.keys
	switch {
	case key.Matches(msg, k.Quit):
		return m.quit()
	case key.Matches(msg, k.Help):
		m.showHelp = true
	case key.Matches(msg, k.NextPane):
		m.cycleFocus(1)
	case key.Matches(msg, k.PrevPane):
		m.cycleFocus(-1)
	case key.Matches(msg, k.Zoom):
		m.toggleZoom()
	case key.Matches(msg, k.Search):
		m.setFocus(paneLogs)
		m.mode = modeSearch
		m.input.Reset()
		return m.input.Focus()
	case key.Matches(msg, k.NextMatch):
		m.findMatch(true)
	case key.Matches(msg, k.PrevMatch):
		m.findMatch(false)
	case key.Matches(msg, k.Filter):
		m.cycleFilter()
	case key.Matches(msg, k.AllSources):
		m.setFilter(nil)
	case key.Matches(msg, k.Timestamps):
		m.logs.timestamps = !m.logs.timestamps
		m.logs.invalidate()
		m.touch(paneLogs)
	case key.Matches(msg, k.Wrap):
		m.logs.wrap = !m.logs.wrap
		m.logs.hscroll = 0
		m.logs.invalidate()
		m.touch(paneLogs)
	case key.Matches(msg, k.Save):
		return m.saveLog()
	case key.Matches(msg, k.Mouse):
		m.mouseOff = !m.mouseOff
		if m.mouseOff {
			m.say("mouse off: the terminal selects text; m turns the mouse back on")
		} else {
			m.say("mouse on: the wheel scrolls the pane under the pointer")
		}
	case key.Matches(msg, k.Rerun):
		return m.rerun()
	case msg.String() == "esc":
		m.escape()
	default:
		m.moveKey(msg)
	}
	return nil
}

// moveKey handles the scrolling keys in the focused pane.
func (m *model) moveKey(msg tea.KeyPressMsg) {
	k := m.keys
	page := max(m.layout.panes[m.focus].h-3, 1)
	switch {
	case key.Matches(msg, k.Up):
		m.scroll(m.focus, -1)
	case key.Matches(msg, k.Down):
		m.scroll(m.focus, 1)
	case key.Matches(msg, k.PageUp):
		m.scroll(m.focus, -page)
	case key.Matches(msg, k.PageDown):
		m.scroll(m.focus, page)
	case key.Matches(msg, k.Top):
		if m.focus == paneLogs {
			m.logs.home()
		} else {
			m.scroll(m.focus, math.MinInt32)
		}
	case key.Matches(msg, k.Bottom):
		if m.focus == paneLogs {
			m.logs.end()
		} else {
			m.scroll(m.focus, math.MaxInt32)
		}
	case key.Matches(msg, k.Left):
		if m.focus == paneLogs && !m.logs.wrap {
			m.logs.hscroll = max(0, m.logs.hscroll-hscrollStep)
		}
	case key.Matches(msg, k.Right):
		if m.focus == paneLogs && !m.logs.wrap {
			m.logs.hscroll += hscrollStep
		}
	case key.Matches(msg, k.Select):
		if m.focus == paneSteps {
			m.selectStep()
		}
	default:
		return
	}
	m.touch(m.focus)
}

// scroll moves pane p by n rows (negative: up).
func (m *model) scroll(p paneID, n int) {
	switch p {
	case paneLogs:
		if n < 0 {
			m.logs.scrollUp(-n)
		} else {
			m.logs.scrollDown(n)
		}
	case paneSteps:
		m.stepSel = clamp(m.stepSel+n, 0, len(m.stepEntries())-1)
	case panePorts:
		m.portsTop = clamp(m.portsTop+n, 0, len(m.run.ports)-1)
	case paneReloads:
		rows := m.layout.panes[paneReloads].h - 3
		m.reloadsBack = clamp(m.reloadsBack-n, 0, len(m.run.reloads)-rows)
	}
	m.touch(p)
}

func clamp(v, lo, hi int) int {
	if hi < lo {
		return lo
	}
	return min(max(v, lo), hi)
}

func (m *model) handleWheel(mouse tea.Mouse) {
	p := m.layout.paneAt(mouse.X, mouse.Y)
	if p < 0 || m.showHelp {
		return
	}
	switch mouse.Button {
	case tea.MouseWheelUp:
		m.scroll(p, -wheelRows)
	case tea.MouseWheelDown:
		m.scroll(p, wheelRows)
	}
}

func (m *model) cycleFocus(step int) {
	p := m.focus
	for range paneCount {
		p = (p + paneID(step) + paneCount) % paneCount
		if m.zoom >= 0 || m.layout.visible(p) {
			break
		}
	}
	m.setFocus(p)
}

func (m *model) toggleZoom() {
	if m.zoom >= 0 {
		m.zoom = -1
	} else {
		m.zoom = m.focus
	}
	m.relayout()
}

// escape leaves zoom, then the search, then the filter.
func (m *model) escape() {
	switch {
	case m.zoom >= 0:
		m.toggleZoom()
	case m.logs.search != nil:
		m.logs.search = nil
		m.touch(paneLogs)
	case m.logs.filter != nil:
		m.setFilter(nil)
	}
}

// interrupt stops the run, or quits when there is none.
func (m *model) interrupt() tea.Cmd {
	if !m.run.active() && !m.rerunPending {
		return tea.Quit
	}
	if m.ctrl.Interrupt() {
		m.say("killing the run's containers; werk exits shortly")
	} else {
		m.say("interrupt sent; ctrl+c again kills the run at once")
	}
	return nil
}

// quit quits at once when no run is active, else asks first.
func (m *model) quit() tea.Cmd {
	if !m.run.active() && !m.rerunPending {
		return tea.Quit
	}
	m.mode = modeConfirmQuit
	return nil
}

func (m *model) confirmKey(msg tea.KeyPressMsg) tea.Cmd {
	m.mode = modeNormal
	switch msg.String() {
	case "y", "Y":
		m.quitAfterRun = true
		if !m.run.active() && !m.rerunPending {
			return tea.Quit
		}
		m.ctrl.Interrupt()
		m.say("stopping the pipeline; werk quits once its containers are removed (ctrl+c kills)")
	case "ctrl+c":
		return m.interrupt()
	}
	return nil
}

// rerun starts the pipeline again with wercker.yml as it is now; the
// status message follows once the file has loaded (rerunDone).
func (m *model) rerun() tea.Cmd {
	if !m.opts.CanRerun {
		m.say("r reruns the pipeline in werk dev only")
		return nil
	}
	return m.requestRerun(rerunByKey)
}
