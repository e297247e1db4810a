package engine

// Stop ends the whole run, whatever step runs: the running step stops, the
// remaining steps and after-steps are skipped, and the run's containers are
// removed unless NoRemove is set. Run then returns a RunFinished with
// ResultInterrupted. A UserStoppable step (a watch) is stopped as on the
// first Ctrl-C, so its processes get their signal and grace period, and the
// run ends when the step has returned.
//
// Unlike Interrupt, Stop does not count as an interrupt: a later Interrupt
// still needs a second call to force a kill. Stop returns false, and does
// nothing, before Run has started; after Run has returned it has no effect.
func (r *Runner) Stop() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cancelRun == nil {
		return false
	}
	if us, ok := r.currentStep.(UserStoppable); ok && us.StopsOnInterrupt() && r.cancelStep != nil {
		// The step's context ends first with ErrStoppedByUser, so the step
		// stops gracefully. The run's cause, set next, makes the step count
		// as interrupted and skips the rest.
		r.cancelStep(ErrStoppedByUser)
	}
	r.cancelRun(ErrInterrupted)
	return true
}
