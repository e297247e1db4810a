package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"
)

// Reasons of a pause, in Paused.Reason and Pause.Reason.
const (
	// PauseStepping is a pause before each step (--step, or the TUI's
	// stepping key).
	PauseStepping = "step"
	// PauseBreakpoint is a pause before a step named by --break-before.
	PauseBreakpoint = "break-before"
	// PauseFailure is a pause after a step failed (--break-on-failure).
	PauseFailure = "failure"
)

// DebugAction is the user's answer at a pause.
type DebugAction int

const (
	// DebugRun runs the step.
	DebugRun DebugAction = iota
	// DebugSkip skips the step; after a failure the pipeline goes on as if
	// the step had not run.
	DebugSkip
	// DebugShell opens a shell in the box, with the environment the step
	// sees, and asks again once the shell exits.
	DebugShell
	// DebugContinue runs the step and stops pausing before each step;
	// breakpoints and --break-on-failure still pause. After a failure it
	// accepts the failure.
	DebugContinue
	// DebugRetry runs the failed step again.
	DebugRetry
	// DebugAbort stops the pipeline. Before a step the run ends as
	// interrupted; after a failure the failure stands and the after-steps
	// run without further pauses.
	DebugAbort
)

func (a DebugAction) String() string {
	return [...]string{"run", "skip", "shell", "continue", "retry", "abort"}[a]
}

// Pause is one question the runner asks its Debugger.
type Pause struct {
	Step   StepRef
	Reason string
	// Message is the failure's message when Reason is PauseFailure.
	Message string
	// Actions are the valid answers, in the order a prompt lists them.
	Actions []DebugAction
}

// Debugger answers the runner's pauses: the TUI with keys, plain mode with a
// prompt on the terminal.
type Debugger interface {
	// Pause blocks until the user answers or ctx ends. It is called from
	// the runner's goroutine, one pause at a time.
	Pause(ctx context.Context, p Pause) (DebugAction, error)
}

// DebugOptions select where a run pauses. A run pauses only when Debugger
// is set.
type DebugOptions struct {
	// Step pauses before every step and after-step.
	Step bool
	// BreakBefore pauses before the steps with these names (a step's name
	// option, else its id).
	BreakBefore []string
	// BreakOnFailure pauses after a step fails.
	BreakOnFailure bool
	Debugger       Debugger
}

// beforeActions and failureActions are the answers of the two kinds of
// pause.
var (
	beforeActions  = []DebugAction{DebugRun, DebugSkip, DebugShell, DebugContinue, DebugAbort}
	failureActions = []DebugAction{DebugShell, DebugRetry, DebugSkip, DebugAbort}
)

// debugState is the runner's stepping switch, which the TUI can flip while
// the run goes on.
type debugState struct {
	stepping atomic.Bool
	// noMorePauses is set by an abort after a failure.
	noMorePauses atomic.Bool
}

// SetStepping turns pausing before each step on or off from now on. It only
// has an effect when the run has a Debugger.
func (r *Runner) SetStepping(on bool) {
	r.debug.stepping.Store(on)
}

// Stepping reports whether the run pauses before each step.
func (r *Runner) Stepping() bool { return r.debug.stepping.Load() }

// pauseBefore returns why the run pauses before step, or "".
func (r *Runner) pauseBefore(step Step) string {
	if r.opts.Debug.Debugger == nil || r.debug.noMorePauses.Load() {
		return ""
	}
	info := step.Info()
	if slices.Contains(r.opts.Debug.BreakBefore, info.Name) || slices.Contains(r.opts.Debug.BreakBefore, info.ID) {
		return PauseBreakpoint
	}
	if r.debug.stepping.Load() {
		return PauseStepping
	}
	return ""
}

