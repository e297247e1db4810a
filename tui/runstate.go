package tui

import (
	"fmt"
	"strings"
	"time"

	"werk/engine"
)

// stepRow is the state of one step or after-step in the steps pane.
type stepRow struct {
	ref      engine.StepRef
	status   engine.StepStatus
	started  time.Time
	duration time.Duration
	exitCode int
	message  string
}

// serviceRow is the state of one service container.
type serviceRow struct {
	alias  string
	image  string
	status engine.ServiceStatus
	detail string
	known  bool // false until the first ServiceState arrives
}

// reloadRow is one reload: when it started, what triggered it, and how it
// ended.
type reloadRow struct {
	seq      int
	started  time.Time
	files    []string
	result   engine.ReloadResult
	duration time.Duration
	detail   string
	exitCode int
	// replaced is set when a later reload began while this instance ran.
	replaced bool
	// trigger is the cause of a reload without changed files, such as
	// "first start".
	trigger string
}

// runState is the app's view of the current run, built from its events
// only.
type runState struct {
	started  engine.RunStarted
	begun    bool
	setup    string // the setup phase running now, "" when none
	setupAt  time.Time
	setupEnd time.Duration
	steps    []stepRow
	services []serviceRow
	ports    []engine.PortState
	reloads  []reloadRow
	finished *engine.RunFinished
	// dropped counts the log lines that never reached the app.
	dropped int
}

// active reports whether the run has started and not finished.
func (r *runState) active() bool { return r.begun && r.finished == nil }

// stepIndex returns the row of ref in r.steps, or -1.
func (r *runState) stepIndex(ref engine.StepRef) int {
	i := ref.Index
	if ref.Phase == engine.PhaseAfter {
		i += len(r.started.Steps)
	}
	if i < 0 || i >= len(r.steps) || r.steps[i].ref.Phase != ref.Phase {
		return -1
	}
	return i
}

// current returns the running step, or nil.
func (r *runState) current() *stepRow {
	for i := range r.steps {
		if r.steps[i].status == engine.StepRunning {
			return &r.steps[i]
		}
	}
	return nil
}

func (r *runState) begin(v engine.RunStarted) {
	*r = runState{started: v, begun: true}
	for i, info := range v.Steps {
		r.steps = append(r.steps, stepRow{ref: engine.StepRef{Phase: engine.PhaseMain, Index: i, Name: info.Name}})
	}
	for i, info := range v.AfterSteps {
		r.steps = append(r.steps, stepRow{ref: engine.StepRef{Phase: engine.PhaseAfter, Index: i, Name: info.Name}})
	}
	for _, alias := range v.Services {
		r.services = append(r.services, serviceRow{alias: alias})
	}
}

func (r *runState) setService(v engine.ServiceState) {
	for i := range r.services {
		if r.services[i].alias == v.Alias {
			r.services[i] = serviceRow{alias: v.Alias, image: v.Image, status: v.Status, detail: v.Detail, known: true}
			return
		}
	}
	r.services = append(r.services, serviceRow{alias: v.Alias, image: v.Image, status: v.Status, detail: v.Detail, known: true})
}

// setPort records v, replacing the earlier state of the same port.
// It reports whether the port is new or its state or URL changed: the
// engine reports each host binding (IPv4, IPv6) of a port on its own.
func (r *runState) setPort(v engine.PortState) (changed bool) {
	for i := range r.ports {
		if p := &r.ports[i]; p.ContainerPort == v.ContainerPort && p.HostPort == v.HostPort {
			changed = p.Status != v.Status || p.URL != v.URL || p.Detail != v.Detail
			*p = v
			return changed
		}
	}
	r.ports = append(r.ports, v)
	return true
}

func (r *runState) setReload(v engine.Reload) {
	for i := range r.reloads {
		if r.reloads[i].seq == v.Seq {
			row := &r.reloads[i]
			row.result, row.detail, row.exitCode = v.Result, v.Detail, v.ExitCode
			if v.Duration > 0 {
				row.duration = v.Duration
			}
			if len(v.Files) > 0 {
				row.files = v.Files
			}
			return
		}
	}
	// A new reload stops the instance before it: that instance's end is
	// werk's doing, not a failure.
	for i := range r.reloads {
		if res := r.reloads[i].result; res == engine.ReloadStarted || res == engine.ReloadRunning {
			r.reloads[i].replaced = true
		}
	}
	row := reloadRow{
		seq: v.Seq, started: v.Time, files: v.Files, result: v.Result,
		duration: v.Duration, detail: v.Detail, exitCode: v.ExitCode,
	}
	if len(v.Files) == 0 && v.Result == engine.ReloadStarted {
		row.trigger = v.Detail
	}
	r.reloads = append(r.reloads, row)
}

// stepLabel is "step 2/3" or "after-step 1/1".
func (r *runState) stepLabel(ref engine.StepRef) string {
	if ref.Phase == engine.PhaseAfter {
		return fmt.Sprintf("after-step %d/%d", ref.Index+1, len(r.started.AfterSteps))
	}
	return fmt.Sprintf("step %d/%d", ref.Index+1, len(r.started.Steps))
}

// finishedText describes how a step ended, for its marker line.
func finishedText(v engine.StepFinished) string {
	switch v.Status {
	case engine.StepPassed:
		return stylePassed + "passed" + sgrReset + " in " + round(v.Duration).String()
	case engine.StepFailed:
		text := styleFailed + fmt.Sprintf("failed (exit status %d)", v.ExitCode) + sgrReset + " in " + round(v.Duration).String()
		if v.Message != "" {
			text += ": " + firstLine(v.Message)
		}
		return text
	case engine.StepSkipped:
		return styleDim + "skipped" + sgrReset
	case engine.StepInterrupted:
		return styleStopped + "interrupted" + sgrReset + " after " + round(v.Duration).String()
	}
	return v.Status.String()
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// resultText is the run's result with its colour.
func resultText(v *engine.RunFinished) string {
	switch v.Result {
	case engine.ResultPassed:
		return stylePassed + "passed" + sgrReset
	case engine.ResultFailed:
		return styleFailed + "failed" + sgrReset
	}
	return styleStopped + v.Result.String() + sgrReset
}
