package tui

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"werk/engine"
)

// Limits bound the log lines the terminal UI keeps in memory. The run's log
// file under the working directory always has every line; these bounds only
// decide what can still be scrolled to on screen.
//
// Each step or service keeps at most StepLines lines and StepBytes bytes,
// dropping its own oldest lines first. The whole run keeps at most RunLines
// lines and RunBytes bytes. Past that, the oldest lines of the source with
// the most bytes go first, so one noisy step cannot push the output of the
// others out. Bytes count the text plus lineOverhead per line, so the
// byte bounds follow memory use.
type Limits struct {
	StepLines int
	StepBytes int
	RunLines  int
	RunBytes  int
	// LineBytes caps one line; the rest of a longer line is left out and
	// counted in a marker at its end.
	LineBytes int
}

// Default bounds. With them a run's log lines take at most about 48 MiB of
// memory.
const (
	DefaultStepLines = 100_000
	DefaultStepBytes = 16 << 20
	DefaultLineBytes = 16 << 10
	// runPerStep sets the whole run's bounds as a multiple of the per-step
	// ones when Limits leaves them zero.
	runPerStep = 3
)

// lineOverhead is the memory of one stored line besides its text: the
// logLine struct (40 bytes on 64-bit) and the string header's allocation
// rounding, as an estimate.
const lineOverhead = 48

// trimSlack is the fraction of a bound removed at once when it is exceeded,
// so trimming runs once per many appends instead of on every one.
const trimSlack = 64

// withDefaults fills zero fields with the defaults.
func (l Limits) withDefaults() Limits {
	if l.StepLines <= 0 {
		l.StepLines = DefaultStepLines
	}
	if l.StepBytes <= 0 {
		l.StepBytes = DefaultStepBytes
	}
	if l.RunLines <= 0 {
		l.RunLines = runPerStep * l.StepLines
	}
	if l.RunBytes <= 0 {
		l.RunBytes = runPerStep * l.StepBytes
	}
	if l.LineBytes <= 0 {
		l.LineBytes = DefaultLineBytes
	}
	if l.LineBytes > l.StepBytes {
		l.LineBytes = l.StepBytes
	}
	return l
}

// lineFlags describe a stored line.
type lineFlags uint8

const (
	flagStreamMask lineFlags = 3 // engine.Stream of the line
	flagSGR        lineFlags = 1 << 2
	flagASCII      lineFlags = 1 << 3
	flagMark       lineFlags = 1 << 4 // werk's own marker line: step started or finished
)

// logLine is one stored line. Lines of all sources share one sequence
// counter, so seq orders them as they arrived.
type logLine struct {
	seq  uint64
	time int64 // Unix nanoseconds
	text string
	flag lineFlags
}

func (l *logLine) stream() engine.Stream { return engine.Stream(l.flag & flagStreamMask) }

// sourceKind is the kind of a log source: werk itself, a step or a service.
type sourceKind uint8

const (
	sourceWerk sourceKind = iota
	sourceStep
	sourceService
)

// sourceKey identifies a log source: a step (by phase and index), a service,
// or werk itself.
type sourceKey struct {
	kind    sourceKind
	phase   engine.Phase
	index   int
	service string
}

func stepKey(ref engine.StepRef) sourceKey {
	return sourceKey{kind: sourceStep, phase: ref.Phase, index: ref.Index}
}

func serviceKey(alias string) sourceKey { return sourceKey{kind: sourceService, service: alias} }

var werkKey = sourceKey{kind: sourceWerk}

// logSource holds the lines of one source, oldest first.
type logSource struct {
	key   sourceKey
	label string
	color int
	lines logRing
	bytes int
	// carry is the SGR state at the end of the last line, per stream.
	carry [3]sgrState
}

// logStore keeps the log lines of one run within Limits.
type logStore struct {
	limits  Limits
	method  ansi.Method
	sources []*logSource
	byKey   map[sourceKey]*logSource
	seq     uint64
	lines   int
	bytes   int
	// trimmed counts lines removed to stay within the bounds.
	trimmed int
}

func newLogStore(l Limits) *logStore {
	return &logStore{limits: l.withDefaults(), byKey: map[sourceKey]*logSource{}}
}

// source returns the source of key, created with label on first use.
func (s *logStore) source(key sourceKey, label string) *logSource {
	if src, ok := s.byKey[key]; ok {
		if label != "" {
			src.label = label
		}
		return src
	}
	src := &logSource{key: key, label: label, color: len(s.sources)}
	s.sources = append(s.sources, src)
	s.byKey[key] = src
	return src
}

// append adds raw output to src, one stored line per \n-separated part,
// sanitized, and trims the store back within its bounds.
func (s *logStore) append(src *logSource, stream engine.Stream, raw string, at time.Time) {
	for {
		part, rest, more := strings.Cut(raw, "\n")
		s.appendOne(src, stream, part, at, 0)
		if !more {
			break
		}
		raw = rest
	}
	s.trim(src)
}

