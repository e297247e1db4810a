package tui

import (
	"errors"
	"image/color"
	"io"
	"log/slog"
	"os/exec"
	"sync"
	"time"

	uv "github.com/charmbracelet/ultraviolet"
	"github.com/creack/pty"

	"werk/engine"
)

// Limits and timing of a terminal pane.
const (
	// paneFrameInterval is the least time between two redraws of a pane:
	// output that arrives faster is parsed at once but shown once per
	// frame.
	paneFrameInterval = 16 * time.Millisecond
	// maxPendingOutput bounds the program output waiting for the parser;
	// beyond it Write blocks, which slows the program down instead of the
	// screen.
	maxPendingOutput = 1 << 20
	// maxPendingInput bounds the keys and replies waiting for the program.
	// Input beyond it is dropped, so a program that stops reading its input
	// never blocks the UI.
	maxPendingInput = 1 << 20
	// maxIdleBuffer is the largest output buffer a pane keeps for reuse.
	maxIdleBuffer = 64 << 10
	// DefaultScrollbackLines is how many lines a terminal pane keeps above
	// its screen.
	DefaultScrollbackLines = 10_000
)

// screenSnapshot is the screen of a pane at one frame: its rows rendered as
// text with SGR sequences, each exactly cols cells wide, and the cursor.
type screenSnapshot struct {
	cols, rows    int
	lines         []string
	cursor        uv.Position
	cursorVisible bool
}

// termPane is an embedded terminal: a VT emulator fed by a program's output
// and feeding the program its input. It implements engine.Terminal.
//
// Program output goes through Write into a queue. A worker goroutine parses
// it, so the UI's update loop never parses, and publishes a snapshot of the
// screen at most once per paneFrameInterval. Input (keys from the UI and the
// emulator's replies to queries) is drained from the emulator for the pane's
// whole life into a queue that Read serves.
type termPane struct {
	title  string
	em     emulator
	feeder *feeder

	mu    sync.Mutex
	space *sync.Cond // signalled when the output queue shrinks
	out   []byte
	spare []byte
	want  engine.TermSize // the size the layout requests
	shut  bool
	wake  chan struct{}

	inMu     sync.Mutex
	inCond   *sync.Cond
	in       []byte
	inClosed bool
	dropped  int

	sizeMu  sync.Mutex
	size    engine.TermSize // the size the emulator and program have
	resized chan engine.TermSize

	frames chan struct{}
	snapMu sync.Mutex
	snap   *screenSnapshot

	ringMu sync.Mutex
	ring   *lineRing

	closing   chan struct{}
	closeOnce sync.Once
	done      chan struct{}

	// Worker state.
	prevCells [][]uv.Cell
	prevLines []string
	lastFrame time.Time
}

var _ engine.Terminal = (*termPane)(nil)

// newTermPane starts a pane of cols x rows cells that keeps scrollback lines
// above its screen.
func newTermPane(title string, cols, rows, scrollback int) *termPane {
	cols, rows = max(cols, 1), max(rows, 1)
	p := &termPane{
		title:   title,
		em:      newVTEmulator(cols, rows),
		wake:    make(chan struct{}, 1),
		want:    engine.TermSize{Cols: cols, Rows: rows},
		size:    engine.TermSize{Cols: cols, Rows: rows},
		resized: make(chan engine.TermSize, 1),
		frames:  make(chan struct{}, 1),
		ring:    newLineRing(scrollback),
		closing: make(chan struct{}),
		done:    make(chan struct{}),
	}
	p.space = sync.NewCond(&p.mu)
	p.inCond = sync.NewCond(&p.inMu)
	p.feeder = newFeeder(p.em, p.ring, cols, rows, func() func() {
		p.ringMu.Lock()
		return p.ringMu.Unlock
	})
	p.publishFrame()
	go p.drainInput()
	go p.work()
	return p
}

// Write queues program output for the parser. It blocks while the queue is
// full and fails once the pane is closed.
func (p *termPane) Write(b []byte) (int, error) {
	p.mu.Lock()
	for len(p.out) >= maxPendingOutput && !p.shut {
		p.space.Wait()
	}
	if p.shut {
		p.mu.Unlock()
		return 0, io.ErrClosedPipe
	}
	p.out = append(p.out, b...)
	p.mu.Unlock()
	p.poke()
	return len(b), nil
}

