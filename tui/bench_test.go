package tui

import (
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"werk/engine"
)

// floodBatch is one frame of a flood of numbered lines: 33,000 lines, what a
// 33 ms frame brings at 1,000,000 lines a second.
func floodBatch(step engine.StepRef, from int) eventsMsg {
	events := make([]engine.Event, 0, 33_000)
	for i := range 33_000 {
		events = append(events, engine.LogLine{Step: step, Text: strconv.Itoa(from + i), Time: t0})
	}
	return eventsMsg{events: events}
}

// BenchmarkApplyFloodBatch measures one update with a frame of flood lines
// plus the redraw that follows it.
func BenchmarkApplyFloodBatch(b *testing.B) {
	m, _ := newTestModel(Options{})
	step := ref(engine.PhaseMain, 0, "flood")
	update(m, tea.WindowSizeMsg{Width: 120, Height: 40}, eventsMsg{events: startedRun("flood")})
	batches := make([]eventsMsg, 8)
	for i := range batches {
		batches[i] = floodBatch(step, i*33_000)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		m.Update(batches[i%len(batches)])
		m.View()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/33_000, "ns/line")
}

// BenchmarkKeyDuringFlood measures a key press and the redraw after it with
// a full buffer.
func BenchmarkKeyDuringFlood(b *testing.B) {
	m, _ := newTestModel(Options{})
	step := ref(engine.PhaseMain, 0, "flood")
	update(m, tea.WindowSizeMsg{Width: 120, Height: 40}, eventsMsg{events: startedRun("flood")})
	for i := range 10 {
		update(m, floodBatch(step, i*33_000))
	}
	b.ResetTimer()
	for b.Loop() {
		m.Update(press('m'))
		m.View()
	}
}

// BenchmarkScrollLongLines measures one row of scrolling and the redraw in
// a view of 100,000-character lines, wrapped.
func BenchmarkScrollLongLines(b *testing.B) {
	m, _ := newTestModel(Options{})
	step := ref(engine.PhaseMain, 0, "long")
	events := startedRun("long")
	for range 20 {
		events = append(events, engine.LogLine{Step: step, Text: strings.Repeat("宽x", 50_000), Time: t0})
	}
	update(m, tea.WindowSizeMsg{Width: 120, Height: 40}, eventsMsg{events: events})
	update(m, special(tea.KeyHome, 0))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if i%2000 == 0 {
			update(m, special(tea.KeyHome, 0))
		}
		m.Update(press('j'))
		m.View()
	}
}

// BenchmarkRenderFrame measures drawing a whole 200x60 frame from scratch.
func BenchmarkRenderFrame(b *testing.B) {
	m, _ := newTestModel(Options{})
	update(m, tea.WindowSizeMsg{Width: 200, Height: 60}, eventsMsg{events: finishedRun()})
	b.ResetTimer()
	for b.Loop() {
		m.touch(paneSteps, paneLogs, panePorts, paneReloads)
		m.View()
	}
}

var _ = time.Second