// appendMark adds one of werk's own lines (already safe to draw) to src.
func (s *logStore) appendMark(src *logSource, text string, at time.Time) {
	s.appendOne(src, engine.System, text, at, flagMark)
	s.trim(src)
}

func (s *logStore) appendOne(src *logSource, stream engine.Stream, raw string, at time.Time, extra lineFlags) {
	var clean cleanLine
	if extra&flagMark != 0 {
		clean = cleanLine{text: raw, sgr: true}
	} else {
		clean = sanitizeLine(raw, &src.carry[stream%3], s.limits.LineBytes, s.method)
	}
	text := clean.text
	flag := lineFlags(stream)&flagStreamMask | extra
	if clean.sgr {
		flag |= flagSGR
	}
	if clean.ascii {
		flag |= flagASCII
	}
	if clean.cut > 0 {
		text += sgrReset + "\x1b[2m … [" + formatCount(clean.cut) + " more bytes]" + sgrReset
		flag = flag&^flagASCII | flagSGR
	}
	s.seq++
	src.lines.push(logLine{seq: s.seq, time: at.UnixNano(), text: text, flag: flag})
	size := len(text) + lineOverhead
	src.bytes += size
	s.bytes += size
	s.lines++
}

// trim enforces the bounds after appends to src.
func (s *logStore) trim(src *logSource) {
	l := s.limits
	if src.lines.len() > l.StepLines || src.bytes > l.StepBytes {
		s.trimSource(src, l.StepLines-l.StepLines/trimSlack, l.StepBytes-l.StepBytes/trimSlack)
	}
	if s.lines <= l.RunLines && s.bytes <= l.RunBytes {
		return
	}
	lineGoal, byteGoal := l.RunLines-l.RunLines/trimSlack, l.RunBytes-l.RunBytes/trimSlack
	for s.lines > lineGoal || s.bytes > byteGoal {
		noisiest, runnerUp := s.noisiest()
		if noisiest == nil {
			return
		}
		// Drop the noisiest source's oldest lines until the goals are met or
		// it is no longer the noisiest; then look again.
		for noisiest.lines.len() > 0 && (s.lines > lineGoal || s.bytes > byteGoal) {
			s.dropOldest(noisiest)
			if noisiest.bytes < runnerUp {
				break
			}
		}
	}
}

// noisiest returns the non-empty source holding the most bytes, or nil,
// and the bytes of the next noisiest source.
func (s *logStore) noisiest() (*logSource, int) {
	var best *logSource
	runnerUp := 0
	for _, src := range s.sources {
		if src.lines.len() == 0 {
			continue
		}
		switch {
		case best == nil:
			best = src
		case src.bytes > best.bytes:
			runnerUp = best.bytes
			best = src
		case src.bytes > runnerUp:
			runnerUp = src.bytes
		}
	}
	return best, runnerUp
}

// trimSource drops the oldest lines of src until it has at most maxLines
// lines and maxBytes bytes.
func (s *logStore) trimSource(src *logSource, maxLines, maxBytes int) {
	for src.lines.len() > 0 && (src.lines.len() > maxLines || src.bytes > maxBytes) {
		s.dropOldest(src)
	}
}

func (s *logStore) dropOldest(src *logSource) {
	l := src.lines.popFront()
	size := len(l.text) + lineOverhead
	src.bytes -= size
	s.bytes -= size
	s.lines--
	s.trimmed++
}

// formatCount writes n with thousands separators: 83616 -> "83,616".
func formatCount(n int) string {
	digits := strconv.Itoa(n)
	sign := ""
	if n < 0 {
		sign, digits = "-", digits[1:]
	}
	var b strings.Builder
	b.WriteString(sign)
	for i := range len(digits) {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(digits[i])
	}
	return b.String()
}

// logRing is a FIFO of lines in a growable circular buffer.
type logRing struct {
	buf  []logLine
	head int
	n    int
}

func (r *logRing) len() int { return r.n }

// at returns the i-th oldest line.
func (r *logRing) at(i int) *logLine { return &r.buf[(r.head+i)&(len(r.buf)-1)] }

func (r *logRing) push(l logLine) {
	if r.n == len(r.buf) {
		r.grow()
	}
	r.buf[(r.head+r.n)&(len(r.buf)-1)] = l
	r.n++
}

func (r *logRing) popFront() logLine {
	l := r.buf[r.head]
	r.buf[r.head] = logLine{}
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.n--
	if r.n == 0 {
		r.head = 0
	}
	return l
}

func (r *logRing) grow() {
	size := max(64, 2*len(r.buf))
	buf := make([]logLine, size)
	for i := 0; i < r.n; i++ {
		buf[i] = *r.at(i)
	}
	r.buf, r.head = buf, 0
}

// lowerBound returns the index of the first line with seq >= seq.
func (r *logRing) lowerBound(seq uint64) int {
	return sort.Search(r.n, func(i int) bool { return r.at(i).seq >= seq })
}

// last returns the newest line, or nil.
func (r *logRing) last() *logLine {
	if r.n == 0 {
		return nil
	}
	return r.at(r.n - 1)
}
