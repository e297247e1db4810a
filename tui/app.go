package tui

import (
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// Controller carries the user's requests from the app to whatever runs the
// pipeline. The app calls it from its update loop, so its methods must not
// block.
type Controller interface {
	// Interrupt stops the running pipeline: the first call gracefully, a
	// later one by force. It returns true when it forced a kill.
	Interrupt() bool
	// Rerun loads the pipeline's configuration again and, when it loads,
	// starts the pipeline with it once the current run has ended, stopping
	// that run first if it still runs. When the configuration does not
	// load, it returns the error and the current run goes on. It may read
	// files, so the app calls it from a command, never from Update.
	Rerun() error
}

// inputMode is the target of typed keys: the panes, the search query or the
// quit question.
type inputMode int

const (
	modeNormal inputMode = iota
	modeSearch
	modeConfirmQuit
)

// Timing of the app.
const (
	// tickInterval animates the spinner and the elapsed time while a run
	// is active.
	tickInterval = 100 * time.Millisecond
	// messageTime is how long a status message stays.
	messageTime = 6 * time.Second
	// wheelRows is how far one mouse wheel step scrolls.
	wheelRows = 3
	// hscrollStep is how far left and right scroll with wrapping off.
	hscrollStep = 8
)

// model is the app's Bubble Tea model. It owns focus and layout; the panes
// are drawn by its render methods from the run state and the log store.
// Update does no I/O: saving the log runs as a command.
type model struct {
	opts Options
	ctrl Controller
	keys keyMap
	help help.Model
	now  func() time.Time
	// next returns the next batch of engine events; nil without a bridge.
	next tea.Cmd

	width, height int
	method        ansi.Method
	layout        layout
	focus         paneID
	zoom          paneID // -1 when no pane is zoomed
	showHelp      bool
	mouseOff      bool

	run   runState
	runs  int
	store *logStore
	logs  *logView

	stepSel     int
	portsTop    int
	reloadsBack int

	mode    inputMode
	input   textinput.Model
	message string
	// messageSeq numbers the status messages; messageTimed is the last one
	// a clearing timer was started for.
	messageSeq   int
	messageTimed int
	messageTime  time.Duration
	quitAfterRun bool
	rerunPending bool
	ticking      bool
	// configNote is the status-bar text about the last change of
	// wercker.yml: the restart prompt, or the error when the file is
	// invalid (then configInvalid is set). It stays until a restart starts
	// or the file changes again.
	configNote    string
	configInvalid bool

	// sh is the terminal pane and the pause prompt (app_shell.go).
	sh shellState

	cache      [paneCount][]string
	dirty      [paneCount]bool
	frame      string
	frameDirty bool
}

func newModel(ctrl Controller, opts Options, next tea.Cmd) *model {
	store := newLogStore(opts.Limits)
	m := &model{
		opts: opts,
		ctrl: ctrl,
		keys: newKeyMap(opts.CanRerun),
		help: help.New(),
		now:  time.Now,
		next: next,
		zoom: -1,

		messageTime: messageTime,
		focus:       paneLogs,
		store:       store,
		logs:        newLogView(store),
		input:       textinput.New(),
	}
	m.input.Prompt = "/"
	m.input.CharLimit = 200
	m.frameDirty = true
	return m
}

// Init starts pulling engine events.
func (m *model) Init() tea.Cmd { return m.next }

// Update handles one message. A status message it sets gets a timer that
// clears it after messageTime.
func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	model, cmd := m.update(msg)
	if m.messageSeq != m.messageTimed {
		m.messageTimed = m.messageSeq
		seq := m.messageSeq
		clear := tea.Tick(m.messageTime, func(time.Time) tea.Msg { return clearMessageMsg{seq: seq} })
		cmd = tea.Batch(cmd, clear)
	}
	return model, cmd
}

// clearMessageMsg clears the status message number seq, unless a newer one
// replaced it.
type clearMessageMsg struct{ seq int }

func (m *model) update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case clearMessageMsg:
		if msg.seq == m.messageSeq && m.message != "" {
			m.message = ""
			m.frameDirty = true
		}
	case shellMsg:
		return m, m.updateShell(msg)
	case tea.BackgroundColorMsg, tea.ForegroundColorMsg:
		m.setTermColor(msg)
	case eventsMsg:
		m.run.dropped += msg.dropped
		quit := m.applyAllEvents(msg.events)
		return m, tea.Batch(quit, m.next, m.startTicking())
	case tickMsg:
		return m, m.tick()
	case tea.WindowSizeMsg:
		m.resize(msg.Width, msg.Height)
	case tea.KeyPressMsg:
		if cmd, used := m.shellKey(msg); used {
			return m, cmd
		}
		return m, m.handleKey(msg)
	case tea.PasteMsg:
		if m.shellPaste(msg) {
			return m, nil
		}
		if m.mode == modeSearch {
			var cmd tea.Cmd
			m.input, cmd = m.input.Update(msg)
			m.frameDirty = true
			return m, cmd
		}
	case tea.MouseWheelMsg:
		if !m.shellWheel(msg.Mouse()) {
			m.handleWheel(msg.Mouse())
		}
	case tea.MouseClickMsg:
		mouse := msg.Mouse()
		if p := m.layout.paneAt(mouse.X, mouse.Y); p >= 0 {
			m.setFocus(p)
		}
	case tea.ModeReportMsg:
		if msg.Mode == ansi.ModeUnicodeCore && (msg.Value == ansi.ModeSet || msg.Value == ansi.ModePermanentlySet || msg.Value == ansi.ModeReset) {
			// The renderer measures graphemes from now on; so must we.
			m.setMethod(ansi.GraphemeWidth)
		}
	case savedMsg:
		m.saved(msg)
	case rerunMsg:
		m.rerunDone(msg)
	case quitAfterRunMsg:
		m.quitAfterRun = true
		if !m.run.active() && !m.rerunPending {
			return m, tea.Quit
		}
	default:
		if m.mode == modeSearch {
			var cmd tea.Cmd
			m.input, cmd = m.input.Update(msg)
			m.frameDirty = true
			return m, cmd
		}
	}
	return m, nil
}

