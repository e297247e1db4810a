package tui

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// ansiSequence matches CSI sequences (colours, cursor movement) and OSC
// sequences ending in BEL or ST.
var ansiSequence = regexp.MustCompile("\x1b\\[[0-9;?]*[ -/]*[@-~]|\x1b\\][^\x07\x1b]*(\x07|\x1b\\\\)|\x1b[@-Z\\\\-_]")

// StripANSI removes terminal escape sequences from s.
func StripANSI(s string) string {
	if strings.IndexByte(s, 0x1b) < 0 {
		// Most lines have no sequence; the regular expression costs about
		// 100 ns a line even then.
		return s
	}
	return ansiSequence.ReplaceAllString(s, "")
}

// sgrReset ends every styled row the UI draws, so a colour of a log line never
// reaches the border or the next pane.
const sgrReset = "\x1b[m"

// tabWidth is the distance between tab stops, as on a default terminal.
const tabWidth = 8

// SGR attribute bits of sgrState.
const (
	attrBold uint16 = 1 << iota
	attrFaint
	attrItalic
	attrUnderline
	attrBlink
	attrReverse
	attrConceal
	attrStrike
	attrOverline
)

// attrCodes are the SGR parameters that set each attribute bit, in bit order.
var attrCodes = [...]string{"1", "2", "3", "4", "5", "7", "8", "9", "53"}

// sgrState is the graphic rendition in force at a point of a log stream:
// attributes and colours as SGR parameter text ("31", "38;5;208",
// "38;2;10;20;30"); an empty colour is the terminal default.
type sgrState struct {
	attrs      uint16
	fg, bg, ul string
}

func (s sgrState) isDefault() bool {
	return s.attrs == 0 && s.fg == "" && s.bg == "" && s.ul == ""
}

// sequence returns one SGR sequence that sets s from the default state, or ""
// when s is the default.
func (s sgrState) sequence() string {
	if s.isDefault() {
		return ""
	}
	var b strings.Builder
	b.WriteString("\x1b[")
	sep := ""
	for i, code := range attrCodes {
		if s.attrs&(1<<i) != 0 {
			b.WriteString(sep + code)
			sep = ";"
		}
	}
	for _, c := range [...]string{s.fg, s.bg, s.ul} {
		if c != "" {
			b.WriteString(sep + c)
			sep = ";"
		}
	}
	b.WriteByte('m')
	return b.String()
}

// apply updates s with the parameters of one SGR sequence, given without the
// leading CSI and the final 'm' ("1;31", "38:5:208", "").
func (s *sgrState) apply(params string) {
	if params == "" {
		*s = sgrState{}
		return
	}
	tokens := strings.Split(params, ";")
	for i := 0; i < len(tokens); i++ {
		tok := tokens[i]
		if strings.Contains(tok, ":") {
			s.applySub(tok)
			continue
		}
		n, err := strconv.Atoi(tok)
		if tok == "" {
			n, err = 0, nil
		}
		if err != nil {
			continue
		}
		switch {
		case n == 38 || n == 48 || n == 58:
			// Extended colour: 5;INDEX or 2;R;G;B follow as separate tokens.
			take := 0
			if i+1 < len(tokens) {
				switch tokens[i+1] {
				case "5":
					take = 2
				case "2":
					take = 4
				}
			}
			if take == 0 || i+take >= len(tokens) {
				return
			}
			s.setColor(n, strings.Join(tokens[i:i+take+1], ";"))
			i += take
		default:
			s.applyCode(n)
		}
	}
}

// applySub handles one parameter with colon sub-parameters, such as 4:3
// (curly underline) or 38:2::R:G:B.
func (s *sgrState) applySub(tok string) {
	head, rest, _ := strings.Cut(tok, ":")
	switch head {
	case "38", "48", "58":
		n, _ := strconv.Atoi(head)
		s.setColor(n, tok)
	case "4":
		if rest == "0" {
			s.attrs &^= attrUnderline
		} else {
			s.attrs |= attrUnderline
		}
	}
}

func (s *sgrState) setColor(kind int, text string) {
	switch kind {
	case 38:
		s.fg = text
	case 48:
		s.bg = text
	case 58:
		s.ul = text
	}
}

