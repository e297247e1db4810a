package tui

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"os/exec"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	uv "github.com/charmbracelet/ultraviolet"

	"werk/engine"
)

// This file adds the terminal pane and the pause prompt of step-by-step
// debugging to the app. The engine opens terminals through App.Terminals
// and waits at pauses through App.Debugger. Both reach the model as
// messages.

// SteppingController is implemented by controllers whose runs can pause
// before each step. The stepping key uses it.
type SteppingController interface {
	Stepping() bool
	SetStepping(on bool)
}

// shellState is the model's terminal pane and pause prompt.
type shellState struct {
	view  *shellView
	pause *pauseState
	// fg and bg are the real terminal's colours, once it reported them.
	fg, bg      color.Color
	askedColors bool
}

// shellView is the open terminal pane.
type shellView struct {
	pane *termPane
	snap *screenSnapshot
	// back is how many rows the view is scrolled into the scrollback; 0
	// follows the screen.
	back int
	// ringSeen is the scrollback length at the last frame, to keep a
	// scrolled view in place while lines arrive.
	ringSeen int
	// prefix is set after the prefix key, scrolling in scrollback mode.
	prefix    bool
	scrolling bool
	// before is the pane that had focus when the shell opened.
	before paneID
}

// pauseState is a pause waiting for the user's choice.
type pauseState struct {
	pause engine.Pause
	reply chan engine.DebugAction
}

// shellMsg is implemented by the messages of this file.
type shellMsg interface{ shellMsg() }

// openPaneMsg requests the terminal pane. The model replies with the pane,
// or nil when one is open already.
type openPaneMsg struct {
	title string
	reply chan *termPane
}

// paneFrameMsg signals that a pane has a new frame.
type paneFrameMsg struct{ pane *termPane }

// paneClosedMsg signals that a pane was closed.
type paneClosedMsg struct{ pane *termPane }

// pauseMsg carries a pause to the prompt; the user's choice goes to reply.
type pauseMsg struct {
	pause engine.Pause
	reply chan engine.DebugAction
}

func (openPaneMsg) shellMsg()   {}
func (paneFrameMsg) shellMsg()  {}
func (paneClosedMsg) shellMsg() {}
func (pauseMsg) shellMsg()      {}

// updateShell handles the messages of this file.
func (m *model) updateShell(msg shellMsg) tea.Cmd {
	switch msg := msg.(type) {
	case openPaneMsg:
		return m.openPane(msg)
	case paneFrameMsg:
		v := m.sh.view
		if v == nil || v.pane != msg.pane {
			return nil
		}
		v.snap = v.pane.snapshot()
		if n := v.pane.scrollbackLen(); v.back > 0 {
			v.back = min(v.back+n-v.ringSeen, n)
			v.ringSeen = n
		} else {
			v.ringSeen = n
		}
		m.touch(paneShell)
		return waitFrame(v.pane)
	case paneClosedMsg:
		if v := m.sh.view; v != nil && v.pane == msg.pane {
			m.closePane()
		}
	case pauseMsg:
		m.sh.pause = &pauseState{pause: msg.pause, reply: msg.reply}
		m.touch(paneSteps)
	}
	return nil
}

// openPane lays out the terminal pane, gives it focus and starts it at its
// exact inner size.
func (m *model) openPane(msg openPaneMsg) tea.Cmd {
	if m.sh.view != nil {
		msg.reply <- nil
		return nil
	}
	v := &shellView{before: m.focus}
	m.sh.view = v
	if m.zoom >= 0 {
		m.zoom = -1
	}
	// The pane does not exist yet, so relayout does not resize it.
	m.relayout()
	r := m.layout.panes[paneShell]
	v.pane = newTermPane(msg.title, max(r.w-2, 1), max(r.h-2, 1), DefaultScrollbackLines)
	v.pane.setColors(m.sh.fg, m.sh.bg)
	v.snap = v.pane.snapshot()
	m.setFocus(paneShell)
	m.touch(paneShell, paneSteps)
	msg.reply <- v.pane
	cmds := []tea.Cmd{waitFrame(v.pane)}
	if !m.sh.askedColors {
		m.sh.askedColors = true
		cmds = append(cmds, tea.RequestBackgroundColor, tea.RequestForegroundColor)
	}
	return tea.Batch(cmds...)
}

