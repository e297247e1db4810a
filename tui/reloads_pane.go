package tui

import (
	"fmt"
	"strings"

	"werk/engine"
)

// Widths of the reloads pane's columns, in cells.
const (
	reloadTimeW = 8 // 15:04:05
	reloadTookW = 6 // 1m2s or 350ms, right-aligned
	// reloadResultMinW is the pane width from which the result is spelled
	// out after the files; narrower panes show only its icon.
	reloadResultMinW = 48
)

// renderReloads draws the reloads pane's inner area: a header, then one row
// per reload, newest last: the time, the result as an icon, how long until
// the app ran again, and the files that triggered it.
func (m *model) renderReloads(w, h int) []string {
	out := make([]string, 0, h)
	if len(m.run.reloads) == 0 {
		out = append(out, styleDim+fit(" no reloads yet", w, m.method)+sgrReset)
	} else {
		header := fmt.Sprintf(" %-*s   %*s files", reloadTimeW, "time", reloadTookW, "took")
		out = append(out, styleDim+fit(header, w, m.method)+sgrReset)
		// The newest reload is at the bottom unless the user scrolled back
		// by reloadsBack rows.
		first := max(len(m.run.reloads)-(h-1)-m.reloadsBack, 0)
		for i := first; i < len(m.run.reloads) && len(out) < h; i++ {
			out = append(out, m.reloadLine(m.run.reloads[i], w))
		}
	}
	for len(out) < h {
		out = append(out, strings.Repeat(" ", w))
	}
	return out
}

func (m *model) reloadLine(r reloadRow, w int) string {
	icon, result := m.reloadResult(r)
	took := ""
	if r.duration > 0 {
		took = round(r.duration).String()
	}
	files := sanitizeName(strings.Join(r.files, ", "))
	if files == "" {
		files = sanitizeName(r.trigger)
	}
	prefix := fmt.Sprintf(" %s %s %*s ", r.started.Format("15:04:05"), icon, reloadTookW, took)
	filesW := max(w-textWidth(prefix, m.method), 0)
	if w >= reloadResultMinW {
		filesW = max(filesW-textWidth(result, m.method)-1, 1)
		return fit(prefix+fit(files, filesW, m.method)+" "+result, w, m.method)
	}
	return fit(prefix+files, w, m.method)
}

// reloadResult returns the icon and the word for how a reload ended.
func (m *model) reloadResult(r reloadRow) (icon, result string) {
	if r.replaced && (r.result == engine.ReloadExited || r.result == engine.ReloadKilled) {
		return styleDim + "○" + sgrReset, styleDim + "replaced" + sgrReset
	}
	switch r.result {
	case engine.ReloadStarted:
		return styleCyan + m.spinner() + sgrReset, styleCyan + "starting" + sgrReset
	case engine.ReloadRunning:
		return styleGreen + "●" + sgrReset, styleGreen + "running" + sgrReset
	case engine.ReloadExited:
		if r.exitCode != 0 {
			return styleRed + "✘" + sgrReset, styleRed + fmt.Sprintf("exited %d", r.exitCode) + sgrReset
		}
		return styleDim + "○" + sgrReset, "exited 0"
	case engine.ReloadKilled:
		return styleYellow + "■" + sgrReset, styleYellow + "killed" + sgrReset
	}
	detail := ""
	if r.detail != "" {
		detail = ": " + sanitizeName(firstLine(r.detail))
	}
	return styleRed + "✘" + sgrReset, styleRed + "failed" + sgrReset + detail
}
