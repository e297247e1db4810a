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

// ProcGroupScript runs a command as the leader of its own session in a box
// ("wait") and stops that whole session with a signal, a grace period and
// SIGKILL ("stop", or "serve" for a long-lived shell that takes stop
// requests), reading /proc instead of running ps. The script's header lists
// the arguments of each mode.
//
//go:embed scripts/procgroup.sh
var ProcGroupScript string
