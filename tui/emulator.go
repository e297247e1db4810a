package tui

import (
	"fmt"
	"image/color"
	"io"
	"log/slog"
	"strconv"
	"strings"

	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/vt"
)

// emulator is the VT emulator behind a terminal pane. It is an interface so
// that a faster emulator release can replace github.com/charmbracelet/x/vt
// v0.1.0 without touching the pane. Every method must be safe to call from
// several goroutines.
type emulator interface {
	// Write parses program output. It may panic on malformed input; the
	// caller recovers.
	Write(p []byte) (int, error)
	// Read returns the bytes the emulator sends to the program: encoded
	// keys and pastes, and replies to terminal queries. It must be drained
	// for the emulator's whole life, because Write blocks on a query until
	// the reply is read.
	Read(p []byte) (int, error)
	// CloseInput ends Read with io.EOF.
	CloseInput()
	Resize(cols, rows int)
	SendKey(k uv.KeyEvent)
	Paste(text string)
	CellAt(x, y int) *uv.Cell
	CursorPosition() uv.Position
	CursorHidden() bool
	IsAltScreen() bool
	ScrollbackLen() int
	ScrollbackCellAt(x, y int) *uv.Cell
	ClearScrollback()
	SetScrollbackSize(lines int)
	SetForegroundColor(c color.Color)
	SetBackgroundColor(c color.Color)
}

// vtEmulator adapts vt.SafeEmulator. It calls only methods that
// SafeEmulator locks: several promoted methods (String, WriteString, Close)
// take no lock, and Close races a Read in progress.
type vtEmulator struct {
	*vt.SafeEmulator
	// input is the write end of the emulator's reply pipe. It is read once
	// at construction, before any other goroutine can use the emulator, and
	// an io.PipeWriter may be closed while another goroutine reads the pipe.
	input *io.PipeWriter
}

func newVTEmulator(cols, rows int) *vtEmulator {
	se := vt.NewSafeEmulator(cols, rows)
	input, _ := se.InputPipe().(*io.PipeWriter)
	return &vtEmulator{SafeEmulator: se, input: input}
}

func (e *vtEmulator) CloseInput() {
	if e.input != nil {
		_ = e.input.CloseWithError(io.EOF)
	}
}

// lineRing keeps the newest lines of a pane's scrollback, rendered, oldest
// first. It is not safe for concurrent use.
type lineRing struct {
	lines []string
	start int
	n     int
}

func newLineRing(capacity int) *lineRing {
	return &lineRing{lines: make([]string, max(capacity, 1))}
}

func (r *lineRing) push(line string) {
	if r.n < len(r.lines) {
		r.lines[(r.start+r.n)%len(r.lines)] = line
		r.n++
		return
	}
	r.lines[r.start] = line
	r.start = (r.start + 1) % len(r.lines)
}

func (r *lineRing) len() int { return r.n }

// at returns line i, 0 being the oldest.
func (r *lineRing) at(i int) string { return r.lines[(r.start+i)%len(r.lines)] }

// seqScanner follows the escape sequences of program output far enough to
// decide when a run of plain lines can skip the emulator's line-by-line
// scrolling. It tracks the parser state, which marks where plain text
// starts, the scroll regions and margins of each screen, and insert mode. A
// state it cannot be sure of counts as restricted.
type seqScanner struct {
	state    scanState
	utf8Left int
	params   []byte
	inter    []byte
	// alt is the screen the program selected last (1049, 1047 or 47).
	alt bool
	// regionSet marks a screen whose scroll region or margins may differ
	// from the whole screen.
	regionSet [2]bool
	insert    bool
	lrMode    bool // DECLRMM: CSI s sets left and right margins
	// lineStart is true right after "\r\n" in ground state.
	lineStart bool
	lastCR    bool
	// clamped, when set, replaces the scroll region sequence just read,
	// which reached below the screen.
	clamped []byte
}

type scanState uint8

