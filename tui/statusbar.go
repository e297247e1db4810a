package tui

import (
	"strings"
	"time"
)

// statusBar draws the status row: what runs and for how long, or the prompt
// of the current input mode, with warnings and messages on the right.
func (m *model) statusBar(w int) string {
	switch m.mode {
	case modeConfirmQuit:
		return styleInput + fit(" Stop the running pipeline and quit? y/N", w, m.method) + sgrReset
	case modeSearch:
		return fit(m.input.View(), w, m.method)
	}
	left := " " + m.runSummary()
	var right []string
	// The note about a changed wercker.yml comes first and may squeeze the
	// run summary more than a message does, because it stays until acted on.
	minLeft := w / 2
	if m.configNote != "" {
		style := styleWarn
		if m.configInvalid {
			style = styleError
		}
		right = append(right, style+m.configNote+sgrReset)
		minLeft = w / 5
	}
	if m.message != "" {
		right = append(right, m.message)
	}
	if n := m.run.dropped; n > 0 {
		right = append(right, styleWarn+formatCount(n)+" lines not shown (the run log has them)"+sgrReset)
	}
	rightText := strings.Join(right, " · ")
	if rightText != "" {
		rightText += " "
	}
	leftW, rightW := textWidth(left, m.method), textWidth(rightText, m.method)
	if leftW+rightW+1 > w {
		left = fit(left, max(w-rightW-1, minLeft), m.method)
		leftW = textWidth(left, m.method)
	}
	return fit(left+strings.Repeat(" ", max(w-leftW-rightW, 1))+rightText, w, m.method)
}

// runSummary describes the run: command, pipeline, state and elapsed time.
func (m *model) runSummary() string {
	parts := []string{styleBold + "werk " + m.opts.Command + sgrReset}
	if !m.run.begun {
		return parts[0] + " · starting"
	}
	parts = append(parts, sanitizeName(m.run.started.Pipeline))
	switch {
	case m.run.finished != nil:
		parts = append(parts, resultText(m.run.finished)+" in "+round(m.run.finished.Duration).String())
	case m.rerunPending:
		parts = append(parts, "restarting")
	case m.run.setup != "":
		parts = append(parts, "setup: "+sanitizeName(m.run.setup), m.elapsed())
	case m.run.current() != nil:
		cur := m.run.current()
		parts = append(parts, m.run.stepLabel(cur.ref)+" "+sanitizeName(cur.ref.Name), m.elapsed())
	default:
		parts = append(parts, m.elapsed())
	}
	if m.runs > 1 {
		parts = append(parts, "run "+formatCount(m.runs))
	}
	if m.rerunPending && m.run.finished != nil {
		parts = append(parts, "restarting")
	}
	return strings.Join(parts, " · ")
}

func (m *model) elapsed() string {
	return m.now().Sub(m.run.started.Time).Truncate(time.Second).String()
}

// helpBar draws the short help for the focused pane.
func (m *model) helpBar(w int) string {
	return fit(" "+m.help.ShortHelpView(m.keys.shortHelp(m.focus)), w, m.method)
}

// renderFullHelp draws every key binding and where the logs go.
func (m *model) renderFullHelp(w, h int) []string {
	var lines []string
	lines = append(lines, styleHeading+"Keys"+sgrReset, "")
	for _, column := range m.keys.fullHelp() {
		for _, b := range column {
			if !b.Enabled() {
				continue
			}
			help := b.Help()
			lines = append(lines, " "+styleHelpKey+fit(help.Key, 11, m.method)+sgrReset+" "+help.Desc)
		}
		lines = append(lines, "")
	}
	lines = append(lines,
		styleHeading+"Logs"+sgrReset, "",
		" The logs pane keeps the newest",
		" "+formatCount(m.store.limits.StepLines)+" lines and "+formatCount(m.store.limits.StepBytes>>20)+" MiB per step;",
		" the run log under the working",
		" directory keeps every line.",
		"", styleDim+" Any key closes this help."+sgrReset)
	out := make([]string, 0, h)
	// Two columns when one is too short.
	colW := w
	if len(lines) > h {
		colW = w / 2
	}
	perCol := h
	for i := 0; i < h; i++ {
		row := ""
		if i < len(lines) {
			row = fit(lines[i], colW, m.method)
		} else {
			row = strings.Repeat(" ", colW)
		}
		if colW < w {
			if j := i + perCol; j < len(lines) {
				row += fit(lines[j], w-colW, m.method)
			} else {
				row += strings.Repeat(" ", w-colW)
			}
		}
		out = append(out, row)
	}
	return out
}