func (p *termPane) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Read returns input for the program; io.EOF once the pane is closed.
func (p *termPane) Read(b []byte) (int, error) {
	p.inMu.Lock()
	defer p.inMu.Unlock()
	for len(p.in) == 0 && !p.inClosed {
		p.inCond.Wait()
	}
	if len(p.in) == 0 {
		return 0, io.EOF
	}
	n := copy(b, p.in)
	p.in = p.in[n:]
	if len(p.in) == 0 {
		p.in = nil
	}
	return n, nil
}

// Size returns the size the program's terminal has.
func (p *termPane) Size() engine.TermSize {
	p.sizeMu.Lock()
	defer p.sizeMu.Unlock()
	return p.size
}

// Resized delivers the sizes the pane takes after a layout change.
func (p *termPane) Resized() <-chan engine.TermSize { return p.resized }

// Close closes the pane: Read returns io.EOF, Write fails, and the worker
// ends after it has shown the output received so far.
func (p *termPane) Close() error {
	p.closeOnce.Do(func() {
		p.inMu.Lock()
		p.inClosed = true
		p.inCond.Broadcast()
		p.inMu.Unlock()
		p.em.CloseInput()
		p.mu.Lock()
		p.shut = true
		p.space.Broadcast()
		p.mu.Unlock()
		close(p.closing)
	})
	return nil
}

// drainInput moves what the emulator sends to the program into the input
// queue, for the pane's whole life: the emulator blocks on a terminal query
// until its reply is read.
func (p *termPane) drainInput() {
	buf := make([]byte, 4096)
	for {
		n, err := p.em.Read(buf)
		if n > 0 {
			p.queueInput(buf[:n])
		}
		if err != nil {
			return
		}
	}
}

func (p *termPane) queueInput(b []byte) {
	p.inMu.Lock()
	defer p.inMu.Unlock()
	if p.inClosed {
		return
	}
	if len(p.in)+len(b) > maxPendingInput {
		p.dropped += len(b)
		if p.dropped == len(b) {
			slog.Warn("terminal pane input dropped: the program does not read its input", "pane", p.title, "bytes", len(b))
		}
		return
	}
	p.in = append(p.in, b...)
	p.inCond.Broadcast()
}

// setSize requests a new size. The worker applies it between two pieces of
// output, then passes it on to the program.
func (p *termPane) setSize(cols, rows int) {
	cols, rows = max(cols, 1), max(rows, 1)
	p.mu.Lock()
	changed := p.want != engine.TermSize{Cols: cols, Rows: rows}
	p.want = engine.TermSize{Cols: cols, Rows: rows}
	p.mu.Unlock()
	if changed {
		p.poke()
	}
}

// sendKey encodes a key as the terminal's modes ask and queues it for the
// program.
func (p *termPane) sendKey(k uv.KeyEvent) { p.em.SendKey(k) }

// paste queues pasted text, bracketed when the program asked for it.
func (p *termPane) paste(text string) { p.em.Paste(text) }

// setColors sets the emulator's colours to the real terminal's, which
// programs can query; nil leaves a colour unchanged.
func (p *termPane) setColors(fg, bg color.Color) {
	if fg != nil {
		p.em.SetForegroundColor(fg)
	}
	if bg != nil {
		p.em.SetBackgroundColor(bg)
	}
}

// snapshot returns the last published screen.
func (p *termPane) snapshot() *screenSnapshot {
	p.snapMu.Lock()
	defer p.snapMu.Unlock()
	return p.snap
}

// scrollback returns how many lines the pane keeps above its screen.
func (p *termPane) scrollbackLen() int {
	p.ringMu.Lock()
	defer p.ringMu.Unlock()
	return p.ring.len()
}

// scrollbackLines returns scrollback lines from index from (0 is the
// oldest), at most n.
func (p *termPane) scrollbackLines(from, n int) []string {
	p.ringMu.Lock()
	defer p.ringMu.Unlock()
	out := make([]string, 0, max(n, 0))
	for i := max(from, 0); i < p.ring.len() && len(out) < n; i++ {
		out = append(out, p.ring.at(i))
	}
	return out
}

