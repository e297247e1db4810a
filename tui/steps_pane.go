package tui

import (
	"fmt"
	"strings"
	"time"

	"werk/engine"
)

// spinnerFrames animate running steps, one frame per tickInterval.
var spinnerFrames = [...]string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// stepEntry is one selectable row of the steps pane: the setup, a step or
// after-step, or a service.
type stepEntry struct {
	key     sourceKey
	header  string // drawn above this entry when not empty
	step    *stepRow
	service *serviceRow
}

// stepEntries lists the rows of the steps pane in order.
func (m *model) stepEntries() []stepEntry {
	entries := []stepEntry{{key: werkKey}}
	for i := range m.run.steps {
		e := stepEntry{key: stepKey(m.run.steps[i].ref), step: &m.run.steps[i]}
		if i == len(m.run.started.Steps) {
			e.header = "after-steps"
		}
		entries = append(entries, e)
	}
	for i := range m.run.services {
		e := stepEntry{key: serviceKey(m.run.services[i].alias), service: &m.run.services[i]}
		if i == 0 {
			e.header = "services"
		}
		entries = append(entries, e)
	}
	return entries
}

// renderSteps draws the steps pane's inner area.
func (m *model) renderSteps(w, h int) []string {
	entries := m.stepEntries()
	m.stepSel = clamp(m.stepSel, 0, len(entries)-1)

	type drawn struct {
		text     string
		selected bool
	}
	var rows []drawn
	selRow := 0
	for i, e := range entries {
		if e.header != "" {
			rows = append(rows, drawn{text: styleDim + fit(" "+e.header, w, m.method) + sgrReset})
		}
		if i == m.stepSel {
			selRow = len(rows)
		}
		rows = append(rows, drawn{text: m.stepLine(e, w), selected: i == m.stepSel})
	}

	// Keep the selected row on screen.
	offset := 0
	if selRow >= h {
		offset = selRow - h + 1
	}
	out := make([]string, 0, h)
	for i := offset; i < len(rows) && len(out) < h; i++ {
		text := rows[i].text
		if rows[i].selected && m.focus == paneSteps {
			text = styleSelect + strings.ReplaceAll(text, sgrReset, sgrReset+styleSelect) + sgrReset
		}
		out = append(out, text)
	}
	for len(out) < h {
		out = append(out, strings.Repeat(" ", w))
	}
	return out
}

// stepLine draws one entry: a filter marker, a status icon, the name, and
// the duration or state on the right.
func (m *model) stepLine(e stepEntry, w int) string {
	icon, name, right := m.entryState(e)
	marker := " "
	if src := m.logs.filter; src != nil && src.key == e.key {
		marker = styleBold + "▸" + sgrReset
	}
	rightW := textWidth(right, m.method)
	nameW := max(w-3-rightW-1, 1)
	if rightW == 0 {
		nameW = max(w-3, 1)
	}
	line := marker + icon + " " + fit(name, nameW, m.method)
	if rightW > 0 {
		line += " " + right
	}
	return fit(line, w, m.method)
}

// entryState returns the icon, name and right-hand text of an entry.
func (m *model) entryState(e stepEntry) (icon, name, right string) {
	switch {
	case e.step != nil:
		return m.stepState(e.step)
	case e.service != nil:
		s := e.service
		name = sanitizeName(s.alias)
		if !s.known {
			return styleDim + "○" + sgrReset, name, styleDim + "waiting" + sgrReset
		}
		switch s.status {
		case engine.ServiceRunning:
			icon = styleGreen + "●" + sgrReset
		case engine.ServiceFailed:
			icon = styleRed + "✘" + sgrReset
		case engine.ServiceStarting:
			icon = styleCyan + m.spinner() + sgrReset
		default:
			icon = styleDim + "●" + sgrReset
		}
		return icon, name, styleDim + s.status.String() + sgrReset
	}
	// The setup entry.
	switch {
	case !m.run.begun:
		return styleDim + "○" + sgrReset, "setup", ""
	case m.run.setup != "":
		return styleCyan + m.spinner() + sgrReset, "setup", m.since(m.run.setupAt)
	case m.run.setupEnd > 0 || len(m.run.steps) > 0 && m.run.steps[0].status != engine.StepWaiting:
		return styleGreen + "✔" + sgrReset, "setup", round(m.run.setupEnd).String()
	case m.run.finished != nil:
		return styleRed + "✘" + sgrReset, "setup", ""
	}
	return styleCyan + m.spinner() + sgrReset, "setup", ""
}

func (m *model) stepState(s *stepRow) (icon, name, right string) {
	name = sanitizeName(s.ref.Name)
	switch s.status {
	case engine.StepRunning:
		return styleCyan + m.spinner() + sgrReset, name, m.since(s.started)
	case engine.StepPassed:
		return styleGreen + "✔" + sgrReset, name, round(s.duration).String()
	case engine.StepFailed:
		return styleRed + "✘" + sgrReset, name, styleRed + fmt.Sprintf("exit %d", s.exitCode) + sgrReset + " " + round(s.duration).String()
	case engine.StepSkipped:
		return styleDim + "–" + sgrReset, styleDim + name + sgrReset, styleDim + "skipped" + sgrReset
	case engine.StepInterrupted:
		return styleYellow + "■" + sgrReset, name, styleYellow + "stopped" + sgrReset
	case engine.StepPaused:
		return styleYellow + "‖" + sgrReset, name, styleYellow + "paused" + sgrReset
	}
	return styleDim + "○" + sgrReset, name, ""
}

// spinner returns the spinner frame for the current time.
func (m *model) spinner() string {
	n := m.now().UnixNano() / int64(tickInterval)
	return spinnerFrames[int(n%int64(len(spinnerFrames)))]
}

// since formats the time elapsed since t, to the second.
func (m *model) since(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return m.now().Sub(t).Truncate(time.Second).String()
}
