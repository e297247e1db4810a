package engine

import "time"

// ConfigChanged reports that the run's wercker.yml changed on disk while the
// watch step runs. Err is nil when the new file is valid: a restart of the
// pipeline applies it, which the UI offers (or the main loop does at once
// under --restart-on-config-change). When Err is set, the file does not load
// and the running pipeline goes on unchanged.
type ConfigChanged struct {
	Path string
	Err  error
	Time time.Time
}

func (ConfigChanged) event() {}
