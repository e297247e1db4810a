package tui

import (
	"strings"
	"testing"

	"werk/engine"
)

func TestPlainPrintsLastRedrawOfLine(t *testing.T) {
	var out strings.Builder
	p := NewPlain(&out, false)
	p.Handle(engine.LogLine{Step: engine.StepRef{Name: "fetch"}, Text: "downloading  10%\rdownloading  50%\rdownloading 100%"})
	got := out.String()
	if got != "[fetch] downloading 100%\n" {
		t.Errorf("printed %q, want the last redraw after the prefix", got)
	}
}