const (
	scanGround scanState = iota
	scanUTF8
	scanEsc
	scanEscInter
	scanCSI
	scanString
	scanStringEsc
)

// plainSafe reports whether the main screen is selected with no scroll
// region, margins or insert mode, so plain lines print and scroll the
// simple way.
func (s *seqScanner) plainSafe() bool {
	return s.state == scanGround && !s.alt && !s.regionSet[0] && !s.insert
}

// resized records that the emulator was resized, which resets the scroll
// regions and margins of both screens.
func (s *seqScanner) resized() { s.regionSet = [2]bool{} }

// reset records a full terminal reset (RIS).
func (s *seqScanner) reset() {
	*s = seqScanner{params: s.params[:0], inter: s.inter[:0], lineStart: s.lineStart}
}

func (s *seqScanner) screen() int {
	if s.alt {
		return 1
	}
	return 0
}

// advance moves the scanner over p, which the emulator also receives.
func (s *seqScanner) advance(p []byte, rows int) {
	for _, b := range p {
		s.step(b, rows)
	}
}

func (s *seqScanner) step(b byte, rows int) {
	switch s.state {
	case scanGround:
		switch {
		case b == '\n':
			s.lineStart = s.lastCR
			s.lastCR = false
			return
		case b == '\r':
			s.lastCR = true
			return
		case b == 0x1b:
			s.state = scanEsc
		case b >= 0xc2 && b <= 0xf4:
			s.state = scanUTF8
			s.utf8Left = 1
			if b >= 0xe0 {
				s.utf8Left = 2
			}
			if b >= 0xf0 {
				s.utf8Left = 3
			}
		case b == 0x9b:
			s.startCSI()
		case b == 0x90 || b == 0x98 || b == 0x9d || b == 0x9e || b == 0x9f:
			s.state = scanString
		}
	case scanUTF8:
		if b >= 0x80 && b <= 0xbf {
			s.utf8Left--
			if s.utf8Left == 0 {
				s.state = scanGround
			}
			break
		}
		s.state = scanGround
		s.step(b, rows)
		return
	case scanEsc:
		switch {
		case b == '[':
			s.startCSI()
		case b == ']' || b == 'P' || b == 'X' || b == '^' || b == '_':
			s.state = scanString
		case b >= 0x20 && b <= 0x2f:
			s.state = scanEscInter
		case b == 'c':
			s.reset()
		case b == 0x1b:
		case b == 0x18 || b == 0x1a:
			s.state = scanGround
		case b < 0x20:
			// C0 controls run inside an escape sequence.
		default:
			s.state = scanGround
		}
	case scanEscInter:
		switch {
		case b >= 0x20 && b <= 0x2f:
		case b == 0x1b:
			s.state = scanEsc
		case b < 0x20:
			if b == 0x18 || b == 0x1a {
				s.state = scanGround
			}
		default:
			s.state = scanGround
		}
	case scanCSI:
		switch {
		case b >= 0x30 && b <= 0x3f:
			s.params = append(s.params, b)
		case b >= 0x20 && b <= 0x2f:
			s.inter = append(s.inter, b)
		case b >= 0x40 && b <= 0x7e:
			s.state = scanGround
			s.dispatchCSI(b, rows)
		case b == 0x1b:
			s.state = scanEsc
		case b == 0x18 || b == 0x1a:
			s.state = scanGround
		}
	case scanString:
		switch b {
		case 0x07, 0x9c, 0x18, 0x1a:
			s.state = scanGround
		case 0x1b:
			s.state = scanStringEsc
		}
	case scanStringEsc:
		if b == '\\' {
			s.state = scanGround
			break
		}
		s.state = scanEsc
		s.step(b, rows)
		return
	}
	s.lineStart = false
	s.lastCR = false
}

func (s *seqScanner) startCSI() {
	s.state = scanCSI
	s.params = s.params[:0]
	s.inter = s.inter[:0]
}

