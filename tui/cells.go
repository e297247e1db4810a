package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// This file measures and cuts text made of printable characters and SGR
// sequences only, which is what sanitizeLine produces and what the panes
// draw. Widths follow the terminal's width method (wcwidth unless the
// terminal reports grapheme clustering), the same one the renderer uses, so
// wide and combining characters keep the borders in place.

// cluster returns the grapheme cluster at the start of s and its width in
// cells.
func cluster(s string, m ansi.Method) (string, int) {
	if c := s[0]; c < 0x80 {
		return s[:1], 1
	}
	return ansi.FirstGraphemeCluster(s, m)
}

// sgrEnd returns the index just after the SGR sequence that starts at s[i].
func sgrEnd(s string, i int) int {
	j := strings.IndexByte(s[i:], 'm')
	if j < 0 {
		return len(s)
	}
	return i + j + 1
}

// textWidth returns the width of s in cells.
func textWidth(s string, m ansi.Method) int {
	if plainText(s) {
		return len(s)
	}
	w := 0
	for i := 0; i < len(s); {
		if s[i] == 0x1b {
			i = sgrEnd(s, i)
			continue
		}
		c, cw := cluster(s[i:], m)
		i += len(c)
		w += cw
	}
	return w
}

// sliceCells returns exactly width cells of s starting at cell skip, counted
// from byte offset off where the SGR state is state. The result starts with
// the rendition in force at its first cell, is padded with spaces, and ends
// with a reset when it contains any style. A wide character cut by either
// edge becomes spaces.
func sliceCells(s string, off int, state sgrState, skip, width int, m ansi.Method) string {
	if width <= 0 {
		return ""
	}
	var b strings.Builder
	b.Grow(width + 16)
	col, used := 0, 0
	styled, started := false, false
	for i := off; i < len(s) && used < width; {
		if s[i] == 0x1b {
			end := sgrEnd(s, i)
			if started {
				b.WriteString(s[i:end])
				styled = true
			} else {
				state.apply(s[i+2 : end-1])
			}
			i = end
			continue
		}
		c, cw := cluster(s[i:], m)
		i += len(c)
		switch {
		case col+cw <= skip:
			// Before the window; zero-width clusters at the edge go too.
		case col < skip:
			// A wide character cut by the left edge.
			pad := min(col+cw-skip, width-used)
			b.WriteString(strings.Repeat(" ", pad))
			used += pad
		case used+cw > width:
			// A wide character cut by the right edge: stop here.
			col += cw
			i = len(s)
			continue
		default:
			if !started {
				started = true
				if seq := state.sequence(); seq != "" {
					b.WriteString(seq)
					styled = true
				}
			}
			b.WriteString(c)
			used += cw
		}
		col += cw
	}
	if styled {
		b.WriteString(sgrReset)
	}
	if used < width {
		b.WriteString(strings.Repeat(" ", width-used))
	}
	return b.String()
}

// fit returns s cut or padded to exactly width cells.
func fit(s string, width int, m ansi.Method) string {
	if plainText(s) {
		if len(s) >= width {
			return s[:max(width, 0)]
		}
		return s + strings.Repeat(" ", width-len(s))
	}
	return sliceCells(s, 0, sgrState{}, 0, width, m)
}

// rowStart is where one wrapped row of a line begins.
type rowStart struct {
	off   int
	state sgrState
}

// wrapRows splits s into rows of at most width cells. A wide character that
// does not fit at the end of a row moves to the next one.
func wrapRows(s string, width int, m ansi.Method) []rowStart {
	rows := []rowStart{{}}
	var state sgrState
	col := 0
	for i := 0; i < len(s); {
		if s[i] == 0x1b {
			end := sgrEnd(s, i)
			state.apply(s[i+2 : end-1])
			i = end
			continue
		}
		c, cw := cluster(s[i:], m)
		if col+cw > width && col > 0 {
			rows = append(rows, rowStart{off: i, state: state})
			col = 0
		}
		col += cw
		i += len(c)
	}
	return rows
}
