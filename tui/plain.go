// Package tui shows a run: the plain line printer for pipes and CI, and the
// full-screen terminal app. It consumes engine events and never talks to the
// Docker engine itself.
package tui

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"werk/engine"
)

// ANSI styles of the plain printer.
const (
	ansiReset  = "\033[0m"
	ansiBold   = "\033[1m"
	ansiDim    = "\033[2m"
	ansiRed    = "\033[31m"
	ansiGreen  = "\033[32m"
	ansiYellow = "\033[33m"
	ansiCyan   = "\033[36m"
)

// Plain prints events as prefixed lines: one per log line, one when a step
// starts and ends, and a summary at the end.
type Plain struct {
	w     io.Writer
	color bool

	started    engine.RunStarted
	finished   map[engine.StepRef]engine.StepFinished
	stepsTotal int
	// ports is the last state printed per host port. The runner and a watch
	// step both probe after a start, so the same state can arrive twice.
	ports map[string]engine.PortStatus
	// restartOnConfigChange is set when werk restarts the pipeline itself
	// after a valid change of wercker.yml.
	restartOnConfigChange bool
}

// NewPlain returns a printer writing to w; color adds ANSI colours.
func NewPlain(w io.Writer, color bool) *Plain {
	return &Plain{w: w, color: color, finished: map[engine.StepRef]engine.StepFinished{}, ports: map[string]engine.PortStatus{}}
}

// SetRestartOnConfigChange tells the printer whether werk restarts the
// pipeline itself when wercker.yml changes and is valid
// (--restart-on-config-change), which the line about such a change says.
func (p *Plain) SetRestartOnConfigChange(on bool) { p.restartOnConfigChange = on }

// Consume prints every event of sub until its channel closes.
func (p *Plain) Consume(sub *engine.Subscription) {
	for e := range sub.C {
		p.Handle(e)
	}
}

func (p *Plain) style(code, s string) string {
	if !p.color {
		return s
	}
	return code + s + ansiReset
}

func (p *Plain) status(format string, args ...any) {
	fmt.Fprintf(p.w, "%s %s\n", p.style(ansiCyan, "-->"), fmt.Sprintf(format, args...))
}

// Record keeps what the summary needs from e without printing anything, so
// a caller that shows the run another way can still print the summary with
// PrintSummary. A new RunStarted clears the earlier run's state.
func (p *Plain) Record(e engine.Event) {
	switch v := e.(type) {
	case engine.RunStarted:
		p.started = v
		p.stepsTotal = len(v.Steps)
		p.finished = map[engine.StepRef]engine.StepFinished{}
	case engine.StepFinished:
		p.finished[v.Step] = v
	}
}

// PrintSummary prints the end-of-run summary of v to w: one line per step
// and the result.
func (p *Plain) PrintSummary(w io.Writer, v engine.RunFinished) {
	out := p.w
	p.w = w
	defer func() { p.w = out }()
	p.printSummary(v)
}

// Handle prints one event.
func (p *Plain) Handle(e engine.Event) {
	p.Record(e)
	switch v := e.(type) {
	case engine.RunStarted:
		p.status("werk %s: pipeline %s, box %s (run %s)", v.Command, p.style(ansiBold, v.Pipeline), v.Box, v.RunID)
	case engine.SetupProgress:
		if v.Done {
			p.status("%s: %s (%s)", v.Phase, v.Detail, round(v.Duration))
		}
	case engine.ServiceState:
		detail := ""
		if v.Detail != "" {
			detail = ": " + v.Detail
		}
		p.status("service %s (%s) %s%s", v.Alias, v.Image, v.Status, detail)
	case engine.StepStarted:
		p.status("%s %s started", p.stepLabel(v.Step), p.style(ansiBold, v.Step.Name))
	case engine.StepFinished:
		p.printFinished(v)
	case engine.LogLine:
		p.printLog(v)
	case engine.Notice:
		prefix := "werk:"
		switch v.Level {
		case engine.NoticeWarn:
			prefix = p.style(ansiYellow, "werk: warning:")
		case engine.NoticeError:
			prefix = p.style(ansiRed, "werk: error:")
		}
		fmt.Fprintf(p.w, "%s %s\n", prefix, v.Text)
	case engine.PortState:
		key := v.HostIP + ":" + v.HostPort + "/" + v.ContainerPort
		if last, seen := p.ports[key]; seen && last == v.Status {
			return
		}
		p.ports[key] = v.Status
		switch v.Status {
		case engine.PortReady:
			p.status("port %s ready at %s", v.ContainerPort, v.URL)
		case engine.PortFailed:
			p.status("port %s failed: %s", v.ContainerPort, v.Detail)
		default:
			p.status("port %s published at %s (starting)", v.ContainerPort, v.URL)
		}
	case engine.Reload:
		p.printReload(v)
	case engine.ConfigChanged:
		p.printConfigChanged(v)
	case engine.LogsDropped:
		fmt.Fprintf(p.w, "werk: %d log lines not shown here (they are in the run's log file)\n", v.Count)
	case engine.RunFinished:
		p.printSummary(v)
	}
}