func (s *sgrState) applyCode(n int) {
	switch {
	case n == 0:
		*s = sgrState{}
	case n == 1:
		s.attrs |= attrBold
	case n == 2:
		s.attrs |= attrFaint
	case n == 3:
		s.attrs |= attrItalic
	case n == 4 || n == 21:
		s.attrs |= attrUnderline
	case n == 5 || n == 6:
		s.attrs |= attrBlink
	case n == 7:
		s.attrs |= attrReverse
	case n == 8:
		s.attrs |= attrConceal
	case n == 9:
		s.attrs |= attrStrike
	case n == 22:
		s.attrs &^= attrBold | attrFaint
	case n == 23:
		s.attrs &^= attrItalic
	case n == 24:
		s.attrs &^= attrUnderline
	case n == 25:
		s.attrs &^= attrBlink
	case n == 27:
		s.attrs &^= attrReverse
	case n == 28:
		s.attrs &^= attrConceal
	case n == 29:
		s.attrs &^= attrStrike
	case n == 53:
		s.attrs |= attrOverline
	case n == 55:
		s.attrs &^= attrOverline
	case n >= 30 && n <= 37, n >= 90 && n <= 97:
		s.fg = strconv.Itoa(n)
	case n == 39:
		s.fg = ""
	case n >= 40 && n <= 47, n >= 100 && n <= 107:
		s.bg = strconv.Itoa(n)
	case n == 49:
		s.bg = ""
	case n == 59:
		s.ul = ""
	}
}

// plainText reports whether s needs no cleaning: printable ASCII only.
func plainText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// cleanLine is the result of sanitizeLine.
type cleanLine struct {
	text string
	// sgr is true when text contains SGR sequences.
	sgr bool
	// ascii is true when text is printable ASCII without any sequence, so one
	// byte is one cell.
	ascii bool
	// cut is the number of bytes left out to keep the line under the cap.
	cut int
}

// sanitizeLine turns one line of program output into text that is safe to
// draw inside a pane. SGR sequences are kept, and the line starts with the
// rendition carried over from the previous line of the same stream (*carry,
// which is updated to the state at the end of the line). Every other escape
// sequence (cursor movement, erasing, OSC titles and links, DCS) and every
// control character is removed. A carriage return starts the line over, so
// the last redraw of a progress bar is what remains. Tabs become spaces.
// Printable content beyond maxBytes bytes is left out and counted in cut.
func sanitizeLine(raw string, carry *sgrState, maxBytes int, m ansi.Method) cleanLine {
	if carry.isDefault() && plainText(raw) {
		if len(raw) <= maxBytes {
			return cleanLine{text: raw, ascii: true}
		}
		return cleanLine{text: raw[:maxBytes], ascii: true, cut: len(raw) - maxBytes}
	}
	s := lineSanitizer{state: *carry, maxBytes: maxBytes, method: m}
	s.run(raw)
	*carry = s.state
	return s.result()
}

// lineSanitizer holds the state of sanitizeLine while it walks one line.
type lineSanitizer struct {
	state    sgrState
	maxBytes int
	method   ansi.Method

	seg      strings.Builder // the current segment: text since the last \r
	segCells int
	segSGR   bool
	segCut   int
	// runeStarts are the offsets in seg of its printable runes, so that a
	// backspace can remove the last one.
	runeStarts []int

	// last is the most recent segment that had visible content.
	last      string
	lastSGR   bool
	lastCut   int
	lastValid bool
}

func (s *lineSanitizer) run(raw string) {
	s.startSegment()
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == 0x1b:
			i = s.escape(raw, i)
		case c == '\r':
			s.endSegment()
			s.startSegment()
			i++
		case c == '\t':
			n := tabWidth - s.segCells%tabWidth
			s.printable(strings.Repeat(" ", n), n)
			i++
		case c == '\b':
			s.backspace()
			i++
		case c < 0x20 || c == 0x7f:
			i++
		case c < 0x80:
			s.printable(raw[i:i+1], 1)
			i++
		default:
			r, size := utf8.DecodeRuneInString(raw[i:])
			i += size
			if r == utf8.RuneError && size == 1 {
				s.printable("\uFFFD", 1)
				continue
			}
			if r >= 0x80 && r < 0xa0 {
				continue // C1 control characters
			}
			s.printable(string(r), s.method.StringWidth(string(r)))
		}
	}
	s.endSegment()
}