// closePane removes the terminal pane and gives focus back.
func (m *model) closePane() {
	v := m.sh.view
	m.sh.view = nil
	if m.zoom == paneShell {
		m.zoom = -1
	}
	m.relayout()
	if m.focus == paneShell {
		m.focus = v.before
		if !m.layout.visible(m.focus) {
			m.focus = paneLogs
		}
	}
	m.touch(paneSteps, paneLogs, panePorts, paneReloads)
}

// waitFrame waits for the pane's next frame or its end.
func waitFrame(p *termPane) tea.Cmd {
	return func() tea.Msg {
		select {
		case <-p.frames:
			return paneFrameMsg{pane: p}
		case <-p.done:
			return paneClosedMsg{pane: p}
		}
	}
}

// layoutShell places the terminal pane under the logs pane, taking two
// thirds of its height, and resizes the pane's terminal to the inner area.
// Zoom gives the pane the whole body.
func (m *model) layoutShell() {
	v := m.sh.view
	if v == nil {
		m.layout.panes[paneShell] = rect{}
		return
	}
	if m.zoom < 0 {
		logs := m.layout.panes[paneLogs]
		logsH := max(logs.h/3, 5)
		if logs.h-logsH < 5 {
			logsH = 0
		}
		m.layout.panes[paneLogs] = rect{logs.x, logs.y, logs.w, logsH}
		m.layout.panes[paneShell] = rect{logs.x, logs.y + logsH, logs.w, logs.h - logsH}
	}
	r := m.layout.panes[paneShell]
	if v.pane != nil && m.layout.visible(paneShell) {
		v.pane.setSize(r.w-2, r.h-2)
	}
	m.touch(paneShell)
}

// setTermColor records a colour the real terminal reported and passes it
// on to the open pane.
func (m *model) setTermColor(msg tea.Msg) {
	switch c := msg.(type) {
	case tea.BackgroundColorMsg:
		m.sh.bg = c.Color
	case tea.ForegroundColorMsg:
		m.sh.fg = c.Color
	}
	if v := m.sh.view; v != nil {
		v.pane.setColors(m.sh.fg, m.sh.bg)
	}
}

// shellFocused reports whether keys go to the terminal pane.
func (m *model) shellFocused() bool {
	return m.sh.view != nil && m.focus == paneShell && m.mode == modeNormal && !m.showHelp
}

// shellKey handles a key before the app's own bindings: keys for the
// focused terminal pane, the prefix key's commands, the pause prompt's
// answers and the stepping switch. It reports whether it used the key.
func (m *model) shellKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	if m.shellFocused() {
		return m.paneKey(msg), true
	}
	if m.mode != modeNormal || m.showHelp {
		return nil, false
	}
	if m.sh.pause != nil {
		if m.pauseKey(msg) {
			return nil, true
		}
	}
	if key.Matches(msg, m.keys.Stepping) {
		m.toggleStepping()
		return nil, true
	}
	return nil, false
}

// paneKey handles a key while the terminal pane has focus.
func (m *model) paneKey(msg tea.KeyPressMsg) tea.Cmd {
	v := m.sh.view
	k := m.keys
	m.frameDirty = true
	switch {
	case v.prefix:
		v.prefix = false
		switch {
		case key.Matches(msg, k.ShellFocus):
			m.cycleFocus(1)
		case key.Matches(msg, k.ShellZoom):
			m.toggleZoom()
		case key.Matches(msg, k.ShellScroll):
			v.scrolling = true
			if msg.String() == "pgup" {
				m.scrollShell(m.shellPage())
			}
		case key.Matches(msg, k.ShellHelp):
			m.showHelp = true
		case key.Matches(msg, k.ShellPrefix):
			v.pane.sendKey(uv.KeyPressEvent(uv.Key(msg)))
		}
		m.touch(paneShell)
		return nil
	case key.Matches(msg, k.ShellPrefix):
		v.prefix = true
		m.touch(paneShell)
		return nil
	case v.scrolling:
		page := m.shellPage()
		switch {
		case key.Matches(msg, k.Up):
			m.scrollShell(1)
		case key.Matches(msg, k.Down):
			m.scrollShell(-1)
		case key.Matches(msg, k.PageUp):
			m.scrollShell(page)
		case key.Matches(msg, k.PageDown):
			m.scrollShell(-page)
		case key.Matches(msg, k.Top):
			m.scrollShell(v.pane.scrollbackLen())
		case msg.String() == "q" || msg.String() == "esc" || key.Matches(msg, k.Bottom):
			v.scrolling = false
			v.back = 0
		default:
			// Typing returns to the live screen.
			v.scrolling = false
			v.back = 0
			v.pane.sendKey(uv.KeyPressEvent(uv.Key(msg)))
		}
		m.touch(paneShell)
		return nil
	}
	if v.back > 0 {
		v.back = 0
		m.touch(paneShell)
	}
	v.pane.sendKey(uv.KeyPressEvent(uv.Key(msg)))
	return nil
}

