package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"

	"werk/engine"
)

// renderPorts draws the ports pane's inner area: one row per published port
// with its URL as a hyperlink (OSC 8) and its state.
func (m *model) renderPorts(w, h int) []string {
	out := make([]string, 0, h)
	if len(m.run.ports) == 0 {
		out = append(out, styleDim+fit(" none (see --expose-ports)", w, m.method)+sgrReset)
	}
	for i := m.portsTop; i < len(m.run.ports) && len(out) < h; i++ {
		out = append(out, m.portLine(m.run.ports[i], w))
	}
	for len(out) < h {
		out = append(out, strings.Repeat(" ", w))
	}
	return out
}

// portLine draws one port: an icon, the URL, then the state and reason.
func (m *model) portLine(p engine.PortState, w int) string {
	var icon, state string
	switch {
	case p.Status == engine.PortFailed:
		icon, state = styleRed+"✘"+sgrReset, styleRed+"failed"+sgrReset
		if p.Detail != "" {
			state += " " + sanitizeName(firstLine(p.Detail))
		}
	case m.run.finished != nil:
		// The run removed its containers: nothing listens on the port now.
		icon, state = styleDim+"○"+sgrReset, styleDim+"closed"+sgrReset
	case p.Status == engine.PortReady:
		icon, state = styleGreen+"●"+sgrReset, styleGreen+"ready"+sgrReset
	default:
		icon, state = styleCyan+m.spinner()+sgrReset, styleCyan+"starting"+sgrReset
	}
	href := sanitizeName(p.URL)
	url := href
	if url == "" {
		url = p.ContainerPort
	}
	if textWidth(url, m.method)+1+textWidth(state, m.method) > w-3 {
		// Narrow pane: the scheme goes first; the link keeps it.
		url = strings.TrimPrefix(url, "http://")
	}
	urlW := min(textWidth(url, m.method), max(w-3, 0))
	shown := fit(url, urlW, m.method)
	link := styleLink + shown + sgrReset
	if p.Status != engine.PortFailed && m.run.finished == nil && strings.HasPrefix(href, "http") {
		link = ansi.SetHyperlink(href) + link + ansi.ResetHyperlink()
	}
	rest := fit(" "+state, max(w-3-urlW, 0), m.method)
	return " " + icon + " " + link + rest
}
