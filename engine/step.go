package engine

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Step is one step of a pipeline, built by package steps from the wercker.yml
// entry. The runner calls Run once, with the box already running.
//
// Run returns nil when the step passed. A failure returns a *StepError for a
// known exit status, a *TimeoutError when a limit stopped it, or any other
// error (reported with status -1). When ctx ends, Run must stop promptly and
// return the context's cause.
type Step interface {
	Info() StepInfo
	Run(ctx context.Context, sc *StepContext) error
}

// UserStoppable is implemented by steps that run until the user stops them,
// such as internal/watch. For such a step the first interrupt ends only the
// step, which then counts as passed, and the pipeline goes on.
type UserStoppable interface {
	StopsOnInterrupt() bool
}

// ErrStoppedByUser is the cause of a step context that ended because the user
// stopped a UserStoppable step.
var ErrStoppedByUser = errors.New("stopped by the user")

// ErrInterrupted is the cause of the run context after an interrupt.
var ErrInterrupted = errors.New("interrupted")

// StepError is a step failure with an exit status.
type StepError struct {
	Code int
	Msg  string
}

func (e *StepError) Error() string {
	if e.Msg != "" {
		return e.Msg
	}
	return fmt.Sprintf("step failed with exit status %d", e.Code)
}

// StepContext is the run state and services a running step gets.
type StepContext struct {
	Ref    StepRef
	SafeID string
	Box    *Box
	// Env is the pipeline environment on the host side. Steps that need
	// what earlier steps exported call Box.CaptureEnv.
	Env      *Env
	Bus      *Bus
	Run      *RunInfo
	Timeouts Timeouts
}

// Log publishes one line of the step's output.
func (sc *StepContext) Log(stream Stream, text string) {
	sc.Bus.Publish(LogLine{Step: sc.Ref, Stream: stream, Text: text, Time: time.Now()})
}

// Logf publishes one line of werk's own messages about the step.
func (sc *StepContext) Logf(format string, args ...any) {
	sc.Log(System, fmt.Sprintf(format, args...))
}

// Sink returns a LineSink that publishes into the step's log.
func (sc *StepContext) Sink() LineSink {
	return func(stream Stream, text string) { sc.Log(stream, text) }
}

// RunInfo describes the run to steps.
type RunInfo struct {
	ID         string
	Command    string
	Pipeline   string
	ProjectDir string
	WorkingDir string
	// Local means images are never pulled and push steps only tag.
	Local     bool
	NetworkID string
	Docker    *Docker
	// NoPush means push steps only tag (--push=false).
	NoPush bool
	// ConfigPath is the wercker.yml the run was loaded from, "" when unknown.
	ConfigPath string
	// Terminals opens terminals for interactive programs (internal/shell);
	// nil when werk has no terminal.
	Terminals TerminalHost
}