// shellPage is one page of the terminal pane.
func (m *model) shellPage() int {
	return max(m.layout.panes[paneShell].h-3, 1)
}

// scrollShell moves the terminal pane's view n rows into the scrollback
// (negative: towards the screen).
func (m *model) scrollShell(n int) {
	v := m.sh.view
	if v == nil {
		return
	}
	v.ringSeen = v.pane.scrollbackLen()
	v.back = clamp(v.back+n, 0, v.ringSeen)
	m.touch(paneShell)
}

// shellPaste sends pasted text to the focused terminal pane.
func (m *model) shellPaste(msg tea.PasteMsg) bool {
	if !m.shellFocused() {
		return false
	}
	m.sh.view.pane.paste(msg.Content)
	return true
}

// shellWheel scrolls the terminal pane when the wheel turns over it.
func (m *model) shellWheel(mouse tea.Mouse) bool {
	if m.sh.view == nil || m.showHelp || m.layout.paneAt(mouse.X, mouse.Y) != paneShell {
		return false
	}
	switch mouse.Button {
	case tea.MouseWheelUp:
		m.scrollShell(wheelRows)
	case tea.MouseWheelDown:
		m.scrollShell(-wheelRows)
	}
	return true
}

// shellTitle returns the title and info of the terminal pane's border.
func (m *model) shellTitle() (string, string) {
	v := m.sh.view
	if v == nil {
		return "Shell", ""
	}
	title := "Shell: " + sanitizeName(v.pane.title)
	switch {
	case v.prefix:
		return title, styleWarn + "ctrl+b: tab focus · z zoom · [ scroll · ? keys" + sgrReset
	case v.scrolling || v.back > 0:
		return title, styleYellow + fmt.Sprintf("scrollback %d/%d · q returns", v.back, v.ringSeen) + sgrReset
	case m.focus == paneShell:
		return title, styleDim + "ctrl+b then tab leaves" + sgrReset
	}
	return title, ""
}

// renderShell draws the terminal pane's inner area: the emulator's screen,
// or scrollback rows above it when the view is scrolled.
func (m *model) renderShell(w, h int) []string {
	out := make([]string, 0, h)
	v := m.sh.view
	var screen []string
	if v != nil && v.snap != nil {
		screen = v.snap.lines
	}
	if v != nil && v.back > 0 {
		ring := v.pane.scrollbackLen()
		back := min(v.back, ring)
		// The view is a window on the scrollback followed by the screen,
		// ending back rows above the screen's last row.
		end := ring + len(screen) - back
		start := end - h
		var hist []string
		if start < ring {
			hist = v.pane.scrollbackLines(max(start, 0), ring-max(start, 0))
		}
		for i := start; i < end; i++ {
			switch {
			case i < 0:
				out = append(out, strings.Repeat(" ", w))
			case i < ring:
				if j := i - max(start, 0); j < len(hist) {
					out = append(out, fit(hist[j], w, m.method))
				} else {
					out = append(out, strings.Repeat(" ", w))
				}
			default:
				out = append(out, m.shellRow(screen[i-ring], w))
			}
		}
		return out
	}
	for y := range h {
		if y < len(screen) {
			out = append(out, m.shellRow(screen[y], w))
		} else {
			out = append(out, strings.Repeat(" ", w))
		}
	}
	return out
}

// shellRow fits a screen row into the pane. Rows already have the pane's
// width except for a frame drawn before a resize reached the emulator.
func (m *model) shellRow(line string, w int) string {
	if v := m.sh.view; v != nil && v.snap != nil && v.snap.cols == w {
		return line
	}
	return fit(line, w, m.method)
}

