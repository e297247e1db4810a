package tui

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"werk/engine"
)

// applyEvents updates the model with a batch of engine events.
func (m *model) applyEvents(events []engine.Event) tea.Cmd {
	var cmd tea.Cmd
	ports, reloads := len(m.run.ports), len(m.run.reloads)
	for _, e := range events {
		// Batch keeps every command: a batch may hold a restart request
		// and the end of the run.
		cmd = tea.Batch(cmd, m.applyEvent(e))
	}
	if len(m.run.ports) != ports || len(m.run.reloads) != reloads {
		// The ports and reloads panes grow with their rows.
		m.relayout()
	}
	m.touch(paneSteps, paneLogs, panePorts, paneReloads)
	return cmd
}

// applyEvent updates the model with one event. It returns tea.Quit when the
// run ended and the user asked to quit once it did, and the rerun request
// of a valid wercker.yml change under RestartOnConfigChange.
func (m *model) applyEvent(e engine.Event) tea.Cmd {
	switch v := e.(type) {
	case engine.RunStarted:
		m.startRun(v)
	case engine.SetupProgress:
		m.setupProgress(v)
	case engine.ServiceState:
		m.run.setService(v)
		detail := ""
		if v.Detail != "" {
			detail = ": " + v.Detail
		}
		m.mark(m.serviceSource(v.Alias), fmt.Sprintf("service %s (%s) %s%s", v.Alias, v.Image, v.Status, detail), v.Time)
	case engine.StepStarted:
		if i := m.run.stepIndex(v.Step); i >= 0 {
			m.run.steps[i].status = engine.StepRunning
			m.run.steps[i].started = v.Time
		}
		m.run.setup = ""
		m.mark(m.stepSource(v.Step), styleMarker+m.run.stepLabel(v.Step)+" "+sanitizeName(v.Step.Name)+" started"+sgrReset, v.Time)
	case engine.StepFinished:
		m.finishStep(v)
	case engine.LogLine:
		m.appendLog(v)
	case engine.Notice:
		m.notice(v)
	case engine.PortState:
		if m.run.setPort(v) {
			m.mark(m.werkSource(), sanitizeName(strings.TrimSpace("port "+v.ContainerPort+" "+v.Status.String()+" "+v.URL+" "+v.Detail)), v.Time)
		}
	case engine.Reload:
		m.run.setReload(v)
	case engine.ConfigChanged:
		return m.configChanged(v)
	case engine.LogsDropped:
		m.run.dropped += v.Count
	case engine.RunFinished:
		m.run.finished = &v
		m.run.setup = ""
		text := "pipeline " + resultText(&v) + " in " + round(v.Duration).String()
		if v.Err != nil && v.Result == engine.ResultFailed {
			text += ": " + styleError + firstLine(v.Err.Error()) + sgrReset
		}
		m.mark(m.werkSource(), text, v.Time)
		logged := m.logRunShown()
		if m.quitAfterRun {
			return tea.Batch(logged, tea.Quit)
		}
		if m.mode == modeConfirmQuit {
			// Nothing is left to stop: the question no longer applies.
			m.mode = modeNormal
			m.say("the pipeline has ended; q quits")
		}
		return logged
	}
	return nil
}

// logRunShown returns a command that logs how many of the run's lines the
// app kept, trimmed and never got, so a short view can be explained.
func (m *model) logRunShown() tea.Cmd {
	id, kept, trimmed, dropped := m.run.started.RunID, m.store.lines, m.store.trimmed, m.run.dropped
	return func() tea.Msg {
		slog.Info("terminal UI showed the run", "run", id, "lines_kept", kept, "lines_trimmed", trimmed, "lines_dropped", dropped)
		return nil
	}
}

