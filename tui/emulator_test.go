package tui

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// newTestFeeder returns a feeder over a fresh emulator, with a drain into a
// ring of ringLines.
func newTestFeeder(cols, rows, ringLines int) *feeder {
	em := newVTEmulator(cols, rows)
	go func() {
		buf := make([]byte, 256)
		for {
			if _, err := em.Read(buf); err != nil {
				return
			}
		}
	}()
	return newFeeder(em, newLineRing(ringLines), cols, rows, func() func() { return func() {} })
}

// feederState is what a user can see of a feeder: screen cells, cursor,
// screen choice and scrollback.
func feederState(f *feeder) string {
	var b strings.Builder
	for y := range f.rows {
		cells := make([]string, 0, f.cols)
		for x := range f.cols {
			c := f.em.CellAt(x, y)
			if c == nil {
				cells = append(cells, "<nil>")
				continue
			}
			cells = append(cells, fmt.Sprintf("%q/%d/%v", c.Content, c.Width, c.Style))
		}
		fmt.Fprintf(&b, "row %d: %s\n", y, strings.Join(cells, " "))
	}
	fmt.Fprintf(&b, "cursor %v alt %v\n", f.em.CursorPosition(), f.em.IsAltScreen())
	if f.em.IsAltScreen() {
		return b.String()
	}
	for i := range f.ring.len() {
		fmt.Fprintf(&b, "ring %d: %q\n", i, f.ring.at(i))
	}
	return b.String()
}

// firstDifference returns the first line where two states differ.
func firstDifference(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d\nfast:         %s\nline by line: %s", i, gl, wl)
		}
	}
	return "none"
}

// randomOutput returns program output that mixes floods of plain lines with
// what makes the fast path unsafe: colours, cursor moves, scroll regions,
// the alternate screen, insert mode, wrapping and multibyte text.
func randomOutput(r *rand.Rand, cols, rows int) []byte {
	var b strings.Builder
	for range 60 {
		switch r.IntN(16) {
		case 0, 1, 2, 3, 4:
			for range r.IntN(6 * rows) {
				b.WriteString(strings.Repeat(string(rune('a'+r.IntN(26))), r.IntN(cols-1)))
				b.WriteString("\r\n")
			}
		case 5:
			b.WriteString("\x1b[3" + fmt.Sprint(r.IntN(8)) + "m")
		case 6:
			b.WriteString("\x1b[m")
		case 7:
			fmt.Fprintf(&b, "\x1b[%d;%dH", 1+r.IntN(rows), 1+r.IntN(cols))
		case 8:
			top := 1 + r.IntN(rows-1)
			fmt.Fprintf(&b, "\x1b[%d;%dr", top, top+1+r.IntN(rows-top))
		case 9:
			b.WriteString("\x1b[r")
		case 10:
			if r.IntN(2) == 0 {
				b.WriteString("\x1b[?1049h")
			} else {
				b.WriteString("\x1b[?1049l")
			}
		case 11:
			if r.IntN(2) == 0 {
				b.WriteString("\x1b[4h")
			} else {
				b.WriteString("\x1b[4l")
			}
		case 12:
			b.WriteString(strings.Repeat("w", cols+r.IntN(cols)))
		case 13:
			b.WriteString("héllo wörld\r\n")
		case 14:
			b.WriteString("\x1b[2J")
		case 15:
			b.WriteString("partial")
		}
	}
	return []byte(b.String())
}

func TestFeederMatchesLineByLine(t *testing.T) {
	sizes := []struct{ cols, rows, ring, seeds int }{{20, 8, 30, 150}, {10, 3, 2, 150}, {80, 24, 100, 25}}
	rewrites := 0
	for _, sz := range sizes {
		for seed := range uint64(sz.seeds) {
			r := rand.New(rand.NewPCG(seed, uint64(sz.cols)))
			out := randomOutput(r, sz.cols, sz.rows)
			fast := newTestFeeder(sz.cols, sz.rows, sz.ring)
			slow := newTestFeeder(sz.cols, sz.rows, sz.ring)
			// The same random split into pieces, as reads of a pipe
			// arrive.
			for p := out; len(p) > 0; {
				n := min(len(p), 1+r.IntN(3000))
				fast.feed(p[:n])
				slow.write(p[:n])
				p = p[n:]
			}
			if got, want := feederState(fast), feederState(slow); got != want {
				t.Fatalf("%dx%d seed %d: the fast path differs from line-by-line feeding: %s", sz.cols, sz.rows, seed, firstDifference(got, want))
			}
			// Lines of the main screen wait in the emulator while the
			// alternate screen is on; leave it to compare all
			// scrollback.
			fast.write([]byte("\x1b[?1049l"))
			slow.write([]byte("\x1b[?1049l"))
			if got, want := feederState(fast), feederState(slow); got != want {
				t.Fatalf("%dx%d seed %d: the fast path differs after leaving the alternate screen: %s", sz.cols, sz.rows, seed, firstDifference(got, want))
			}
			if fast.panics+slow.panics > 0 {
				t.Fatalf("%dx%d seed %d: the emulator panicked (%d, %d)", sz.cols, sz.rows, seed, fast.panics, slow.panics)
			}
			rewrites += fast.rewrites
		}
	}
	if rewrites == 0 {
		t.Fatal("no run took the fast path; the test compares nothing")
	}
	t.Logf("runs fed the fast way: %d", rewrites)
}

