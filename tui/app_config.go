package tui

import (
	"path/filepath"

	tea "charm.land/bubbletea/v2"

	"werk/engine"
)

// rerunMsg carries the outcome of Controller.Rerun back to the update loop.
type rerunMsg struct {
	// err is set when the configuration did not load; the run goes on.
	err error
	// reason is what asked for the rerun, for the status message.
	reason rerunReason
}

// rerunReason is what asked for a rerun.
type rerunReason int

const (
	rerunByKey rerunReason = iota
	rerunByConfigChange
)

// configChanged shows a change of wercker.yml that a watch step reported:
// the restart prompt when the file is valid, else its error. Under
// RestartOnConfigChange a valid change starts the rerun at once.
func (m *model) configChanged(v engine.ConfigChanged) tea.Cmd {
	name := configFileName(v.Path)
	if v.Err != nil {
		text := name + " changed but is invalid, so the running pipeline goes on unchanged: " + sanitizeName(firstLine(v.Err.Error()))
		m.setConfigNote(text, true)
		m.mark(m.werkSource(), styleError+"error: "+text+sgrReset, v.Time)
		return nil
	}
	if m.opts.RestartOnConfigChange {
		m.setConfigNote("", false)
		m.mark(m.werkSource(), styleNotice+name+" changed and is valid; restarting the pipeline with it"+sgrReset, v.Time)
		return m.requestRerun(rerunByConfigChange)
	}
	text := name + " changed: restart werk to apply it"
	if m.opts.CanRerun {
		text = name + " changed: press r to restart the pipeline with it"
	}
	m.setConfigNote(text, false)
	m.mark(m.werkSource(), styleNotice+text+sgrReset, v.Time)
	return nil
}

// requestRerun asks the controller for a rerun from a command, because
// Rerun reads wercker.yml. A change of the configuration during a pending
// rerun asks again, so the rerun uses the newest file; the controller makes
// sure that this stops the run only once.
func (m *model) requestRerun(reason rerunReason) tea.Cmd {
	if m.rerunPending && reason == rerunByKey {
		return nil
	}
	m.rerunPending = true
	ctrl := m.ctrl
	return func() tea.Msg {
		return rerunMsg{err: ctrl.Rerun(), reason: reason}
	}
}

// rerunDone shows the outcome of a rerun request: when the configuration
// did not load, its error replaces the prompt and the run goes on.
func (m *model) rerunDone(msg rerunMsg) {
	if msg.err != nil {
		m.rerunPending = false
		m.setConfigNote("restart failed, so the running pipeline goes on unchanged: "+sanitizeName(firstLine(msg.err.Error())), true)
		m.mark(m.werkSource(), styleError+"error: restart failed: "+sanitizeName(msg.err.Error())+sgrReset, m.now())
		m.touch(paneLogs)
		return
	}
	m.setConfigNote("", false)
	if m.run.active() {
		m.say("stopping the run to start it again")
	} else {
		m.say("starting the pipeline again")
	}
}

func (m *model) setConfigNote(text string, invalid bool) {
	m.configNote, m.configInvalid = text, invalid
	m.frameDirty = true
}

// configFileName returns the base name of the wercker.yml at path.
func configFileName(path string) string {
	if path == "" {
		return "wercker.yml"
	}
	return filepath.Base(path)
}
