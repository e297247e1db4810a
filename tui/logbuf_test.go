package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"werk/engine"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// lineTexts returns the stored texts of src, oldest first.
func lineTexts(src *logSource) []string {
	var out []string
	for i := 0; i < src.lines.len(); i++ {
		out = append(out, src.lines.at(i).text)
	}
	return out
}

func TestSanitizeKeepsSGRCarriesColour(t *testing.T) {
	store := newLogStore(Limits{})
	src := store.source(stepKey(engine.StepRef{Name: "colours"}), "colours")
	// printf '\033[31mred\nstill red\033[0m\n' arrives as two lines.
	store.append(src, engine.Stdout, "\x1b[31mred", t0)
	store.append(src, engine.Stdout, "still red\x1b[0m", t0)
	store.append(src, engine.Stdout, "plain again", t0)

	got := lineTexts(src)
	if got[0] != "\x1b[31mred" {
		t.Errorf("first line = %q, want the SGR kept", got[0])
	}
	if !strings.HasPrefix(got[1], "\x1b[31m") || ansi.Strip(got[1]) != "still red" {
		t.Errorf("second line = %q, want it to start red", got[1])
	}
	if got[2] != "plain again" {
		t.Errorf("third line = %q, want no colour after the reset", got[2])
	}
}

func TestSanitizeCarryIsPerStream(t *testing.T) {
	store := newLogStore(Limits{})
	src := store.source(stepKey(engine.StepRef{Name: "s"}), "s")
	store.append(src, engine.Stdout, "\x1b[32mgreen", t0)
	store.append(src, engine.Stderr, "error text", t0)
	store.append(src, engine.Stdout, "still green", t0)

	got := lineTexts(src)
	if got[1] != "error text" {
		t.Errorf("stderr line = %q, want stdout's colour kept out of it", got[1])
	}
	if !strings.HasPrefix(got[2], "\x1b[32m") {
		t.Errorf("stdout line = %q, want it green", got[2])
	}
}

func TestSanitizeRemovesOtherSequences(t *testing.T) {
	cases := []struct {
		name, raw, want string
	}{
		{"cursor up", "a\x1b[2Ab", "ab"},
		{"erase screen", "\x1b[2Jtext\x1b[K", "text"},
		{"OSC title with BEL", "\x1b]0;my title\x07after", "after"},
		{"OSC title with ST", "\x1b]2;t\x1b\\after", "after"},
		{"OSC 8 link", "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"},
		{"private mode", "\x1b[?25lhidden cursor\x1b[?25h", "hidden cursor"},
		{"charset", "\x1b(Bascii", "ascii"},
		{"bell and NUL", "ding\x07\x00!", "ding!"},
		{"tab", "a\tb", "a       b"},
		{"backspace", "ab\bc", "ac"},
		{"invalid UTF-8", "a\xffb", "a\uFFFDb"},
		{"C1 control", "a\u009bb", "ab"},
		{"unterminated CSI", "text\x1b[", "text"},
		{"unterminated OSC", "text\x1b]0;title", "text"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var carry sgrState
			got := sanitizeLine(tc.raw, &carry, DefaultLineBytes, ansi.WcWidth)
			if got.text != tc.want {
				t.Errorf("sanitizeLine(%q) = %q, want %q", tc.raw, got.text, tc.want)
			}
		})
	}
}

func TestSanitizeCarriageReturnRewrites(t *testing.T) {
	var bar strings.Builder
	for i := 0; i <= 600; i++ {
		fmt.Fprintf(&bar, "\r[%-20s] %3d%%", strings.Repeat("#", i*20/600), i*100/600)
	}
	cases := []struct {
		name, raw, want string
	}{
		{"progress bar", bar.String(), "[####################] 100%"},
		{"trailing CR", "50%\r", "50%"},
		{"CR then erase", "50%\r\x1b[K", "50%"},
		{"CRLF", "line\r", "line"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var carry sgrState
			got := sanitizeLine(tc.raw, &carry, DefaultLineBytes, ansi.WcWidth)
			if got.text != tc.want {
				t.Errorf("sanitizeLine = %q, want %q", got.text, tc.want)
			}
		})
	}
}