// work parses output and publishes frames until the pane is closed and its
// output is shown.
func (p *termPane) work() {
	defer close(p.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	armed, dirty := false, false
	for {
		closing := false
		select {
		case <-p.wake:
		case <-timer.C:
			armed = false
		case <-p.closing:
			closing = true
		}

		p.mu.Lock()
		batch := p.out
		p.out = p.spare[:0]
		want := p.want
		p.space.Broadcast()
		p.mu.Unlock()

		if want != p.Size() {
			p.feeder.resize(want.Cols, want.Rows)
			p.sizeMu.Lock()
			p.size = want
			p.sizeMu.Unlock()
			// Only the newest size matters to the program.
			select {
			case <-p.resized:
			default:
			}
			p.resized <- want
			dirty = true
		}
		if len(batch) > 0 {
			p.feeder.feed(batch)
			dirty = true
		}
		// A flood grows the batch buffer; an idle pane need not keep it.
		if cap(batch) <= maxIdleBuffer {
			p.spare = batch[:0]
		} else {
			p.spare = nil
		}

		if closing {
			p.publishFrame()
			return
		}
		if dirty {
			if wait := paneFrameInterval - time.Since(p.lastFrame); wait <= 0 {
				p.publishFrame()
				dirty = false
			} else if !armed {
				timer.Reset(wait)
				armed = true
			}
		}
	}
}

// publishFrame takes a snapshot of the screen, rendering only the rows that
// changed since the last one, and signals the UI.
func (p *termPane) publishFrame() {
	cols, rows := p.feeder.cols, p.feeder.rows
	cells := make([][]uv.Cell, rows)
	lines := make([]string, rows)
	for y := range rows {
		row := make([]uv.Cell, cols)
		for x := range cols {
			if c := p.em.CellAt(x, y); c != nil {
				row[x] = *c
			} else {
				row[x] = uv.EmptyCell
			}
		}
		cells[y] = row
		if y < len(p.prevCells) && sameCells(p.prevCells[y], row) {
			lines[y] = p.prevLines[y]
		} else {
			lines[y] = renderCells(row)
		}
	}
	p.prevCells, p.prevLines = cells, lines
	snap := &screenSnapshot{cols: cols, rows: rows, lines: lines, cursor: p.em.CursorPosition(), cursorVisible: !p.em.CursorHidden()}
	p.snapMu.Lock()
	p.snap = snap
	p.snapMu.Unlock()
	p.lastFrame = time.Now()
	select {
	case p.frames <- struct{}{}:
	default:
	}
}

func sameCells(a, b []uv.Cell) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(&b[i]) {
			return false
		}
	}
	return true
}

// runLocal runs cmd on a new pseudo-terminal of the pane's size, forwarding
// the pane's resizes, and closes the pane once cmd has exited and its output
// is shown. It returns cmd's exit status. werk's tests use it to drive the
// pane with real programs.
func (p *termPane) runLocal(cmd *exec.Cmd) (int, error) {
	size := p.Size()
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: uint16(size.Cols), Rows: uint16(size.Rows)})
	if err != nil {
		p.Close()
		return -1, err
	}
	outDone := make(chan struct{})
	go func() {
		defer close(outDone)
		buf := make([]byte, 64<<10)
		for {
			n, err := ptmx.Read(buf)
			if n > 0 {
				if _, werr := p.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	go func() { _, _ = io.Copy(ptmx, p) }()

	stopResizes := make(chan struct{})
	resizesDone := make(chan struct{})
	go func() {
		defer close(resizesDone)
		for {
			select {
			case <-stopResizes:
				return
			case s := <-p.Resized():
				if err := pty.Setsize(ptmx, &pty.Winsize{Cols: uint16(s.Cols), Rows: uint16(s.Rows)}); err != nil {
					slog.Debug("resizing a local terminal program", "pane", p.title, "err", err)
				}
			}
		}
	}()

	waitErr := cmd.Wait()
	// A background process that keeps the terminal open must not keep the
	// pane open for ever.
	select {
	case <-outDone:
	case <-time.After(2 * time.Second):
	}
	close(stopResizes)
	<-resizesDone
	ptmx.Close()
	p.Close()

	var exitErr *exec.ExitError
	if errors.As(waitErr, &exitErr) {
		return exitErr.ExitCode(), nil
	}
	if waitErr != nil {
		return -1, waitErr
	}
	return 0, nil
}
