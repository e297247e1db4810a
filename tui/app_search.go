package tui

import (
	"fmt"
	"math"

	tea "charm.land/bubbletea/v2"
)

// searchKey edits the search query; enter runs the search, esc cancels.
func (m *model) searchKey(msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "enter":
		m.mode = modeNormal
		m.input.Blur()
		m.runSearch(m.input.Value())
		return nil
	case "esc", "ctrl+c":
		m.mode = modeNormal
		m.input.Blur()
		return nil
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	return cmd
}

// runSearch finds query in the kept lines and shows the newest match when
// following the tail, else the first one below the top of the view.
func (m *model) runSearch(query string) {
	m.touch(paneLogs)
	if query == "" {
		m.logs.search = nil
		return
	}
	s := newSearch(query)
	s.scan(m.store)
	m.logs.search = s
	if m.logs.follow {
		m.showMatch(s.before(math.MaxUint64, m.logs.filter), false)
		return
	}
	top := m.logs.current().seq
	i := s.after(max(top, 1)-1, m.logs.filter)
	if i < 0 {
		i = s.after(0, m.logs.filter)
	}
	m.showMatch(i, false)
}

// findMatch moves to the next (newer) or previous (older) match, wrapping
// around at either end.
func (m *model) findMatch(forward bool) {
	s := m.logs.search
	if s == nil {
		m.say("no search yet: press / to search")
		return
	}
	from := m.logs.current().seq
	if s.current >= 0 && s.current < len(s.matches) && live(s.matches[s.current], m.logs.filter) {
		from = s.matches[s.current].seq
	} else if forward {
		from = max(from, 1) - 1
	}
	var i int
	wrapped := false
	if forward {
		if i = s.after(from, m.logs.filter); i < 0 {
			i, wrapped = s.after(0, m.logs.filter), true
		}
	} else {
		if i = s.before(from, m.logs.filter); i < 0 {
			i, wrapped = s.before(math.MaxUint64, m.logs.filter), true
		}
	}
	m.showMatch(i, wrapped)
	m.touch(paneLogs)
}

func (m *model) showMatch(i int, wrapped bool) {
	s := m.logs.search
	if i < 0 {
		s.current = -1
		m.say(fmt.Sprintf("no match for %q", s.query))
		return
	}
	s.current = i
	m.logs.jumpTo(s.matches[i].seq)
	number, total := s.count(m.logs.filter)
	text := fmt.Sprintf("match %s of %s for %q", formatCount(number), formatCount(total), s.query)
	if wrapped {
		text += " (search wrapped around)"
	}
	m.say(text)
}

// setFilter shows one source in the logs pane, or all when src is nil.
func (m *model) setFilter(src *logSource) {
	m.logs.filter = src
	m.logs.invalidate()
	if m.logs.search != nil {
		m.logs.search.current = -1
	}
	m.touch(paneLogs, paneSteps)
}

// cycleFilter shows the next source: werk, the steps in pipeline order, the
// services, then all again.
func (m *model) cycleFilter() {
	srcs := m.store.sources
	if len(srcs) == 0 {
		return
	}
	if m.logs.filter == nil {
		m.setFilter(srcs[0])
		return
	}
	for i, src := range srcs {
		if src == m.logs.filter {
			if i+1 < len(srcs) {
				m.setFilter(srcs[i+1])
			} else {
				m.setFilter(nil)
			}
			return
		}
	}
	m.setFilter(nil)
}

// selectStep filters the logs to the selected entry of the steps pane, or
// back to all when it is already the filter.
func (m *model) selectStep() {
	entries := m.stepEntries()
	if m.stepSel < 0 || m.stepSel >= len(entries) {
		return
	}
	src := m.store.byKey[entries[m.stepSel].key]
	if src == nil || src == m.logs.filter {
		m.setFilter(nil)
		return
	}
	m.setFilter(src)
}
