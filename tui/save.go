package tui

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// savedLine is one line of a log snapshot for saving.
type savedLine struct {
	time  int64
	label string
	text  string
	sgr   bool
}

// savedMsg reports the end of a save.
type savedMsg struct {
	path  string
	lines int
	err   error
}

// saveLog saves every kept line of the run, of all sources, as plain text
// under the working directory. The snapshot is taken here; the file is
// written by the returned command, outside the update loop.
func (m *model) saveLog() tea.Cmd {
	var lines []savedLine
	it := newLineIter(m.store.sources, 0)
	for l, src := it.next(); l != nil; l, src = it.next() {
		lines = append(lines, savedLine{time: l.time, label: src.label, text: l.text, sgr: l.flag&flagSGR != 0})
	}
	runID := m.run.started.RunID
	if runID == "" {
		runID = "run"
	}
	dir := filepath.Join(m.opts.WorkingDir, "logs")
	name := fmt.Sprintf("%s-screen-%s.log", runID, m.now().Format("150405"))
	m.say("saving the log…")
	return func() tea.Msg {
		path := filepath.Join(dir, name)
		err := writeLines(path, lines)
		return savedMsg{path: displayPath(path), lines: len(lines), err: err}
	}
}

func writeLines(path string, lines []savedLine) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, l := range lines {
		text := l.text
		if l.sgr {
			text = ansi.Strip(text)
		}
		fmt.Fprintf(w, "%s [%s] %s\n", time.Unix(0, l.time).Format("15:04:05.000"), l.label, text)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// saved shows where the log went, and whether it is complete.
func (m *model) saved(msg savedMsg) {
	if msg.err != nil {
		m.say(styleError + "saving the log failed: " + msg.err.Error() + sgrReset)
		return
	}
	text := fmt.Sprintf("saved %s lines to %s", formatCount(msg.lines), msg.path)
	if lost := m.store.trimmed + m.run.dropped; lost > 0 {
		text += fmt.Sprintf(" (%s older or dropped lines are only in the run log)", formatCount(lost))
	}
	m.say(text)
}

// displayPath returns path relative to the current directory when that is
// shorter.
func displayPath(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	if rel, err := filepath.Rel(wd, path); err == nil && len(rel) < len(path) {
		return rel
	}
	return path
}