func (s *lineSanitizer) startSegment() {
	s.seg.Reset()
	s.segCells, s.segCut, s.segSGR = 0, 0, false
	s.runeStarts = s.runeStarts[:0]
	if seq := s.state.sequence(); seq != "" {
		s.seg.WriteString(seq)
		s.segSGR = true
	}
}

// endSegment keeps the segment when it shows anything: a \r followed by
// nothing, or by an erase sequence only, leaves the previous text visible.
func (s *lineSanitizer) endSegment() {
	if s.segCells > 0 || s.segCut > 0 || !s.lastValid {
		s.last, s.lastSGR, s.lastCut, s.lastValid = s.seg.String(), s.segSGR, s.segCut, true
	}
}

func (s *lineSanitizer) printable(text string, cells int) {
	if s.seg.Len()+len(text) > s.maxBytes {
		s.segCut += len(text)
		return
	}
	s.runeStarts = append(s.runeStarts, s.seg.Len())
	s.seg.WriteString(text)
	s.segCells += cells
}

// backspace removes the last printable rune of the segment, keeping any SGR
// sequence written after it.
func (s *lineSanitizer) backspace() {
	n := len(s.runeStarts)
	if n == 0 {
		return
	}
	start := s.runeStarts[n-1]
	s.runeStarts = s.runeStarts[:n-1]
	text := s.seg.String()
	_, size := utf8.DecodeRuneInString(text[start:])
	s.seg.Reset()
	s.seg.WriteString(text[:start])
	s.seg.WriteString(text[start+size:])
	s.segCells -= s.method.StringWidth(text[start : start+size])
	if s.segCells < 0 {
		s.segCells = 0
	}
}

// escape handles the sequence that starts at raw[i] (ESC) and returns the
// index after it. Only SGR sequences are kept.
func (s *lineSanitizer) escape(raw string, i int) int {
	if i+1 >= len(raw) {
		return len(raw)
	}
	switch raw[i+1] {
	case '[':
		j := i + 2
		for j < len(raw) && raw[j] >= 0x20 && raw[j] <= 0x3f {
			j++
		}
		params := raw[i+2 : j]
		inter := j
		for j < len(raw) && raw[j] >= 0x20 && raw[j] <= 0x2f {
			j++
		}
		if j >= len(raw) {
			return len(raw)
		}
		final := raw[j]
		if final < 0x40 || final > 0x7e {
			// Not a well-formed CSI: drop the introducer only.
			return j
		}
		if final == 'm' && inter == j && sgrParams(params) {
			s.state.apply(params)
			s.seg.WriteString(raw[i : j+1])
			s.segSGR = true
		}
		return j + 1
	case ']', 'P', 'X', '^', '_':
		// OSC, DCS, SOS, PM and APC strings end with BEL (OSC only) or ST.
		for j := i + 2; j < len(raw); j++ {
			if raw[j] == 0x07 && raw[i+1] == ']' {
				return j + 1
			}
			if raw[j] == 0x1b && j+1 < len(raw) && raw[j+1] == '\\' {
				return j + 2
			}
		}
		return len(raw)
	default:
		// Two-byte (or intermediate + final) escape sequences: charsets,
		// keypad modes, save and restore cursor.
		j := i + 1
		for j < len(raw) && raw[j] >= 0x20 && raw[j] <= 0x2f {
			j++
		}
		if j < len(raw) {
			j++
		}
		return j
	}
}

// sgrParams reports whether params are plain SGR parameters: digits,
// semicolons and colons, without a private prefix such as '?' or '>'.
func sgrParams(params string) bool {
	for i := 0; i < len(params); i++ {
		c := params[i]
		if (c < '0' || c > '9') && c != ';' && c != ':' {
			return false
		}
	}
	return true
}

func (s *lineSanitizer) result() cleanLine {
	text := s.last
	ascii := !s.lastSGR && plainText(text)
	return cleanLine{text: text, sgr: s.lastSGR, ascii: ascii, cut: s.lastCut}
}
