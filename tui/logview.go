package tui

import (
	"math"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// logPos is a visual row of the log view: row number row of the wrapped line
// seq. Anchoring the view to a line instead of an index keeps it in place
// while lines arrive or old ones are trimmed.
type logPos struct {
	seq uint64
	row int
}

// lineIter walks the lines of some sources in arrival order. Its position is
// a boundary between two lines; idx[i] is the number of lines of srcs[i]
// before it.
type lineIter struct {
	srcs []*logSource
	idx  []int
}

func newLineIter(srcs []*logSource, seq uint64) *lineIter {
	it := &lineIter{srcs: srcs, idx: make([]int, len(srcs))}
	for i, src := range srcs {
		it.idx[i] = src.lines.lowerBound(seq)
	}
	return it
}

// next returns the line after the boundary and moves past it, or nil at the
// end.
func (it *lineIter) next() (*logLine, *logSource) {
	best := -1
	var line *logLine
	for i, src := range it.srcs {
		if it.idx[i] < src.lines.len() {
			if l := src.lines.at(it.idx[i]); line == nil || l.seq < line.seq {
				best, line = i, l
			}
		}
	}
	if best < 0 {
		return nil, nil
	}
	it.idx[best]++
	return line, it.srcs[best]
}

// prev returns the line before the boundary and moves before it, or nil at
// the start.
func (it *lineIter) prev() (*logLine, *logSource) {
	best := -1
	var line *logLine
	for i, src := range it.srcs {
		if it.idx[i] > 0 {
			if l := src.lines.at(it.idx[i] - 1); line == nil || l.seq > line.seq {
				best, line = i, l
			}
		}
	}
	if best < 0 {
		return nil, nil
	}
	it.idx[best]--
	return line, it.srcs[best]
}

// logView is what the logs pane shows of a logStore: one source or all,
// following the tail or anchored where the user scrolled to, wrapped or cut.
type logView struct {
	store  *logStore
	filter *logSource // nil shows every source
	follow bool
	top    logPos // first visible row while not following

	wrap       bool
	timestamps bool
	hscroll    int

	width, height int // inner size of the pane in cells
	method        ansi.Method
	search        *search

	// rowCache holds the wrapped rows of styled or non-ASCII lines for the
	// current content width, by seq.
	rowCache      map[uint64][]rowStart
	rowCacheWidth int
}

// rowCacheMax bounds rowCache; it only needs the lines near the screen.
const rowCacheMax = 4096

// labelMax is the widest source label column in the all-sources view.
const labelMax = 14

// timestampLayout is the format of the optional timestamp column.
const timestampLayout = "15:04:05.000 "

func newLogView(store *logStore) *logView {
	return &logView{store: store, follow: true, wrap: true}
}

// sources returns the sources the view shows.
func (v *logView) sources() []*logSource {
	if v.filter != nil {
		return []*logSource{v.filter}
	}
	return v.store.sources
}

// labelWidth is the width of the source label column, 0 when a single
// source is shown.
func (v *logView) labelWidth() int {
	if v.filter != nil {
		return 0
	}
	w := 0
	for _, src := range v.store.sources {
		w = max(w, textWidth(src.label, v.method))
	}
	if w == 0 {
		return 0
	}
	return min(w, labelMax) + 1
}

func (v *logView) prefixWidth() int {
	w := v.labelWidth()
	if v.timestamps {
		w += len(timestampLayout)
	}
	return w
}

// contentWidth is the width of the text column.
func (v *logView) contentWidth() int {
	return max(1, v.width-v.prefixWidth())
}

// rows returns where each wrapped row of l starts. ASCII lines need no table:
// their rows are fixed slices.
func (v *logView) rows(l *logLine) int {
	if !v.wrap {
		return 1
	}
	cw := v.contentWidth()
	if l.flag&flagASCII != 0 {
		return max(1, (len(l.text)+cw-1)/cw)
	}
	return len(v.rowTable(l))
}

func (v *logView) rowTable(l *logLine) []rowStart {
	cw := v.contentWidth()
	if v.rowCache == nil || v.rowCacheWidth != cw || len(v.rowCache) > rowCacheMax {
		v.rowCache, v.rowCacheWidth = map[uint64][]rowStart{}, cw
	}
	if rows, ok := v.rowCache[l.seq]; ok {
		return rows
	}
	rows := wrapRows(l.text, cw, v.method)
	v.rowCache[l.seq] = rows
	return rows
}

// invalidate drops cached row tables after a change of width or method.
func (v *logView) invalidate() { v.rowCache = nil }

// tailTop returns the position of the first row when the last rows of the
// view fill the pane.
func (v *logView) tailTop() logPos {
	it := newLineIter(v.sources(), math.MaxUint64)
	need := max(1, v.height)
	top := logPos{}
	for need > 0 {
		l, _ := it.prev()
		if l == nil {
			break
		}
		n := v.rows(l)
		if n >= need {
			return logPos{seq: l.seq, row: n - need}
		}
		need -= n
		top = logPos{seq: l.seq}
	}
	return top
}

// current returns the first visible row.
func (v *logView) current() logPos {
	if v.follow {
		return v.tailTop()
	}
	return v.top
}

// scrollUp moves the view n rows towards older lines and stops following.
func (v *logView) scrollUp(n int) {
	top := v.current()
	v.follow = false
	it := newLineIter(v.sources(), top.seq)
	if l, _ := it.next(); l == nil || l.seq != top.seq {
		// The anchor line was trimmed: start from the oldest line kept.
		top.row = 0
		if l != nil {
			top.seq = l.seq
		}
		it = newLineIter(v.sources(), top.seq)
	} else {
		it.prev()
	}
	for n > 0 {
		if top.row >= n {
			top.row -= n
			break
		}
		n -= top.row + 1
		p, _ := it.prev()
		if p == nil {
			top.row = 0
			break
		}
		top = logPos{seq: p.seq, row: v.rows(p) - 1}
	}
	v.top = top
}

// scrollDown moves the view n rows towards newer lines. Reaching the tail
// resumes following.
func (v *logView) scrollDown(n int) {
	if v.follow {
		return
	}
	top := v.top
	it := newLineIter(v.sources(), top.seq)
	l, _ := it.next()
	if l == nil {
		v.follow = true
		return
	}
	if l.seq != top.seq {
		top = logPos{seq: l.seq}
	}
	for n > 0 {
		rows := v.rows(l)
		if top.row+n < rows {
			top.row += n
			break
		}
		n -= rows - top.row
		l, _ = it.next()
		if l == nil {
			break
		}
		top = logPos{seq: l.seq}
	}
	v.top = top
	if v.atTail() {
		v.follow = true
	}
}

// atTail reports whether the rows from v.top to the end fit in the pane.
func (v *logView) atTail() bool {
	tail := v.tailTop()
	return v.top.seq > tail.seq || v.top.seq == tail.seq && v.top.row >= tail.row
}

// home shows the oldest line.
func (v *logView) home() {
	v.follow = false
	v.top = logPos{}
	if v.atTail() {
		v.follow = true
	}
}

// end resumes following the tail.
func (v *logView) end() { v.follow = true }

// jumpTo shows the line seq a third of the pane below the top, for context.
func (v *logView) jumpTo(seq uint64) {
	v.follow = false
	v.top = logPos{seq: seq}
	v.scrollUp(v.height / 3)
	if v.atTail() {
		v.follow = true
	}
}

// position returns the number of lines before the first visible one and the
// number of lines in the view.
func (v *logView) position() (before, total int) {
	top := v.current()
	for _, src := range v.sources() {
		total += src.lines.len()
		before += src.lines.lowerBound(top.seq)
	}
	return before, total
}

// render draws the visible rows, each exactly v.width cells wide.
func (v *logView) render() []string {
	out := make([]string, 0, v.height)
	top := v.current()
	it := newLineIter(v.sources(), top.seq)
	l, src := it.next()
	if l != nil && l.seq != top.seq {
		top.row = 0
	}
	for row := top.row; l != nil && len(out) < v.height; row = 0 {
		for n := v.rows(l); row < n && len(out) < v.height; row++ {
			out = append(out, v.drawRow(l, src, row))
		}
		l, src = it.next()
	}
	blank := strings.Repeat(" ", v.width)
	for len(out) < v.height {
		out = append(out, blank)
	}
	return out
}

// drawRow draws row number row of l, with the timestamp and label columns.
func (v *logView) drawRow(l *logLine, src *logSource, row int) string {
	var b strings.Builder
	if v.timestamps {
		if row == 0 {
			b.WriteString(styleFaint + time.Unix(0, l.time).Format(timestampLayout) + sgrReset)
		} else {
			b.WriteString(strings.Repeat(" ", len(timestampLayout)))
		}
	}
	if lw := v.labelWidth(); lw > 0 {
		if row == 0 {
			b.WriteString(sourceColor(src.color) + fit(src.label, lw-1, v.method) + sgrReset + " ")
		} else {
			b.WriteString(strings.Repeat(" ", lw))
		}
	}
	b.WriteString(v.drawText(l, row))
	return b.String()
}

// drawText draws the text cells of one row of l.
func (v *logView) drawText(l *logLine, row int) string {
	cw := v.contentWidth()
	var text string
	switch {
	case !v.wrap:
		text = sliceCells(l.text, 0, sgrState{}, v.hscroll, cw, v.method)
	case l.flag&flagASCII != 0:
		start := min(row*cw, len(l.text))
		text = fit(l.text[start:min(start+cw, len(l.text))], cw, v.method)
	default:
		rows := v.rowTable(l)
		rs := rows[min(row, len(rows)-1)]
		text = sliceCells(l.text, rs.off, rs.state, 0, cw, v.method)
	}
	if l.flag&flagMark == 0 && l.stream() == streamStderr && l.flag&flagSGR == 0 {
		// Uncoloured stderr is told apart from stdout by colour.
		text = styleStderr + strings.TrimSuffix(text, sgrReset) + sgrReset
	}
	if v.search != nil && v.search.query != "" {
		text = v.search.highlight(text)
	}
	return text
}