func TestSanitizeCRKeepsColourState(t *testing.T) {
	var carry sgrState
	got := sanitizeLine("\x1b[1;34mold\rnew", &carry, DefaultLineBytes, ansi.WcWidth)
	if got.text != "\x1b[1;34mnew" {
		t.Errorf("text = %q, want the colour set before \\r to apply", got.text)
	}
	if carry.sequence() != "\x1b[1;34m" {
		t.Errorf("carry = %q", carry.sequence())
	}
}

func TestSGRStateApply(t *testing.T) {
	cases := []struct {
		params []string
		want   string
	}{
		{[]string{"1;31"}, "\x1b[1;31m"},
		{[]string{"1;31", "22"}, "\x1b[31m"},
		{[]string{"38;5;208"}, "\x1b[38;5;208m"},
		{[]string{"38;2;1;2;3", "48;5;4"}, "\x1b[38;2;1;2;3;48;5;4m"},
		{[]string{"38:2::1:2:3"}, "\x1b[38:2::1:2:3m"},
		{[]string{"4:3", "7", "27"}, "\x1b[4m"},
		{[]string{"31", "39"}, ""},
		{[]string{"31", ""}, ""},
		{[]string{"31", "0;32"}, "\x1b[32m"},
	}
	for _, tc := range cases {
		var s sgrState
		for _, p := range tc.params {
			s.apply(p)
		}
		if got := s.sequence(); got != tc.want {
			t.Errorf("apply(%q) = %q, want %q", tc.params, got, tc.want)
		}
	}
}

func TestLongLineIsCapped(t *testing.T) {
	store := newLogStore(Limits{})
	src := store.source(stepKey(engine.StepRef{Name: "long"}), "long")
	store.append(src, engine.Stdout, strings.Repeat("x", 100_000), t0)

	l := src.lines.at(0)
	if len(l.text) > DefaultLineBytes+64 {
		t.Fatalf("stored %d bytes, want at most about %d", len(l.text), DefaultLineBytes)
	}
	if !strings.Contains(ansi.Strip(l.text), "83,616 more bytes") {
		t.Errorf("line end = %q, want a marker counting the bytes left out", l.text[len(l.text)-60:])
	}
}

func TestStepBoundsDropOldest(t *testing.T) {
	store := newLogStore(Limits{StepLines: 1000, StepBytes: 1 << 20})
	src := store.source(stepKey(engine.StepRef{Name: "noisy"}), "noisy")
	for i := range 5000 {
		store.append(src, engine.Stdout, fmt.Sprintf("line %d", i), t0)
	}
	if n := src.lines.len(); n > 1000 {
		t.Errorf("kept %d lines, want at most 1000", n)
	}
	if got := src.lines.last().text; got != "line 4999" {
		t.Errorf("newest line = %q", got)
	}
	oldest := src.lines.at(0).text
	if oldest == "line 0" {
		t.Errorf("oldest line %q was kept", oldest)
	}
	if store.lines != src.lines.len() || store.trimmed != 5000-src.lines.len() {
		t.Errorf("counts: store %d lines, %d trimmed; source %d", store.lines, store.trimmed, src.lines.len())
	}
}

func TestStepByteBound(t *testing.T) {
	store := newLogStore(Limits{StepBytes: 64 << 10})
	src := store.source(stepKey(engine.StepRef{Name: "big"}), "big")
	for range 1000 {
		store.append(src, engine.Stdout, strings.Repeat("y", 1000), t0)
	}
	if src.bytes > 64<<10 {
		t.Errorf("source holds %d bytes, want at most %d", src.bytes, 64<<10)
	}
	if src.bytes != store.bytes {
		t.Errorf("store bytes %d, source bytes %d", store.bytes, src.bytes)
	}
}