// runStepDebug runs a step with the pauses the run's DebugOptions ask for:
// before the step, and after it failed, where the user can retry it.
func (r *Runner) runStepDebug(ctx context.Context, ref StepRef, step Step) (StepStatus, int, string, error) {
	if reason := r.pauseBefore(step); reason != "" {
		action := r.ask(ctx, Pause{Step: ref, Reason: reason, Actions: beforeActions})
		if ctx.Err() != nil {
			// Interrupted while paused: the step never ran.
			r.publish(StepFinished{Step: ref, Status: StepSkipped, Time: time.Now()})
			return StepInterrupted, -1, "interrupted", context.Cause(ctx)
		}
		switch action {
		case DebugSkip:
			r.publish(StepFinished{Step: ref, Status: StepSkipped, Message: "skipped at a pause", Time: time.Now()})
			return StepSkipped, 0, "", nil
		case DebugAbort:
			r.abortAtPause(ref)
			return StepInterrupted, -1, "interrupted", ErrInterrupted
		case DebugContinue:
			r.debug.stepping.Store(false)
		}
	}
	for {
		status, code, msg, err := r.runStep(ctx, ref, step)
		if status != StepFailed || !r.opts.Debug.BreakOnFailure || r.opts.Debug.Debugger == nil ||
			r.debug.noMorePauses.Load() || ctx.Err() != nil {
			return status, code, msg, err
		}
		switch r.ask(ctx, Pause{Step: ref, Reason: PauseFailure, Message: msg, Actions: failureActions}) {
		case DebugRetry:
			if ctx.Err() == nil {
				continue
			}
		case DebugSkip:
			if ctx.Err() == nil {
				r.publish(StepFinished{Step: ref, Status: StepSkipped, ExitCode: code, Message: "failed, then skipped at a pause: " + msg, Time: time.Now()})
				return StepSkipped, 0, "", nil
			}
		case DebugAbort:
			r.debug.noMorePauses.Store(true)
		}
		return status, code, msg, err
	}
}

// ask publishes Paused, asks the Debugger until it answers with something
// other than a shell (opening each shell it asks for), and publishes
// Resumed. When ctx ends it returns DebugAbort.
func (r *Runner) ask(ctx context.Context, p Pause) DebugAction {
	r.publish(Paused{Step: p.Step, Reason: p.Reason, Message: p.Message, Time: time.Now()})
	action := DebugAbort
	for ctx.Err() == nil {
		a, err := r.opts.Debug.Debugger.Pause(ctx, p)
		if err != nil {
			if ctx.Err() == nil {
				r.notice(NoticeError, fmt.Sprintf("the pause at %s %q failed: %v; the step runs", p.Step.Phase, p.Step.Name, err))
				action = DebugRun
			}
			break
		}
		if !slices.Contains(p.Actions, a) {
			slog.Warn("ignoring an answer that does not fit the pause", "action", a.String(), "reason", p.Reason)
			continue
		}
		if a != DebugShell {
			action = a
			break
		}
		if err := r.debugShell(ctx, p.Step); err != nil && ctx.Err() == nil {
			r.notice(NoticeError, err.Error())
		}
	}
	slog.Info("pause answered", "run", r.info.ID, "step", p.Step.Name, "reason", p.Reason, "action", action.String())
	r.publish(Resumed{Step: p.Step, Action: action, Time: time.Now()})
	return action
}

// abortAtPause ends the run as interrupted at a pause before ref.
func (r *Runner) abortAtPause(ref StepRef) {
	r.publish(StepFinished{Step: ref, Status: StepSkipped, Message: "aborted at a pause", Time: time.Now()})
	r.notice(NoticeWarn, fmt.Sprintf("aborted at the pause before %s %q; the run stops", ref.Phase, ref.Name))
	r.mu.Lock()
	cancel := r.cancelRun
	r.mu.Unlock()
	if cancel != nil {
		cancel(ErrInterrupted)
	}
}

// debugShell opens an interactive shell in the box on a terminal of the
// run's TerminalHost, in the source directory, with the environment the step
// shell exports now, and waits until the user exits it.
func (r *Runner) debugShell(ctx context.Context, ref StepRef) error {
	host := r.info.Terminals
	if host == nil {
		return fmt.Errorf("cannot open a shell at %s %q: %w", ref.Phase, ref.Name, ErrNoTerminal)
	}
	box := r.Box()
	if box == nil {
		return errors.New("cannot open a shell: the box is not running")
	}
	env, err := box.CaptureEnv(ctx)
	if err != nil {
		return fmt.Errorf("cannot open a shell at %s %q: %w", ref.Phase, ref.Name, err)
	}
	shell := box.DefaultShell(ctx)
	term, err := host.OpenTerminal(ctx, fmt.Sprintf("shell at %s %q", ref.Phase, ref.Name))
	if err != nil {
		return fmt.Errorf("cannot open a shell at %s %q: %w", ref.Phase, ref.Name, err)
	}
	defer term.Close()
	dir := env["WERCKER_SOURCE_DIR"]
	if dir == "" {
		dir = r.sourceDir
	}
	r.notice(NoticeInfo, fmt.Sprintf("shell %s opened in the box at %s %q; exit it to return to the pause", shell[0], ref.Phase, ref.Name))
	code, err := box.RunInteractive(ctx, term, InteractiveOptions{Cmd: shell, Env: EnvList(env), WorkingDir: dir})
	if err != nil {
		return fmt.Errorf("the shell at %s %q: %w", ref.Phase, ref.Name, err)
	}
	r.notice(NoticeInfo, fmt.Sprintf("shell exited with status %d", code))
	return nil
}
