package tui

import (
	"bytes"
	"strings"
	"testing"

	"werk/engine"
)

func TestBridgeDeliversEverythingInOrder(t *testing.T) {
	bus := engine.NewBus(nil)
	b := newBridge(false)
	done := b.follow(Subscribe(bus))
	step := ref(engine.PhaseMain, 0, "s")
	bus.Publish(engine.StepStarted{Step: step})
	for i := range 100 {
		bus.Publish(engine.LogLine{Step: step, Text: strings.Repeat("x", i)})
	}
	bus.Publish(engine.StepFinished{Step: step, Status: engine.StepPassed})
	bus.Close()
	<-done

	var got []engine.Event
	for len(got) < 102 {
		msg := b.next().(eventsMsg)
		got = append(got, msg.events...)
	}
	if _, ok := got[0].(engine.StepStarted); !ok {
		t.Errorf("first event %T", got[0])
	}
	if _, ok := got[101].(engine.StepFinished); !ok {
		t.Errorf("last event %T", got[101])
	}
	for i := 1; i <= 100; i++ {
		if l := got[i].(engine.LogLine); len(l.Text) != i-1 {
			t.Fatalf("event %d has text of %d bytes, want %d", i, len(l.Text), i-1)
		}
	}
}

// When the app falls behind, log lines are dropped and counted, and state
// events still arrive.
func TestBridgeDropsLogLinesWhenBehind(t *testing.T) {
	bus := engine.NewBus(nil)
	b := newBridge(false)
	done := b.follow(Subscribe(bus))
	step := ref(engine.PhaseMain, 0, "s")
	const total = maxPendingLogs + 5000
	for range total {
		bus.Publish(engine.LogLine{Step: step, Text: "flood"})
	}
	bus.Publish(engine.StepFinished{Step: step, Status: engine.StepPassed})
	bus.Close()
	<-done

	logs, dropped, finished, messages := 0, 0, false, 0
	for more := true; more; more = b.catchingUp {
		msg := b.next().(eventsMsg)
		messages++
		if len(msg.events) > chunkMax {
			t.Errorf("message of %d events, want at most %d", len(msg.events), chunkMax)
		}
		dropped += msg.dropped
		for _, e := range msg.events {
			switch v := e.(type) {
			case engine.LogLine:
				logs++
			case engine.LogsDropped:
				dropped += v.Count
			case engine.StepFinished:
				finished = true
			}
		}
	}
	if logs > maxPendingLogs {
		t.Errorf("%d log lines queued, want at most %d", logs, maxPendingLogs)
	}
	if messages < 2 {
		t.Errorf("the backlog came in %d message, want it split", messages)
	}
	if logs+dropped != total {
		t.Errorf("%d delivered + %d counted as dropped = %d, want %d", logs, dropped, logs+dropped, total)
	}
	if !finished {
		t.Error("the StepFinished event was lost")
	}
}

func TestBridgeRecordsSummary(t *testing.T) {
	bus := engine.NewBus(nil)
	b := newBridge(false)
	app := &App{bridge: b}
	done := b.follow(Subscribe(bus))
	for _, e := range finishedRun() {
		bus.Publish(e)
	}
	bus.Close()
	<-done
	b.close()

	var out bytes.Buffer
	app.PrintSummary(&out, engine.RunFinished{Result: engine.ResultFailed, ExitCode: 1, Duration: 25e9})
	want := []string{"passed       build", "failed (2)   test", "skipped      deploy", "passed       notify", "build failed in 25s"}
	for _, w := range want {
		if !strings.Contains(out.String(), w) {
			t.Errorf("summary lacks %q:\n%s", w, out.String())
		}
	}
}

func TestBridgeNextEndsWhenClosed(t *testing.T) {
	b := newBridge(false)
	b.close()
	if msg := b.next(); msg != nil {
		t.Errorf("next after close = %#v, want nil", msg)
	}
}