func TestRunBoundTrimsNoisiestFirst(t *testing.T) {
	store := newLogStore(Limits{StepLines: 10_000, RunLines: 3000, StepBytes: 1 << 30, RunBytes: 1 << 30})
	quiet := store.source(stepKey(engine.StepRef{Index: 0, Name: "quiet"}), "quiet")
	noisy := store.source(stepKey(engine.StepRef{Index: 1, Name: "noisy"}), "noisy")
	for i := range 500 {
		store.append(quiet, engine.Stdout, fmt.Sprintf("quiet %d", i), t0)
	}
	for i := range 10_000 {
		store.append(noisy, engine.Stdout, fmt.Sprintf("noisy line %d", i), t0)
	}
	if store.lines > 3000 {
		t.Errorf("store holds %d lines, want at most 3000", store.lines)
	}
	if quiet.lines.len() != 500 {
		t.Errorf("quiet step keeps %d of 500 lines, want all", quiet.lines.len())
	}
	if noisy.lines.last().text != "noisy line 9999" {
		t.Errorf("noisy newest = %q", noisy.lines.last().text)
	}
}

func TestSliceCellsWideAndCombining(t *testing.T) {
	cases := []struct {
		name  string
		text  string
		skip  int
		width int
		want  string
	}{
		{"CJK fits", "宽字符", 0, 6, "宽字符"},
		{"CJK cut at right edge", "宽字符", 0, 5, "宽字 "},
		{"CJK cut at left edge", "宽字符", 1, 4, " 字 "},
		{"combining accent", "e\u0301e\u0301x", 0, 4, "e\u0301e\u0301x "},
		{"emoji", "a🙂b", 0, 3, "a🙂"},
		{"padding", "ab", 0, 4, "ab  "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := sliceCells(tc.text, 0, sgrState{}, tc.skip, tc.width, ansi.WcWidth)
			if got != tc.want {
				t.Errorf("sliceCells(%q, skip %d, width %d) = %q, want %q", tc.text, tc.skip, tc.width, got, tc.want)
			}
			if w := ansi.StringWidthWc(got); w != tc.width {
				t.Errorf("width = %d, want %d", w, tc.width)
			}
		})
	}
}

func TestSliceCellsCarriesSGR(t *testing.T) {
	got := sliceCells("\x1b[31mabc\x1b[1mdef", 0, sgrState{}, 4, 2, ansi.WcWidth)
	if want := "\x1b[1;31mef\x1b[m"; got != want {
		t.Errorf("sliceCells = %q, want %q", got, want)
	}
}

func TestWrapRowsMovesWideCharacter(t *testing.T) {
	rows := wrapRows("abc宽d", 4, ansi.WcWidth)
	if len(rows) != 2 || rows[1].off != 3 {
		t.Fatalf("rows = %+v, want the wide character to start row 2", rows)
	}
}

func TestRingLowerBound(t *testing.T) {
	var r logRing
	for i := 1; i <= 200; i++ {
		r.push(logLine{seq: uint64(i * 2)})
	}
	for range 50 {
		r.popFront()
	}
	if got := r.lowerBound(0); got != 0 {
		t.Errorf("lowerBound(0) = %d", got)
	}
	if got := r.at(r.lowerBound(201)).seq; got != 202 {
		t.Errorf("first seq >= 201 = %d, want 202", got)
	}
	if got := r.lowerBound(1000); got != r.len() {
		t.Errorf("lowerBound past the end = %d, want %d", got, r.len())
	}
}

func TestFormatCount(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 83616: "83,616", -1234567: "-1,234,567"} {
		if got := formatCount(n); got != want {
			t.Errorf("formatCount(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestStripANSI(t *testing.T) {
	cases := map[string]string{
		"plain text":                   "plain text",
		"\x1b[31mred\x1b[0m":           "red",
		"\x1b]0;title\x07after":        "after",
		"a\x1b[2Kb":                    "ab",
		"":                             "",
		"tab\tand ünïcode":             "tab\tand ünïcode",
		"\x1b[1;32mok\x1b[m \x1b[Kend": "ok end",
	}
	for in, want := range cases {
		if got := StripANSI(in); got != want {
			t.Errorf("StripANSI(%q) = %q, want %q", in, got, want)
		}
	}
}