// dispatchCSI records what a complete CSI sequence changes.
func (s *seqScanner) dispatchCSI(final byte, rows int) {
	params := string(s.params)
	private := byte(0)
	if params != "" && params[0] >= '<' && params[0] <= '?' {
		private, params = params[0], params[1:]
	}
	inter := string(s.inter)
	switch {
	case final == 'r' && private == 0 && inter == "":
		// DECSTBM: the region is the whole screen only for "", "1" or
		// "1;ROWS".
		top, bottom := csiParam(params, 0), csiParam(params, 1)
		if top > rows || bottom > rows {
			// A program that has not seen the last resize sets a region
			// below the screen. x/vt v0.1.0 then indexes past its rows
			// and panics (charmbracelet/x#974); xterm limits the region
			// to the screen, and so does werk.
			top, bottom = min(top, rows), min(bottom, rows)
			s.clamped = fmt.Appendf(nil, "\x1b[%d;%dr", top, bottom)
		}
		s.regionSet[s.screen()] = !(top <= 1 && (bottom == 0 || bottom == rows))
	case final == 's' && private == 0 && inter == "" && s.lrMode && params != "":
		s.regionSet[s.screen()] = true
	case final == 'p' && private == 0 && inter == "!":
		// DECSTR resets margins and insert mode.
		s.regionSet[s.screen()] = false
		s.insert = false
	case (final == 'h' || final == 'l') && inter == "":
		set := final == 'h'
		for _, f := range strings.Split(params, ";") {
			n, err := strconv.Atoi(f)
			if err != nil {
				continue
			}
			switch {
			case private == 0 && n == 4:
				s.insert = set
			case private == '?' && n == 69:
				// Margins set earlier stay counted until a reset.
				s.lrMode = set
			case private == '?' && (n == 1049 || n == 1047 || n == 47):
				s.alt = set
			}
		}
	}
}

// csiParam returns parameter i of a CSI parameter string, 0 when absent.
func csiParam(params string, i int) int {
	fields := strings.Split(params, ";")
	if i >= len(fields) {
		return 0
	}
	n, err := strconv.Atoi(fields[i])
	if err != nil {
		return 0
	}
	return n
}

// Feeding limits, in bytes and lines.
const (
	// feedChunk bounds one Write to the emulator, so that a key press,
	// which takes the emulator's lock, waits behind at most this much
	// output, and one Write scrolls at most this many lines.
	feedChunk = 4 << 10
	// maxHeldBytes bounds an unfinished escape sequence kept back for the
	// next output; a longer one goes to the emulator as it is.
	maxHeldBytes = 1024
	// minFastLines is the shortest run of plain lines worth rewriting, as
	// a multiple of the screen's rows.
	minFastLines = 2
)

// feeder writes program output into an emulator and moves the lines that
// scroll off its main screen into a ring the pane draws itself.
//
// x/vt v0.1.0 scrolls by moving every cell of the screen up by one row for
// each line feed, so a flood of short lines costs rows x columns cell moves
// per line. The feeder rewrites long runs of plain lines (printable ASCII,
// shorter than the screen, each ending in "\r\n") that arrive at the bottom
// of the main screen. It scrolls up to rows-1 lines at once with SU and
// prints the lines at their final rows with CUP. That leaves the screen, the
// cursor and the scrollback as the line-by-line path does, which
// TestFeederMatchesLineByLine checks. Lines that would leave the ring again
// before the output in hand ends are not fed at all. The rewrite is off
// whenever a scroll region, margins, insert mode or the alternate screen may
// be active.
type feeder struct {
	em         emulator
	scan       seqScanner
	ring       *lineRing
	cols, rows int
	// lock guards ring; the pane's render reads it.
	lock func() func()
	out  []byte
	// held is the start of an escape sequence that the last output ended
	// in.
	held []byte
	// panics counts recovered emulator panics; rewrites counts runs of
	// plain lines fed the fast way.
	panics   int
	rewrites int
}

