package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// paneID names the panes, in focus order.
type paneID int

const (
	paneSteps paneID = iota
	paneLogs
	panePorts
	paneReloads
	// paneShell is the terminal pane; it has room only while a shell runs.
	paneShell
	paneCount
)

func (p paneID) String() string {
	return [...]string{"Steps", "Logs", "Ports", "Reloads", "Shell"}[p]
}

// rect is an area of the screen in cells.
type rect struct{ x, y, w, h int }

func (r rect) contains(x, y int) bool {
	return x >= r.x && x < r.x+r.w && y >= r.y && y < r.y+r.h
}

// layout places the panes. The steps, ports and reloads panes share a left
// column; the logs pane takes the rest. The status bar and the help bar are
// the last two rows.
type layout struct {
	panes  [paneCount]rect
	zoomed bool
	width  int
	height int
}

// Layout sizes, in cells.
const (
	leftMin      = 24 // narrowest left column
	leftMax      = 44 // widest left column
	portsMaxRows = 4  // port rows shown before the pane scrolls
	reloadsRows  = 5  // reload rows shown before the pane scrolls
	barRows      = 2  // status bar and help bar
)

// computeLayout places the panes in a screen of width x height. zoom, when
// not negative, gives the whole body to that pane.
func computeLayout(width, height int, zoom paneID, ports, reloads int) layout {
	l := layout{width: width, height: height}
	bodyH := max(3, height-barRows)
	if zoom >= 0 {
		l.zoomed = true
		l.panes[zoom] = rect{0, 0, width, bodyH}
		return l
	}
	leftW := min(max(width/3, leftMin), leftMax)
	if leftW > width-leftMin {
		leftW = max(width/2, 1)
	}
	l.panes[paneLogs] = rect{leftW, 0, width - leftW, bodyH}

	portsH := 2 + min(max(ports, 1), portsMaxRows)
	reloadsH := 2 + 1 + min(max(reloads, 1), reloadsRows)
	if reloads == 0 {
		reloadsH = 3
	}
	// Small screens give the steps pane priority.
	stepsH := bodyH - portsH - reloadsH
	if stepsH < 5 {
		portsH, reloadsH = min(portsH, 3), min(reloadsH, 3)
		stepsH = bodyH - portsH - reloadsH
	}
	if stepsH < 3 {
		portsH, reloadsH = 0, 0
		stepsH = bodyH
	}
	l.panes[paneSteps] = rect{0, 0, leftW, stepsH}
	l.panes[panePorts] = rect{0, stepsH, leftW, portsH}
	l.panes[paneReloads] = rect{0, stepsH + portsH, leftW, reloadsH}
	return l
}

// visible reports whether pane p has room on screen.
func (l layout) visible(p paneID) bool { return l.panes[p].w > 2 && l.panes[p].h > 2 }

// paneAt returns the pane under the cell x, y, or -1.
func (l layout) paneAt(x, y int) paneID {
	for p := paneSteps; p < paneCount; p++ {
		if l.visible(p) && l.panes[p].contains(x, y) {
			return p
		}
	}
	return -1
}

// box draws a pane of w x h cells: a rounded border with the title on the
// top left and info on the top right, around inner rows that are already
// exactly w-2 cells wide.
func box(title, info string, focused bool, inner []string, w, h int, m ansi.Method) []string {
	if w < 2 || h < 2 {
		return nil
	}
	border := styleBorder
	if focused {
		border = styleFocus
	}
	innerW := w - 2
	out := make([]string, 0, h)

	label := " " + title + " "
	if focused {
		label = " " + styleTitle + title + sgrReset + border + " "
	}
	labelW := textWidth(title, m) + 2
	infoW := 0
	if info != "" {
		infoW = textWidth(info, m) + 2
	}
	if labelW+infoW+2 > innerW {
		info, infoW = "", 0
	}
	if labelW+2 > innerW {
		label = fit(" "+title, max(innerW-2, 0), m)
		labelW = max(innerW-2, 0)
	}
	top := border + "╭─" + label + strings.Repeat("─", max(innerW-1-labelW-infoW-1, 0))
	if infoW > 0 {
		top += " " + sgrReset + info + border + " "
	}
	out = append(out, top+"─╮"+sgrReset)

	side := border + "│" + sgrReset
	for i := 0; i < h-2; i++ {
		row := strings.Repeat(" ", innerW)
		if i < len(inner) {
			row = inner[i]
		}
		out = append(out, side+row+side)
	}
	out = append(out, border+"╰"+strings.Repeat("─", innerW)+"╯"+sgrReset)
	return out
}