// shellCursor places the real cursor on the emulator's cursor while the
// terminal pane has focus and shows the live screen.
func (m *model) shellCursor() *tea.Cursor {
	v := m.sh.view
	if !m.shellFocused() || v.snap == nil || v.back > 0 || !v.snap.cursorVisible || !m.layout.visible(paneShell) {
		return nil
	}
	r := m.layout.panes[paneShell]
	x, y := v.snap.cursor.X, v.snap.cursor.Y
	if x < 0 || y < 0 || x >= r.w-2 || y >= r.h-2 {
		return nil
	}
	return tea.NewCursor(r.x+1+x, r.y+1+y)
}

// pauseKey sends the choice bound to the key, when it is one of the
// pause's choices, and reports whether it was.
func (m *model) pauseKey(msg tea.KeyPressMsg) bool {
	p := m.sh.pause
	for _, a := range p.pause.Actions {
		if key.Matches(msg, m.pauseBinding(a)) {
			select {
			case p.reply <- a:
			default:
			}
			m.sh.pause = nil
			m.touch(paneSteps)
			return true
		}
	}
	return false
}

// pauseBinding returns the key of a pause choice.
func (m *model) pauseBinding(a engine.DebugAction) key.Binding {
	k := m.keys
	return [...]key.Binding{k.PauseRun, k.PauseSkip, k.PauseShell, k.PauseContinue, k.PauseRetry, k.PauseAbort}[a]
}

// pauseBindings returns the keys of the current pause's answers.
func (m *model) pauseBindings() []key.Binding {
	var out []key.Binding
	if p := m.sh.pause; p != nil {
		for _, a := range p.pause.Actions {
			out = append(out, m.pauseBinding(a))
		}
	}
	return out
}

// toggleStepping turns pausing before each step on or off.
func (m *model) toggleStepping() {
	sc, ok := m.ctrl.(SteppingController)
	if !ok {
		m.say("this run cannot pause between steps")
		return
	}
	on := !sc.Stepping()
	sc.SetStepping(on)
	if on {
		m.say("stepping on: the run pauses before each step")
	} else {
		m.say("stepping off")
	}
}

// applyAllEvents applies a batch of engine events in order: the events of
// step-by-step debugging here, the others with applyEvents.
func (m *model) applyAllEvents(events []engine.Event) tea.Cmd {
	var cmds []tea.Cmd
	from := 0
	for i, e := range events {
		switch e.(type) {
		case engine.Paused, engine.Resumed:
		default:
			continue
		}
		if from < i {
			cmds = append(cmds, m.applyEvents(events[from:i]))
		}
		m.applyDebugEvent(e)
		from = i + 1
	}
	if from < len(events) {
		cmds = append(cmds, m.applyEvents(events[from:]))
	}
	m.touch(paneSteps)
	return tea.Batch(cmds...)
}

// applyDebugEvent shows a pause in the steps pane and the logs.
func (m *model) applyDebugEvent(e engine.Event) {
	switch v := e.(type) {
	case engine.Paused:
		if i := m.run.stepIndex(v.Step); i >= 0 && v.Reason != engine.PauseFailure {
			m.run.steps[i].status = engine.StepPaused
		}
		text := styleYellow + "paused " + pauseText(v.Reason) + " " + m.run.stepLabel(v.Step) + " " + sanitizeName(v.Step.Name) + sgrReset
		m.mark(m.stepSource(v.Step), text, v.Time)
	case engine.Resumed:
		if i := m.run.stepIndex(v.Step); i >= 0 && m.run.steps[i].status == engine.StepPaused {
			m.run.steps[i].status = engine.StepWaiting
		}
		if p := m.sh.pause; p != nil && p.pause.Step == v.Step {
			m.sh.pause = nil
		}
		m.mark(m.stepSource(v.Step), styleDim+"resumed: "+v.Action.String()+sgrReset, v.Time)
	}
}

func pauseText(reason string) string {
	switch reason {
	case engine.PauseFailure:
		return "after the failure of"
	case engine.PauseBreakpoint:
		return "at the breakpoint before"
	}
	return "before"
}