func newFeeder(em emulator, ring *lineRing, cols, rows int, lock func() func()) *feeder {
	em.SetScrollbackSize(max(ring.cap(), 1))
	return &feeder{em: em, ring: ring, cols: cols, rows: rows, lock: lock}
}

func (r *lineRing) cap() int { return len(r.lines) }

// resize resizes the emulator.
func (f *feeder) resize(cols, rows int) {
	f.em.Resize(cols, rows)
	f.cols, f.rows = cols, rows
	f.scan.resized()
}

// feed writes p to the emulator.
func (f *feeder) feed(p []byte) {
	if len(f.held) > 0 {
		p = append(f.held, p...)
		f.held = nil
	}
	need := minFastLines * f.rows
	pos, lastEsc := 0, -1
	for i := 0; i < len(p); {
		if f.scan.state == scanGround && f.scan.lineStart && f.rows >= 2 {
			run, end := plainLines(p, i, f.cols)
			if len(run) >= need {
				f.write(p[pos:i])
				f.feedLines(p[i:end], run)
				pos, i = end, end
				continue
			}
			if len(run) > 0 {
				// Plain lines leave the scanner at a line start in
				// ground state.
				i = end
				continue
			}
		}
		b := p[i]
		if b == 0x1b || b == 0x9b && f.scan.state == scanGround {
			lastEsc = i
		}
		f.scan.step(b, f.rows)
		if f.scan.clamped != nil {
			if lastEsc >= pos {
				f.write(p[pos:lastEsc])
				f.write(f.scan.clamped)
				pos = i + 1
			}
			f.scan.clamped = nil
		}
		i++
	}
	// An escape sequence cut off at the end waits for its rest, so that a
	// scroll region can still be clamped before the emulator gets it.
	switch f.scan.state {
	case scanEsc, scanEscInter, scanCSI:
		if lastEsc >= pos && len(p)-lastEsc <= maxHeldBytes {
			f.write(p[pos:lastEsc])
			f.held = append(f.held[:0], p[lastEsc:]...)
			f.scan.state = scanGround
			return
		}
	}
	f.write(p[pos:])
}

// plainLines returns the plain lines at p[i:] (see plainLine), without
// their "\r\n", and the index after the last one.
func plainLines(p []byte, i, cols int) ([][]byte, int) {
	var run [][]byte
	for {
		k := plainLine(p[i:], cols)
		if k < 0 {
			return run, i
		}
		run = append(run, p[i:i+k])
		i += k + 2
	}
}

// plainLine returns the length of the plain line at the start of p, without
// its "\r\n", or -1 when p does not start with one: printable ASCII, fewer
// than cols characters, then "\r\n".
func plainLine(p []byte, cols int) int {
	for i, b := range p {
		switch {
		case b >= 0x20 && b <= 0x7e:
			if i >= cols-1 {
				return -1
			}
		case b == '\r':
			if i+1 < len(p) && p[i+1] == '\n' {
				return i
			}
			return -1
		default:
			return -1
		}
	}
	return -1
}

