package engine

import "time"

// Paused is published when the runner stops at a step to ask its Debugger
// what to do. Reason is PauseStepping, PauseBreakpoint or PauseFailure.
type Paused struct {
	Step   StepRef
	Reason string
	// Message is the failure's message when Reason is PauseFailure.
	Message string
	Time    time.Time
}

// Resumed is published when the Debugger answered a pause, with the answer.
type Resumed struct {
	Step   StepRef
	Action DebugAction
	Time   time.Time
}

func (Paused) event()  {}
func (Resumed) event() {}