func TestFeederDropsLinesTheRingLoses(t *testing.T) {
	const cols, rows, ring = 40, 10, 100
	var b strings.Builder
	for i := 1; i <= 5000; i++ {
		fmt.Fprintf(&b, "%d\r\n", i)
	}
	fast := newTestFeeder(cols, rows, ring)
	slow := newTestFeeder(cols, rows, ring)
	fast.feed([]byte(b.String()))
	slow.write([]byte(b.String()))
	if got, want := feederState(fast), feederState(slow); got != want {
		t.Fatalf("the fast path differs from line-by-line feeding: %s", firstDifference(got, want))
	}
	if got := fast.ring.at(fast.ring.len() - 1); got != "4991" {
		t.Errorf("newest scrollback line %q, want 4991", got)
	}
	if got := fast.em.CellAt(0, rows-2); got == nil || got.Content != "5" {
		t.Errorf("last line not on the row above the cursor: %v", got)
	}
}

func TestFeederClampsTallScrollRegion(t *testing.T) {
	f := newTestFeeder(80, 24, 100)
	// A scroll region taller than the screen, as a full-screen program
	// sends when a resize races it, panics inside x/vt v0.1.0 unless the
	// feeder limits it to the screen. The sequences arrive cut in two.
	f.feed([]byte("\x1b[5;200r\x1b[200;1H\x1b[3L\x1b[5;2"))
	f.feed([]byte("00r"))
	f.resize(80, 10)
	f.feed([]byte("\x1b[5;200r\x1b[200;1H\x1b[3L\x1b[3M\n\n\n"))
	f.feed([]byte("\x1b[r\x1b[2J\x1b[Halive\r\n"))
	if f.panics != 0 {
		t.Errorf("the emulator panicked %d times", f.panics)
	}
	if c := f.em.CellAt(0, 0); c == nil || c.Content != "a" {
		t.Fatalf("the emulator did not show the output after the scroll regions; first cell %v", c)
	}
}

// panickyEmulator panics on output that contains "boom", as an emulator
// bug would.
type panickyEmulator struct{ *vtEmulator }

func (e panickyEmulator) Write(p []byte) (int, error) {
	if strings.Contains(string(p), "boom") {
		panic("emulator bug")
	}
	return e.vtEmulator.Write(p)
}

func TestFeederRecoversFromEmulatorPanic(t *testing.T) {
	em := panickyEmulator{newVTEmulator(20, 5)}
	go func() {
		buf := make([]byte, 64)
		for {
			if _, err := em.Read(buf); err != nil {
				return
			}
		}
	}()
	f := newFeeder(em, newLineRing(10), 20, 5, func() func() { return func() {} })
	f.feed([]byte("boom\r\n"))
	f.feed([]byte("after\r\n"))
	if f.panics != 1 {
		t.Errorf("recovered %d panics, want 1", f.panics)
	}
	if c := f.em.CellAt(0, 0); c == nil || c.Content != "a" {
		t.Errorf("output after the panic is missing; first cell %v", c)
	}
}

func TestSeqScannerTracksRegions(t *testing.T) {
	cases := []struct {
		name, input string
		safe        bool
	}{
		{"plain", "hello\r\n", true},
		{"region", "\x1b[2;5r", false},
		{"region reset", "\x1b[2;5r\x1b[r", true},
		{"full region", "\x1b[1;24r", true},
		{"taller than screen", "\x1b[3;200r", false},
		{"taller than screen from the top", "\x1b[1;200r", true},
		{"insert mode", "\x1b[4h", false},
		{"insert mode off", "\x1b[4h\x1b[4l", true},
		{"alternate screen", "\x1b[?1049h", false},
		{"back from alternate", "\x1b[?1049h\x1b[3;9r\x1b[?1049l", true},
		{"region kept under alternate", "\x1b[3;9r\x1b[?1049h\x1b[r\x1b[?1049l", false},
		{"soft reset", "\x1b[2;5r\x1b[4h\x1b[!p", true},
		{"full reset", "\x1b[2;5r\x1bc", true},
		{"8-bit CSI", "\x9b2;5r", false},
		{"UTF-8 continuation is no CSI", "\xc4\x9b2;5r", true},
		{"ESC ends an OSC string", "\x1b]0;\x1b[2;5r\x07", false},
		{"OSC string hides its text", "\x1b]0;[2;5r\x07", true},
		{"inside an escape sequence", "\x1b[31", false},
	}
	for _, c := range cases {
		var s seqScanner
		s.advance([]byte(c.input), 24)
		if got := s.plainSafe(); got != c.safe {
			t.Errorf("%s: plainSafe %v, want %v", c.name, got, c.safe)
		}
	}
}
