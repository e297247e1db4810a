package tui

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"werk/engine"
)

// frameInterval is the pace at which engine events reach the app: all
// events that arrived during one interval come as one message, so a flood of
// log lines costs one update and one redraw per frame.
const frameInterval = 33 * time.Millisecond

// maxPendingLogs bounds the log lines waiting for the next frame, about
// 15 MiB of short lines. When the app falls this far behind, further lines
// are dropped from the view and counted; the run's log file still gets them.
// At 1,000,000 lines a second one frame brings about 33,000 lines.
const maxPendingLogs = 131_072

// subscriptionBuffer is the capacity of the app's lossy bus subscription.
// Its goroutine drains it continuously, so it only has to absorb the time
// that goroutine waits for a CPU: measured on 2 cores, a buffer of 8,192
// dropped a quarter of a 1,300,000-lines-a-second flood.
const subscriptionBuffer = 65_536

// eventsMsg carries the engine events of one frame to the app.
type eventsMsg struct {
	events []engine.Event
	// dropped counts log lines the bridge dropped because the app fell
	// behind.
	dropped int
}

// bridge moves engine events from bus subscriptions to the app. A goroutine
// per subscription moves its events into a queue as they arrive, so the
// engine does not wait for the screen. The app takes the queue once per
// frame with next. Only log lines are ever dropped from the queue. The
// bridge also records the events the end-of-run summary needs.
type bridge struct {
	mu      sync.Mutex
	pending []engine.Event
	logs    int
	dropped int
	summary *Plain
	closed  bool
	// catchingUp is set while the queue holds more than one message.
	catchingUp bool

	wake chan struct{}
	done chan struct{}
	once sync.Once
	last time.Time
}

func newBridge(color bool) *bridge {
	return &bridge{
		summary: NewPlain(nil, color),
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
}

// follow drains sub until its channel closes, and then closes the returned
// channel. A panic while draining is logged and closes sub, because a
// subscription nobody drains would block the engine's next state event.
func (b *bridge) follow(sub *engine.Subscription) <-chan struct{} {
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		defer func() {
			if r := recover(); r != nil {
				sub.Close()
				slog.Error("terminal UI bridge panicked; the screen stops updating", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				for range sub.C {
				}
			}
		}()
		batch := make([]engine.Event, 0, drainMax)
		for e := range sub.C {
			// Take what else is queued already, so a flood costs one lock
			// and one wake-up per drainMax events.
			batch = append(batch[:0], e)
			open := true
			for open && len(batch) < drainMax {
				select {
				case e, ok := <-sub.C:
					if ok {
						batch = append(batch, e)
					}
					open = ok
				default:
					open = false
				}
			}
			b.push(batch)
		}
	}()
	return finished
}

// drainMax is the most events the bridge moves to its queue at once.
const drainMax = 1024

// chunkMax is the most events in one eventsMsg, about 2 ms of work for the
// app (BenchmarkApplyFloodBatch), so a key press waits behind at most that
// much of a backlog.
const chunkMax = 16_384

func (b *bridge) push(events []engine.Event) {
	b.mu.Lock()
	for _, e := range events {
		if _, isLog := e.(engine.LogLine); !isLog {
			b.summary.Record(e)
		} else if b.closed || b.logs >= maxPendingLogs {
			b.dropped++
			continue
		} else {
			b.logs++
		}
		if !b.closed {
			b.pending = append(b.pending, e)
		}
	}
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// next waits for events, then for the rest of the current frame, and
// returns the queued events as one eventsMsg, at most chunkMax of them. A
// longer queue comes in back-to-back messages without waiting, so key
// presses are handled between them. It returns nil once the bridge is
// closed. The app runs it as a command, outside its update loop.
func (b *bridge) next() tea.Msg {
	b.mu.Lock()
	backlog := len(b.pending) > 0 && b.catchingUp
	b.mu.Unlock()
	if !backlog {
		select {
		case <-b.wake:
		case <-b.done:
			return nil
		}
		if wait := frameInterval - time.Since(b.last); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-b.done:
				t.Stop()
				return nil
			}
		}
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	n := min(len(b.pending), chunkMax)
	msg := eventsMsg{events: b.pending[:n:n], dropped: b.dropped}
	for _, e := range msg.events {
		if _, isLog := e.(engine.LogLine); isLog {
			b.logs--
		}
	}
	b.dropped = 0
	b.catchingUp = n < len(b.pending)
	if b.catchingUp {
		b.pending = b.pending[n:]
	} else {
		b.pending = make([]engine.Event, 0, min(n, maxPendingLogs))
		b.last = time.Now()
	}
	return msg
}

// close stops delivery to the app. The follow goroutines still drain their
// subscriptions and record the summary, so the engine can finish the run.
func (b *bridge) close() {
	b.once.Do(func() {
		b.mu.Lock()
		b.closed = true
		b.pending = nil
		b.mu.Unlock()
		close(b.done)
	})
}
