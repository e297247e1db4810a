package tui

import "charm.land/bubbles/v2/key"

// keyMap holds every key binding of the app; the help bar and the full help
// are generated from it.
type keyMap struct {
	NextPane key.Binding
	PrevPane key.Binding
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Top      key.Binding
	Bottom   key.Binding
	Left     key.Binding
	Right    key.Binding
	Zoom     key.Binding

	Select     key.Binding
	Filter     key.Binding
	AllSources key.Binding
	Search     key.Binding
	NextMatch  key.Binding
	PrevMatch  key.Binding
	Timestamps key.Binding
	Wrap       key.Binding
	Save       key.Binding
	Mouse      key.Binding

	Rerun     key.Binding
	Interrupt key.Binding
	Quit      key.Binding
	Help      key.Binding

	// The terminal pane takes every key but its prefix key; the Shell*
	// bindings after the prefix are the pane's own commands.
	ShellPrefix key.Binding
	ShellFocus  key.Binding
	ShellZoom   key.Binding
	ShellScroll key.Binding
	ShellHelp   key.Binding

	// Pause* answer a pause of step-by-step debugging; Stepping turns the
	// pause before each step on and off.
	PauseRun      key.Binding
	PauseSkip     key.Binding
	PauseShell    key.Binding
	PauseContinue key.Binding
	PauseRetry    key.Binding
	PauseAbort    key.Binding
	Stepping      key.Binding

	// canRerun shows the rerun key in the help (werk dev); elsewhere the key
	// only explains that it does nothing.
	canRerun bool
}

func newKeyMap(canRerun bool) keyMap {
	k := keyMap{
		NextPane: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next pane")),
		PrevPane: key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous pane")),
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "b"), key.WithHelp("pgup/b", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "space"), key.WithHelp("pgdn/space", "page down")),
		Top:      key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("home/g", "oldest line")),
		Bottom:   key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("end/G", "follow the tail")),
		Left:     key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←/h", "scroll left")),
		Right:    key.NewBinding(key.WithKeys("right", "l"), key.WithHelp("→/l", "scroll right")),
		Zoom:     key.NewBinding(key.WithKeys("z"), key.WithHelp("z", "zoom pane")),

		Select:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "logs of the selected step")),
		Filter:     key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "logs of the next source")),
		AllSources: key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "logs of all sources")),
		Search:     key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "search")),
		NextMatch:  key.NewBinding(key.WithKeys("n"), key.WithHelp("n/N", "next/previous match")),
		PrevMatch:  key.NewBinding(key.WithKeys("N"), key.WithHelp("N", "previous match")),
		Timestamps: key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "timestamps")),
		Wrap:       key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "wrap")),
		Save:       key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "save log")),
		Mouse:      key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "mouse on/off")),

		Rerun:     key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "rerun")),
		Interrupt: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "stop (twice: kill)")),
		Quit:      key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "all keys")),

		ShellPrefix: key.NewBinding(key.WithKeys("ctrl+b"), key.WithHelp("ctrl+b", "shell prefix key")),
		ShellFocus:  key.NewBinding(key.WithKeys("tab", "o"), key.WithHelp("ctrl+b tab", "leave the shell")),
		ShellZoom:   key.NewBinding(key.WithKeys("z"), key.WithHelp("ctrl+b z", "zoom the shell")),
		ShellScroll: key.NewBinding(key.WithKeys("[", "pgup"), key.WithHelp("ctrl+b [", "shell scrollback")),
		ShellHelp:   key.NewBinding(key.WithKeys("?"), key.WithHelp("ctrl+b ?", "all keys")),

		PauseRun:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "run the step")),
		PauseSkip:     key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "skip")),
		PauseShell:    key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "shell")),
		PauseContinue: key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "continue")),
		PauseRetry:    key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "retry")),
		PauseAbort:    key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "abort")),
		Stepping:      key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "stepping on/off")),
	}
	k.canRerun = canRerun
	return k
}

// shortHelp returns the bindings of the help bar for the focused pane.
func (k keyMap) shortHelp(focus paneID) []key.Binding {
	var b []key.Binding
	switch focus {
	case paneLogs:
		b = []key.Binding{k.Help, k.Search, k.NextMatch, k.Filter, k.Bottom, k.Wrap, k.Timestamps, k.Save, k.Zoom, k.NextPane, k.Rerun, k.Quit}
	case paneSteps:
		b = []key.Binding{k.Help, k.Select, k.AllSources, k.Zoom, k.NextPane, k.Rerun, k.Interrupt, k.Quit}
	case paneShell:
		b = []key.Binding{k.ShellPrefix, k.ShellFocus, k.ShellZoom, k.ShellScroll, k.ShellHelp}
	default:
		b = []key.Binding{k.Help, k.Up, k.Down, k.Zoom, k.NextPane, k.Rerun, k.Quit}
	}
	return k.shown(b)
}

// shown leaves out the rerun key where it does nothing.
func (k keyMap) shown(bindings []key.Binding) []key.Binding {
	out := bindings[:0:0]
	for _, b := range bindings {
		if k.canRerun || b.Help().Key != k.Rerun.Help().Key {
			out = append(out, b)
		}
	}
	return out
}

// fullHelp returns the bindings of the full help, in columns.
func (k keyMap) fullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.NextPane, k.PrevPane, k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, k.Left, k.Right, k.Zoom},
		{k.Select, k.Filter, k.AllSources, k.Search, k.NextMatch, k.Timestamps, k.Wrap, k.Save, k.Mouse},
		k.shown([]key.Binding{k.Rerun, k.Interrupt, k.Quit, k.Help}),
		{k.ShellPrefix, k.ShellFocus, k.ShellZoom, k.ShellScroll, k.Stepping},
	}
}