// withPausePrompt draws the pause prompt, or the open shell's title, over
// the last rows of the steps pane.
func (m *model) withPausePrompt(rows []string, w int) []string {
	p := m.sh.pause
	if p == nil && m.sh.view != nil && len(rows) >= 2 {
		out := append([]string(nil), rows...)
		out[len(out)-1] = fit(styleCyan+"▶ shell open: "+sanitizeName(m.sh.view.pane.title)+sgrReset, w, m.method)
		return out
	}
	if p == nil || len(rows) < 3 {
		return rows
	}

	lines := []string{styleWarn + "‖ paused " + pauseText(p.pause.Reason) + sgrReset}
	lines = append(lines, " "+sanitizeName(p.pause.Step.Name))
	var b strings.Builder
	for _, kb := range m.pauseBindings() {
		part := styleHelpKey + kb.Help().Key + sgrReset + " " + kb.Help().Desc
		if b.Len() > 0 && textWidth(b.String(), m.method)+3+textWidth(part, m.method) > w-1 {
			lines = append(lines, " "+b.String())
			b.Reset()
		}
		if b.Len() > 0 {
			b.WriteString(" · ")
		}
		b.WriteString(part)
	}
	if b.Len() > 0 {
		lines = append(lines, " "+b.String())
	}

	if len(lines) > len(rows) {
		lines = lines[:len(rows)]
	}
	out := append([]string(nil), rows...)
	start := len(out) - len(lines)
	for i, l := range lines {
		out[start+i] = fit(l, w, m.method)
	}
	return out
}

// helpBarWithShell draws the help bar: the pause's keys while the run is
// paused, else the focused pane's keys.
func (m *model) helpBarWithShell(w int) string {
	if m.sh.pause != nil && !m.shellFocused() && m.mode == modeNormal {
		return fit(" "+styleWarn+"paused"+sgrReset+" "+m.help.ShortHelpView(m.pauseBindings()), w, m.method)
	}
	return m.helpBar(w)
}

// paneHost opens terminals as panes of the app.
type paneHost struct{ app *App }

// Terminals returns the terminal host that opens a terminal pane in the app
// for each interactive program of a run.
func (a *App) Terminals() engine.TerminalHost { return paneHost{app: a} }

// OpenTerminal opens the terminal pane, which takes focus, and returns it
// at its final size.
func (h paneHost) OpenTerminal(ctx context.Context, title string) (engine.Terminal, error) {
	reply := make(chan *termPane, 1)
	go h.app.program.Send(openPaneMsg{title: title, reply: reply})
	select {
	case p := <-reply:
		if p == nil {
			return nil, errors.New("a terminal pane is open already; exit its program first")
		}
		// The pane closes with the app, so the program's input ends and
		// the engine stops the program.
		go func() {
			select {
			case <-h.app.bridge.done:
				p.Close()
			case <-p.closing:
			}
		}()
		return p, nil
	case <-ctx.Done():
		go func() {
			select {
			case p := <-reply:
				if p != nil {
					p.Close()
				}
			case <-h.app.bridge.done:
			}
		}()
		return nil, context.Cause(ctx)
	case <-h.app.bridge.done:
		return nil, engine.ErrNoTerminal
	}
}

// paneDebugger asks the user at pauses with the steps pane's prompt.
type paneDebugger struct{ app *App }

// Debugger returns the debugger that shows the run's pauses in the app and
// answers them with the user's keys.
func (a *App) Debugger() engine.Debugger { return paneDebugger{app: a} }

// Pause shows the prompt and waits for the answer. When the app has quit, the
// answer is abort.
func (d paneDebugger) Pause(ctx context.Context, p engine.Pause) (engine.DebugAction, error) {
	reply := make(chan engine.DebugAction, 1)
	go d.app.program.Send(pauseMsg{pause: p, reply: reply})
	select {
	case a := <-reply:
		return a, nil
	case <-ctx.Done():
		return engine.DebugAbort, context.Cause(ctx)
	case <-d.app.bridge.done:
		return engine.DebugAbort, nil
	}
}

// RunLocal runs cmd on a pseudo-terminal in a terminal pane of the app and
// returns its exit status once it exits; the pane closes then.
func (a *App) RunLocal(ctx context.Context, title string, cmd *exec.Cmd) (int, error) {
	t, err := a.Terminals().OpenTerminal(ctx, title)
	if err != nil {
		return -1, err
	}
	return t.(*termPane).runLocal(cmd)
}