// startRun resets the panes for a new run; view settings stay.
func (m *model) startRun(v engine.RunStarted) {
	m.runs++
	m.rerunPending = false
	m.run.begin(v)
	m.store = newLogStore(m.opts.Limits)
	m.store.method = m.method
	settings := m.logs
	m.logs = newLogView(m.store)
	m.logs.wrap, m.logs.timestamps, m.logs.method = settings.wrap, settings.timestamps, settings.method
	m.logs.width, m.logs.height = settings.width, settings.height
	if settings.search != nil {
		m.logs.search = newSearch(settings.search.query)
	}
	m.stepSel, m.portsTop, m.reloadsBack = 0, 0, 0

	// Create the sources in pipeline order, so filter cycling follows it.
	m.werkSource()
	for _, s := range m.run.steps {
		m.stepSource(s.ref)
	}
	for _, alias := range v.Services {
		m.serviceSource(alias)
	}
	m.mark(m.werkSource(), fmt.Sprintf("%s pipeline %s in box %s (run %s)",
		v.Command, styleBold+sanitizeName(v.Pipeline)+sgrReset, sanitizeName(v.Box), v.RunID), v.Time)
}

func (m *model) setupProgress(v engine.SetupProgress) {
	if !v.Done {
		m.run.setup = v.Phase + ": " + v.Detail
		if m.run.setupAt.IsZero() {
			m.run.setupAt = v.Time
		}
		return
	}
	m.run.setup = ""
	m.run.setupEnd = v.Time.Sub(m.run.setupAt)
	m.mark(m.werkSource(), fmt.Sprintf("%s: %s (%s)", v.Phase, sanitizeName(v.Detail), round(v.Duration)), v.Time)
}

func (m *model) finishStep(v engine.StepFinished) {
	if i := m.run.stepIndex(v.Step); i >= 0 {
		row := &m.run.steps[i]
		row.status, row.duration, row.exitCode, row.message = v.Status, v.Duration, v.ExitCode, v.Message
	}
	if v.Status == engine.StepSkipped {
		return
	}
	m.mark(m.stepSource(v.Step), styleMarker+m.run.stepLabel(v.Step)+" "+sanitizeName(v.Step.Name)+sgrReset+" "+finishedText(v), v.Time)
}

func (m *model) notice(v engine.Notice) {
	text := sanitizeName(v.Text)
	switch v.Level {
	case engine.NoticeWarn:
		text = styleWarning + "warning: " + text + sgrReset
	case engine.NoticeError:
		text = styleError + "error: " + text + sgrReset
	default:
		text = styleNotice + text + sgrReset
	}
	m.mark(m.werkSource(), text, v.Time)
}

func (m *model) appendLog(v engine.LogLine) {
	var src *logSource
	switch {
	case v.Service != "":
		src = m.serviceSource(v.Service)
	case v.Step.Name != "":
		src = m.stepSource(v.Step)
	default:
		src = m.werkSource()
	}
	before := m.store.seq
	m.store.append(src, v.Stream, v.Text, v.Time)
	if s := m.logs.search; s != nil && s.query != "" {
		m.searchNew(src, before)
	}
}

// searchNew adds the lines of src newer than seq to the search's matches.
func (m *model) searchNew(src *logSource, seq uint64) {
	start := src.lines.lowerBound(seq + 1)
	for i := start; i < src.lines.len(); i++ {
		m.logs.search.add(src.lines.at(i), src)
	}
}

// mark adds one of werk's own lines to src.
func (m *model) mark(src *logSource, text string, at time.Time) {
	if at.IsZero() {
		at = m.now()
	}
	m.store.appendMark(src, text, at)
}

func (m *model) werkSource() *logSource { return m.store.source(werkKey, "werk") }

func (m *model) stepSource(ref engine.StepRef) *logSource {
	name := sanitizeName(ref.Name)
	if name == "" {
		name = ref.Phase.String() + " " + fmt.Sprint(ref.Index+1)
	}
	return m.store.source(stepKey(ref), name)
}

func (m *model) serviceSource(alias string) *logSource {
	return m.store.source(serviceKey(alias), sanitizeName(alias))
}

// sanitizeName makes a name from wercker.yml or the engine safe to draw:
// control characters and escape sequences go.
func sanitizeName(s string) string {
	if plainText(s) {
		return s
	}
	var carry sgrState
	clean := sanitizeLine(strings.ReplaceAll(s, "\n", " "), &carry, DefaultLineBytes, 0)
	return StripANSI(clean.text)
}
