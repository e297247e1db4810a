package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"werk/engine"
)

// debugFlags are the step-by-step debugging options of build, dev and
// deploy.
type debugFlags struct {
	step           bool
	breakBefore    []string
	breakOnFailure bool
}

func (d *debugFlags) register(fl *pflag.FlagSet) {
	fl.BoolVar(&d.step, "step", false, "pause before each step: run it, skip it, open a shell in the box, or continue without pausing")
	fl.StringArrayVar(&d.breakBefore, "break-before", nil, "pause before the step with this name (its name option, else its id); repeatable")
	fl.BoolVar(&d.breakOnFailure, "break-on-failure", false, "pause when a step fails: open a shell in the box, retry the step, skip it, or abort")
}

func (d *debugFlags) any() bool { return d.step || len(d.breakBefore) > 0 || d.breakOnFailure }

// applyDebug sets the run's pauses and terminals. With the terminal UI the
// app supplies the debugger and the terminals (runWithTUI); without it the
// user's terminal does, and pausing needs one.
func applyDebug(opts *engine.Options, d *debugFlags, all []engine.Step, withTUI bool) error {
	for _, name := range d.breakBefore {
		if !slices.ContainsFunc(all, func(s engine.Step) bool { return s.Info().Name == name || s.Info().ID == name }) {
			return fmt.Errorf("--break-before %q: the pipeline has no step of that name; its steps are %s", name, stepNames(all))
		}
	}
	opts.Debug = engine.DebugOptions{Step: d.step, BreakBefore: d.breakBefore, BreakOnFailure: d.breakOnFailure}
	if withTUI {
		return nil
	}
	if haveTerminal() {
		opts.Terminals = rawTerminalHost{}
		if d.any() {
			opts.Debug.Debugger = plainDebugger{}
		}
		return nil
	}
	if d.any() {
		return errNoDebugTerminal
	}
	return nil
}

func stepNames(all []engine.Step) string {
	names := make([]string, 0, len(all))
	for _, s := range all {
		names = append(names, fmt.Sprintf("%q", s.Info().Name))
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

var _ interface {
	Stepping() bool
	SetStepping(bool)
} = (*tuiController)(nil)

// Stepping reports whether the current run pauses before each step.
func (c *tuiController) Stepping() bool {
	c.mu.Lock()
	r := c.runner
	c.mu.Unlock()
	return r != nil && r.Stepping()
}

// SetStepping turns pausing before each step on or off for the current run.
func (c *tuiController) SetStepping(on bool) {
	c.mu.Lock()
	r := c.runner
	c.mu.Unlock()
	if r != nil {
		r.SetStepping(on)
	}
}
