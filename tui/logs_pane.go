package tui

import "strings"

// renderLogs draws the logs pane's inner area.
func (m *model) renderLogs(w, h int) []string {
	if m.logs.width != w || m.logs.height != h {
		m.logs.width, m.logs.height = w, h
		m.logs.invalidate()
	}
	return m.logs.render()
}

// logsTitle returns the logs pane's title (what it shows) and info (where
// the view is).
func (m *model) logsTitle() (title, info string) {
	title = "Logs · all"
	if src := m.logs.filter; src != nil {
		title = "Logs · " + src.label
	}
	var parts []string
	if m.logs.follow {
		parts = append(parts, "following")
	} else {
		before, total := m.logs.position()
		parts = append(parts, styleYellow+"paused"+sgrReset+" at line "+formatCount(before+1)+"/"+formatCount(total)+", end follows")
	}
	if !m.logs.wrap {
		parts = append(parts, "no wrap")
	}
	if s := m.logs.search; s != nil {
		parts = append(parts, "/"+s.query)
	}
	return title, strings.Join(parts, " · ")
}