// tickMsg animates the spinner and the clock.
type tickMsg struct{}

// quitAfterRunMsg makes the app quit once the run has ended.
type quitAfterRunMsg struct{}

func (m *model) startTicking() tea.Cmd {
	if m.ticking || !m.run.active() {
		return nil
	}
	m.ticking = true
	return tea.Tick(tickInterval, func(time.Time) tea.Msg { return tickMsg{} })
}

func (m *model) tick() tea.Cmd {
	m.ticking = false
	m.touch(paneSteps)
	return m.startTicking()
}

func (m *model) resize(w, h int) {
	m.width, m.height = w, h
	m.help.SetWidth(w)
	m.relayout()
}

// relayout places the panes again after a change of size, zoom or content.
func (m *model) relayout() {
	m.layout = computeLayout(m.width, m.height, m.zoom, len(m.run.ports), len(m.run.reloads))
	m.layoutShell()
	r := m.layout.panes[paneLogs]
	if w, h := max(r.w-2, 1), max(r.h-2, 1); w != m.logs.width || h != m.logs.height {
		m.logs.width, m.logs.height = w, h
		m.logs.invalidate()
	}
	if !m.layout.visible(m.focus) {
		m.focus = paneLogs
	}
	m.touch(paneSteps, paneLogs, panePorts, paneReloads)
}

func (m *model) setMethod(method ansi.Method) {
	m.method = method
	m.store.method = method
	m.logs.method = method
	m.logs.invalidate()
	m.touch(paneSteps, paneLogs, panePorts, paneReloads)
}

// touch marks panes for drawing again.
func (m *model) touch(panes ...paneID) {
	for _, p := range panes {
		m.dirty[p] = true
	}
	m.frameDirty = true
}

func (m *model) setFocus(p paneID) {
	if p != m.focus {
		m.touch(m.focus, p)
		m.focus = p
		if m.zoom >= 0 {
			m.zoom = p
			m.relayout()
		}
	}
}

func (m *model) say(text string) {
	m.message = text
	m.messageSeq++
	m.frameDirty = true
}

// View draws the screen. Panes that did not change are reused from the
// last frame.
func (m *model) View() tea.View {
	if m.frameDirty {
		m.frame = m.compose()
		m.frameDirty = false
	}
	v := tea.NewView(m.frame)
	v.AltScreen = true
	v.Cursor = m.shellCursor()
	if !m.mouseOff {
		v.MouseMode = tea.MouseModeCellMotion
	}
	return v
}

// compose joins the panes, the status bar and the help bar into one frame.
func (m *model) compose() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	bodyH := m.height - barRows
	body := make([]strings.Builder, max(bodyH, 0))
	if m.showHelp {
		for i, row := range m.renderFullHelp(m.width, bodyH) {
			body[i].WriteString(row)
		}
	} else {
		// Left column first: rows are joined from left to right.
		for _, p := range [...]paneID{paneSteps, panePorts, paneReloads, paneLogs, paneShell} {
			if !m.layout.visible(p) {
				continue
			}
			r := m.layout.panes[p]
			if m.dirty[p] || len(m.cache[p]) != r.h {
				m.cache[p] = m.renderPane(p, r.w, r.h)
				m.dirty[p] = false
			}
			for i, row := range m.cache[p] {
				if r.y+i < len(body) {
					body[r.y+i].WriteString(row)
				}
			}
		}
	}
	var b strings.Builder
	for i := range body {
		b.WriteString(body[i].String())
		b.WriteByte('\n')
	}
	b.WriteString(m.statusBar(m.width))
	b.WriteByte('\n')
	b.WriteString(m.helpBarWithShell(m.width))
	return b.String()
}

// renderPane draws pane p in a box of w x h cells.
func (m *model) renderPane(p paneID, w, h int) []string {
	iw, ih := max(w-2, 0), max(h-2, 0)
	var inner []string
	var title, info string
	switch p {
	case paneSteps:
		title = "Steps"
		inner = m.withPausePrompt(m.renderSteps(iw, ih), iw)
	case paneLogs:
		title, info = m.logsTitle()
		inner = m.renderLogs(iw, ih)
	case panePorts:
		title = "Ports"
		inner = m.renderPorts(iw, ih)
	case paneReloads:
		title = "Reloads"
		inner = m.renderReloads(iw, ih)
	case paneShell:
		title, info = m.shellTitle()
		inner = m.renderShell(iw, ih)
	}
	return box(title, info, p == m.focus, inner, w, h, m.method)
}