func (p *Plain) stepLabel(ref engine.StepRef) string {
	if ref.Phase == engine.PhaseAfter {
		return fmt.Sprintf("after-step %d/%d", ref.Index+1, len(p.started.AfterSteps))
	}
	return fmt.Sprintf("step %d/%d", ref.Index+1, p.stepsTotal)
}

func (p *Plain) printFinished(v engine.StepFinished) {
	name := p.style(ansiBold, v.Step.Name)
	switch v.Status {
	case engine.StepPassed:
		p.status("%s %s %s in %s", p.stepLabel(v.Step), name, p.style(ansiGreen, "passed"), round(v.Duration))
	case engine.StepFailed:
		p.status("%s %s %s (exit status %d) in %s: %s", p.stepLabel(v.Step), name, p.style(ansiRed, "failed"),
			v.ExitCode, round(v.Duration), v.Message)
	case engine.StepSkipped:
		p.status("%s %s %s", p.stepLabel(v.Step), name, p.style(ansiDim, "skipped"))
	case engine.StepInterrupted:
		p.status("%s %s %s after %s", p.stepLabel(v.Step), name, p.style(ansiYellow, "interrupted"), round(v.Duration))
	}
}

func (p *Plain) printLog(v engine.LogLine) {
	source := v.Step.Name
	if v.Service != "" {
		source = "service " + v.Service
	} else if source == "" {
		source = "werk"
	}
	prefix := "[" + source + "]"
	switch v.Stream {
	case engine.Stderr:
		prefix = p.style(ansiYellow, prefix)
	case engine.System:
		prefix = p.style(ansiDim, prefix)
	default:
		prefix = p.style(ansiDim, prefix)
	}
	text := v.Text
	// A carriage return redraws the line on a terminal (progress bars).
	// After the prefix it would overwrite the prefix, so only the last state
	// of the line is printed.
	if i := strings.LastIndexByte(text, '\r'); i >= 0 {
		text = text[i+1:]
	}
	if !p.color {
		text = StripANSI(text)
	}
	fmt.Fprintf(p.w, "%s %s\n", prefix, text)
}

func (p *Plain) printReload(v engine.Reload) {
	files := strings.Join(v.Files, ", ")
	switch v.Result {
	case engine.ReloadStarted:
		if len(v.Files) == 0 {
			p.status("watch: first run")
			return
		}
		p.status("reload #%d: %s", v.Seq, files)
	case engine.ReloadRunning:
		p.status("reload #%d running after %s", v.Seq, round(v.Duration))
	default:
		p.status("reload #%d %s %s", v.Seq, v.Result, v.Detail)
	}
}

func (p *Plain) printConfigChanged(v engine.ConfigChanged) {
	name := configName(v.Path)
	switch {
	case v.Err != nil:
		fmt.Fprintf(p.w, "%s %s changed but is invalid, so the running pipeline goes on unchanged: %v\n",
			p.style(ansiRed, "werk: error:"), name, v.Err)
	case p.restartOnConfigChange:
		fmt.Fprintf(p.w, "werk: %s changed and is valid; restarting the pipeline with it\n", name)
	default:
		fmt.Fprintf(p.w, "werk: %s changed; restart werk to apply it, or use --restart-on-config-change\n", name)
	}
}

// configName returns the base name of the wercker.yml at path.
func configName(path string) string {
	if path == "" {
		return "wercker.yml"
	}
	return filepath.Base(path)
}

func (p *Plain) printSummary(v engine.RunFinished) {
	fmt.Fprintln(p.w)
	for i, info := range p.started.Steps {
		p.summaryLine(engine.StepRef{Phase: engine.PhaseMain, Index: i, Name: info.Name})
	}
	for i, info := range p.started.AfterSteps {
		p.summaryLine(engine.StepRef{Phase: engine.PhaseAfter, Index: i, Name: info.Name})
	}
	for _, k := range v.Kept {
		fmt.Fprintf(p.w, "kept: %s\n", k)
	}
	result := v.Result.String()
	switch v.Result {
	case engine.ResultPassed:
		result = p.style(ansiGreen+ansiBold, result)
	case engine.ResultFailed:
		result = p.style(ansiRed+ansiBold, result)
	default:
		result = p.style(ansiYellow+ansiBold, result)
	}
	fmt.Fprintf(p.w, "%s %s %s in %s\n", p.style(ansiCyan, "-->"), p.started.Pipeline, result, round(v.Duration))
	if v.Err != nil && v.Result == engine.ResultFailed {
		fmt.Fprintf(p.w, "%s %v\n", p.style(ansiRed, "error:"), v.Err)
	}
}

func (p *Plain) summaryLine(ref engine.StepRef) {
	f, ok := p.finished[ref]
	kind := "   "
	if ref.Phase == engine.PhaseAfter {
		kind = "(after)"
	}
	if !ok {
		fmt.Fprintf(p.w, "  %-12s %s %s\n", "not run", ref.Name, kind)
		return
	}
	status := f.Status.String()
	if f.Status == engine.StepFailed {
		status = fmt.Sprintf("failed (%d)", f.ExitCode)
	}
	fmt.Fprintf(p.w, "  %-12s %s %s %s\n", status, ref.Name, strings.TrimSpace(kind), round(f.Duration))
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second)
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}
