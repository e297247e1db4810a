package engine

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"werk/internal/testenv"
)

// scriptedDebugger answers pauses with a list of answers, in order, and
// records the pauses.
type scriptedDebugger struct {
	mu      sync.Mutex
	answers []DebugAction
	pauses  []Pause
}

func (d *scriptedDebugger) Pause(ctx context.Context, p Pause) (DebugAction, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pauses = append(d.pauses, p)
	if len(d.answers) == 0 {
		return DebugAbort, fmt.Errorf("the test has no answer for pause %d (%s at %q)", len(d.pauses), p.Reason, p.Step.Name)
	}
	a := d.answers[0]
	d.answers = d.answers[1:]
	return a, nil
}

func (d *scriptedDebugger) reasons() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, p := range d.pauses {
		out = append(out, p.Reason+" "+p.Step.Name)
	}
	return out
}

// runDebug runs steps and after-steps in a busybox box with the debug
// options and returns the outcome and every event.
func runDebug(t *testing.T, debug DebugOptions, host TerminalHost, steps, after []Step) (RunFinished, []Event) {
	t.Helper()
	runner, bus := newTestRunner(t, testenv.BusyboxImage, Options{Debug: debug, Terminals: host}, steps, after)
	var events []Event
	sub := bus.Subscribe(1<<14, false)
	done := make(chan struct{})
	go func() {
		for e := range sub.C {
			events = append(events, e)
		}
		close(done)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	result := runner.Run(ctx)
	bus.Close()
	<-done
	return result, events
}

// stepStatuses returns the last status of each step name.
func stepStatuses(events []Event) map[string]StepStatus {
	out := map[string]StepStatus{}
	for _, e := range events {
		if f, ok := e.(StepFinished); ok {
			out[f.Step.Name] = f.Status
		}
	}
	return out
}

func countStarts(events []Event, name string) int {
	n := 0
	for _, e := range events {
		if s, ok := e.(StepStarted); ok && s.Step.Name == name {
			n++
		}
	}
	return n
}

func TestBreakOnFailureShellThenRetry(t *testing.T) {
	host := &testHost{cols: 100, rows: 30, script: func(term *testTerminal) {
		// The shell opens in the same box: the first step's file is
		// there. Fixing the file lets the retry pass.
		term.typeText("ls; echo ok > fixed.txt; exit\n")
	}}
	dbg := &scriptedDebugger{answers: []DebugAction{DebugShell, DebugRetry}}
	result, events := runDebug(t, DebugOptions{BreakOnFailure: true, Debugger: dbg}, host, []Step{
		scriptStep("first", "echo one > first.txt"),
		scriptStep("second", "cat first.txt; test -f fixed.txt"),
	}, nil)

	if result.Result != ResultPassed {
		t.Fatalf("result %s (%v), want passed after the retry", result.Result, result.Err)
	}
	if got := strings.Join(dbg.reasons(), ", "); got != "failure second, failure second" {
		t.Errorf("pauses: %s; want the failure of second, asked again after the shell", got)
	}
	if len(host.opened) != 1 {
		t.Fatalf("%d terminals opened, want 1", len(host.opened))
	}
	if out := host.opened[0].output(); !strings.Contains(out, "first.txt") {
		t.Errorf("the shell did not see the first step's file; output:\n%s", out)
	}
	if n := countStarts(events, "second"); n != 2 {
		t.Errorf("second started %d times, want 2", n)
	}
	if s := stepStatuses(events)["second"]; s != StepPassed {
		t.Errorf("second ended %s, want passed", s)
	}
}

func TestSteppingRunSkipAbort(t *testing.T) {
	dbg := &scriptedDebugger{answers: []DebugAction{DebugRun, DebugSkip, DebugAbort}}
	result, events := runDebug(t, DebugOptions{Step: true, Debugger: dbg}, nil, []Step{
		scriptStep("one", "true"),
		scriptStep("two", "exit 1"),
		scriptStep("three", "true"),
		scriptStep("four", "true"),
	}, []Step{scriptStep("after", "true")})

	if got := strings.Join(dbg.reasons(), ", "); got != "step one, step two, step three" {
		t.Errorf("pauses: %s", got)
	}
	if result.Result != ResultInterrupted {
		t.Errorf("result %s, want interrupted after the abort", result.Result)
	}
	statuses := stepStatuses(events)
	for name, want := range map[string]StepStatus{"one": StepPassed, "two": StepSkipped, "three": StepSkipped, "four": StepSkipped, "after": StepSkipped} {
		if statuses[name] != want {
			t.Errorf("%s ended %s, want %s", name, statuses[name], want)
		}
	}
	if n := countStarts(events, "two"); n != 0 {
		t.Errorf("the skipped step started %d times", n)
	}
}

func TestContinueStopsSteppingButNotBreakpoints(t *testing.T) {
	dbg := &scriptedDebugger{answers: []DebugAction{DebugContinue, DebugRun}}
	result, _ := runDebug(t, DebugOptions{Step: true, BreakBefore: []string{"three"}, Debugger: dbg}, nil, []Step{
		scriptStep("one", "true"),
		scriptStep("two", "true"),
		scriptStep("three", "true"),
	}, nil)
	if result.Result != ResultPassed {
		t.Fatalf("result %s (%v), want passed", result.Result, result.Err)
	}
	if got := strings.Join(dbg.reasons(), ", "); got != "step one, break-before three" {
		t.Errorf("pauses: %s; want one stepping pause and the breakpoint", got)
	}
}

func TestAbortAfterFailureRunsAfterSteps(t *testing.T) {
	dbg := &scriptedDebugger{answers: []DebugAction{DebugAbort}}
	result, events := runDebug(t, DebugOptions{BreakOnFailure: true, Debugger: dbg}, nil, []Step{
		scriptStep("breaks", "exit 3"),
		scriptStep("never", "true"),
	}, []Step{scriptStep("after", "exit 5")})
	if result.Result != ResultFailed {
		t.Errorf("result %s, want failed", result.Result)
	}
	statuses := stepStatuses(events)
	if statuses["breaks"] != StepFailed || statuses["never"] != StepSkipped {
		t.Errorf("statuses %v", statuses)
	}
	// The failing after-step does not pause: abort ended all pauses.
	if statuses["after"] != StepFailed || len(dbg.reasons()) != 1 {
		t.Errorf("after-step %s, pauses %v; want the after-step to run and fail without a pause", statuses["after"], dbg.reasons())
	}
}

func TestSkipAfterFailureGoesOn(t *testing.T) {
	dbg := &scriptedDebugger{answers: []DebugAction{DebugSkip}}
	result, events := runDebug(t, DebugOptions{BreakOnFailure: true, Debugger: dbg}, nil, []Step{
		scriptStep("breaks", "exit 3"),
		scriptStep("next", "true"),
	}, nil)
	if result.Result != ResultPassed {
		t.Errorf("result %s (%v), want passed once the failure was skipped", result.Result, result.Err)
	}
	if s := stepStatuses(events); s["breaks"] != StepSkipped || s["next"] != StepPassed {
		t.Errorf("statuses %v", s)
	}
}

func TestDebugShellWithoutTerminal(t *testing.T) {
	dbg := &scriptedDebugger{answers: []DebugAction{DebugShell, DebugRun}}
	result, events := runDebug(t, DebugOptions{Step: true, Debugger: dbg}, nil, []Step{scriptStep("one", "true")}, nil)
	if result.Result != ResultPassed {
		t.Errorf("result %s, want passed", result.Result)
	}
	found := false
	for _, e := range events {
		if n, ok := e.(Notice); ok && n.Level == NoticeError && strings.Contains(n.Text, "no terminal") {
			found = true
		}
	}
	if !found {
		t.Error("no error notice about the missing terminal")
	}
}