// feedLines feeds a run of plain lines, the fast way when the emulator's
// state allows it.
func (f *feeder) feedLines(raw []byte, lines [][]byte) {
	if !f.scan.plainSafe() || f.em.IsAltScreen() {
		f.write(raw)
		return
	}
	cur := f.em.CursorPosition()
	if cur.X != 0 || cur.Y < 0 || cur.Y >= f.rows {
		f.write(raw)
		return
	}

	// Lines above the bottom row print without scrolling.
	if k := min(f.rows-1-cur.Y, len(lines)); k > 0 {
		n := 0
		for _, l := range lines[:k] {
			n += len(l) + 2
		}
		f.write(raw[:n])
		lines = lines[k:]
	}
	// Lines that scroll out of the ring again before the run ends need no
	// feeding: keep enough for the ring and the screen.
	if keep := f.ring.cap() + 2*f.rows; len(lines) > keep {
		lines = lines[len(lines)-keep:]
	}

	f.rewrites++
	f.out = f.out[:0]
	bottom := strconv.Itoa(f.rows)
	for len(lines) > 0 {
		c := min(f.rows-1, len(lines))
		// SU c pushes the top c rows into the scrollback and leaves the
		// bottom c rows blank in the pen's background, as c line feeds
		// at the bottom row do.
		f.out = append(f.out, "\x1b["...)
		f.out = strconv.AppendInt(f.out, int64(c), 10)
		f.out = append(f.out, 'S')
		for t, l := range lines[:c] {
			f.out = append(f.out, "\x1b["...)
			f.out = strconv.AppendInt(f.out, int64(f.rows-c+t), 10)
			f.out = append(f.out, ";1H"...)
			f.out = append(f.out, l...)
		}
		f.out = append(f.out, "\x1b["...)
		f.out = append(f.out, bottom...)
		f.out = append(f.out, ";1H"...)
		lines = lines[c:]
		// One write per scroll keeps the lines the emulator's scrollback
		// holds at once few: it keeps the slots of lines drained earlier
		// referenced until they are overwritten.
		f.writeRaw(f.out)
		f.drain()
		f.out = f.out[:0]
	}
	f.scan.lineStart, f.scan.lastCR = true, false
}

// write feeds p unchanged, in chunks, and tracks it with the scanner.
func (f *feeder) write(p []byte) {
	for len(p) > 0 {
		n := min(len(p), feedChunk)
		f.writeRaw(p[:n])
		f.drain()
		p = p[n:]
	}
}

// writeRaw writes p to the emulator and recovers from its panics.
func (f *feeder) writeRaw(p []byte) {
	defer func() {
		if r := recover(); r != nil {
			f.panics++
			slog.Error("terminal emulator panicked on program output; resetting its scroll region", "panic", r, "count", f.panics)
			// x/vt v0.1.0 indexes past the screen when a program sets a
			// scroll region taller than the screen, which a resize racing
			// a full-screen program does (charmbracelet/x#974). A resize
			// to the same size resets the region, so the output that
			// follows does not hit the same panic.
			func() {
				defer func() { _ = recover() }()
				f.em.Resize(f.cols, f.rows)
			}()
			f.scan.resized()
		}
	}()
	_, _ = f.em.Write(p)
}

// drain moves the lines the main screen scrolled off into the ring. The
// emulator's scrollback methods address the main screen only, so lines
// scrolled off the alternate screen never reach the ring, as in other
// terminals.
//
// NOTE: x/vt v0.1.0 keeps the alternate screen's own scrollback (up to
// 10,000 lines) with no way to clear it, so a long session of a program
// that scrolls on the alternate screen holds that memory.
func (f *feeder) drain() {
	n := f.em.ScrollbackLen()
	if n == 0 {
		return
	}
	rendered := make([]string, n)
	var cells []uv.Cell
	for i := range n {
		cells = cells[:0]
		for x := 0; ; x++ {
			c := f.em.ScrollbackCellAt(x, i)
			if c == nil {
				break
			}
			cells = append(cells, *c)
		}
		rendered[i] = renderCells(cells)
	}
	f.em.ClearScrollback()
	unlock := f.lock()
	for _, line := range rendered {
		f.ring.push(line)
	}
	unlock()
}

// renderCells renders a row of cells as text with SGR sequences, ending in
// a reset when styled. Hyperlinks are dropped: the panes draw SGR only.
func renderCells(cells []uv.Cell) string {
	plain := true
	for i := range cells {
		c := &cells[i]
		if !c.Style.IsZero() || !c.Link.IsZero() || c.Width != 1 || len(c.Content) != 1 {
			plain = false
			break
		}
	}
	if plain {
		b := make([]byte, len(cells))
		for i := range cells {
			b[i] = cells[i].Content[0]
		}
		return string(b)
	}
	line := make(uv.Line, len(cells))
	for i, c := range cells {
		c.Link = uv.Link{}
		if c.Content == "" && c.Width == 1 {
			c.Content = " "
		}
		line[i] = c
	}
	return line.Render()
}
