// Package assets holds files werk embeds: shell scripts that run inside box
// containers.
package assets

import _ "embed"

// SessionScript defines the functions of werk's long-lived step shell. It is
// sourced once when a shell session starts.
//
//go:embed scripts/session.sh
var SessionScript string

// InitScript is the equivalent of wercker's wercker-init step: the helper
// functions step scripts call (success, info, warn, fail, setMessage, ...).
//
//go:embed scripts/init.sh
var InitScript string

// KillTreeScript signals a process and all its descendants, found through
// /proc, so it works on busybox boxes without a procps ps. Arguments: the
// signal name, then one or more PIDs.
//
//go:embed scripts/killtree.sh
var KillTreeScript string
