package tui

import (
	"sort"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// maxMatches bounds the matches a search remembers; later ones are still
// highlighted but n and N do not reach them.
const maxMatches = 100_000

// search is the logs pane's search: a query and the lines that match it, in
// arrival order. A query without capital letters ignores ASCII case.
type search struct {
	query string
	fold  bool
	// needle is the query as compared: lower case when fold is set.
	needle  string
	matches []match
	// current is the index in matches of the match shown last, or -1.
	current int
}

type match struct {
	seq uint64
	src *logSource
}

func newSearch(query string) *search {
	fold := query == strings.ToLower(query)
	needle := query
	if fold {
		needle = asciiLower(query)
	}
	return &search{query: query, fold: fold, needle: needle, current: -1}
}

// asciiLower lowers ASCII letters only, so byte offsets stay the same.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// visible returns the text of l without SGR sequences.
func visible(l *logLine) string {
	if l.flag&flagSGR == 0 {
		return l.text
	}
	return ansi.Strip(l.text)
}

func (s *search) matchesText(text string) bool {
	if s.fold {
		return indexFold(text, s.needle) >= 0
	}
	return strings.Contains(text, s.needle)
}

// indexFold is strings.Index ignoring ASCII case; needle is lower case.
func indexFold(text, needle string) int {
	if needle == "" {
		return 0
	}
	first := needle[0]
	upper := first
	if first >= 'a' && first <= 'z' {
		upper = first - ('a' - 'A')
	}
	for i := 0; i+len(needle) <= len(text); i++ {
		if c := text[i]; c != first && c != upper {
			continue
		}
		if equalFold(text[i:i+len(needle)], needle) {
			return i
		}
	}
	return -1
}

func equalFold(a, lower string) bool {
	for i := 0; i < len(lower); i++ {
		c := a[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// scan collects the matches among the lines of store.
func (s *search) scan(store *logStore) {
	s.matches = s.matches[:0]
	for _, src := range store.sources {
		for i := 0; i < src.lines.len(); i++ {
			if l := src.lines.at(i); s.matchesText(visible(l)) {
				s.matches = append(s.matches, match{seq: l.seq, src: src})
			}
		}
	}
	sort.Slice(s.matches, func(i, j int) bool { return s.matches[i].seq < s.matches[j].seq })
	if len(s.matches) > maxMatches {
		s.matches = s.matches[len(s.matches)-maxMatches:]
	}
	s.current = -1
}

// add records l when it matches; lines arrive in seq order.
func (s *search) add(l *logLine, src *logSource) {
	if len(s.matches) < maxMatches && s.matchesText(visible(l)) {
		s.matches = append(s.matches, match{seq: l.seq, src: src})
	}
}

// live reports whether m is in the view and not trimmed.
func live(m match, filter *logSource) bool {
	if filter != nil && m.src != filter {
		return false
	}
	return m.src.lines.len() > 0 && m.src.lines.at(0).seq <= m.seq
}

// after returns the index of the first live match with seq > seq, or -1.
func (s *search) after(seq uint64, filter *logSource) int {
	i := sort.Search(len(s.matches), func(i int) bool { return s.matches[i].seq > seq })
	for ; i < len(s.matches); i++ {
		if live(s.matches[i], filter) {
			return i
		}
	}
	return -1
}

// before returns the index of the last live match with seq < seq, or -1.
func (s *search) before(seq uint64, filter *logSource) int {
	i := sort.Search(len(s.matches), func(i int) bool { return s.matches[i].seq >= seq }) - 1
	for ; i >= 0; i-- {
		if live(s.matches[i], filter) {
			return i
		}
	}
	return -1
}

// count returns the live matches in the view and the 1-based number of the
// current one (0 when none is current).
func (s *search) count(filter *logSource) (number, total int) {
	for i, m := range s.matches {
		if live(m, filter) {
			total++
			if i == s.current {
				number = total
			}
		}
	}
	return number, total
}

// highlight shows the matches in one drawn row in reverse video. Matches
// are found in the row's visible text, so one that wraps onto the next row
// is not highlighted.
func (s *search) highlight(row string) string {
	var plain strings.Builder
	var offsets []int // offsets[i] is the byte in row of byte i of plain
	for i := 0; i < len(row); {
		if row[i] == 0x1b {
			i = sgrEnd(row, i)
			continue
		}
		plain.WriteByte(row[i])
		offsets = append(offsets, i)
		i++
	}
	text := plain.String()
	if s.fold {
		text = asciiLower(text)
	}
	var b strings.Builder
	last := 0
	for from := 0; from < len(text); {
		j := strings.Index(text[from:], s.needle)
		if j < 0 || s.needle == "" {
			break
		}
		start, end := from+j, from+j+len(s.needle)
		b.WriteString(row[last:offsets[start]])
		b.WriteString("\x1b[7m")
		endOff := len(row)
		if end < len(offsets) {
			endOff = offsets[end]
		}
		b.WriteString(row[offsets[start]:endOff])
		b.WriteString("\x1b[27m")
		last = endOff
		from = end
	}
	if last == 0 {
		return row
	}
	b.WriteString(row[last:])
	return b.String()
}
