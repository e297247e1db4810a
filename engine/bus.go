package engine

import (
	"sync"
)

// Bus delivers the engine's events to its subscribers.
//
// Delivery has two guarantees, chosen per subscription. A reliable
// subscription receives every event, and Publish waits for it; the plain
// printer and the run's log file use one. A lossy subscription receives every
// event except LogLine events that arrive while its buffer is full: those are
// dropped and counted, and the count arrives as a LogsDropped event before the
// next event that is delivered. The TUI uses one, so a flood of log lines
// never blocks the engine behind the screen; state events still wait for it.
//
// Publish redacts secrets from the text of LogLine and Notice events before
// any subscriber sees them.
type Bus struct {
	mu       sync.Mutex
	subs     []*Subscription
	redactor *Redactor
}

// NewBus returns a Bus that redacts with r; r may be nil.
func NewBus(r *Redactor) *Bus {
	if r == nil {
		r = NewRedactor()
	}
	return &Bus{redactor: r}
}

// Redactor returns the bus's redactor, so steps can add secrets they learn.
func (b *Bus) Redactor() *Redactor { return b.redactor }

// Subscription is one subscriber's queue of events.
type Subscription struct {
	C       <-chan Event
	ch      chan Event
	lossy   bool
	dropped int
	done    chan struct{}
	once    sync.Once
}

// Subscribe adds a subscriber with a queue of buffer events.
func (b *Bus) Subscribe(buffer int, lossy bool) *Subscription {
	ch := make(chan Event, buffer)
	s := &Subscription{C: ch, ch: ch, lossy: lossy, done: make(chan struct{})}
	b.mu.Lock()
	b.subs = append(b.subs, s)
	b.mu.Unlock()
	return s
}

// Close stops delivery to s. Publish never blocks on a closed subscription.
func (s *Subscription) Close() {
	s.once.Do(func() { close(s.done) })
}

// Publish sends e to every subscriber.
func (b *Bus) Publish(e Event) {
	e = b.redactEvent(e)
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.subs {
		s.deliver(e)
	}
}

func (s *Subscription) deliver(e Event) {
	_, isLog := e.(LogLine)
	if s.lossy && isLog {
		if s.dropped > 0 && !s.trySend(LogsDropped{Count: s.dropped}) {
			s.dropped++
			return
		}
		if s.dropped > 0 {
			s.dropped = 0
		}
		if !s.trySend(e) {
			s.dropped++
		}
		return
	}
	if s.dropped > 0 {
		s.send(LogsDropped{Count: s.dropped})
		s.dropped = 0
	}
	s.send(e)
}

func (s *Subscription) trySend(e Event) bool {
	select {
	case <-s.done:
		return true
	default:
	}
	select {
	case s.ch <- e:
		return true
	default:
		return false
	}
}

func (s *Subscription) send(e Event) {
	select {
	case s.ch <- e:
	case <-s.done:
	}
}

// Close closes every subscription's channel after the last event, so ranging
// subscribers end. Publish must not be called afterwards.
func (b *Bus) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.subs {
		close(s.ch)
	}
	b.subs = nil
}

func (b *Bus) redactEvent(e Event) Event {
	switch v := e.(type) {
	case LogLine:
		v.Text = b.redactor.Redact(v.Text)
		return v
	case Notice:
		v.Text = b.redactor.Redact(v.Text)
		return v
	case StepFinished:
		v.Message = b.redactor.Redact(v.Message)
		return v
	case RunFinished:
		if v.Err != nil {
			v.Err = redactedError{msg: b.redactor.Redact(v.Err.Error()), cause: v.Err}
		}
		return v
	}
	return e
}

// redactedError keeps the cause for errors.Is and errors.As while its text has
// the secrets masked.
type redactedError struct {
	msg   string
	cause error
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.cause }
