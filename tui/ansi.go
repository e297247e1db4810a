package tui

import "regexp"

// ansiSequence matches CSI sequences (colours, cursor movement) and OSC
// sequences ending in BEL or ST.
var ansiSequence = regexp.MustCompile("\x1b\\[[0-9;?]*[ -/]*[@-~]|\x1b\\][^\x07\x1b]*(\x07|\x1b\\\\)|\x1b[@-Z\\\\-_]")

// StripANSI removes terminal escape sequences from s.
func StripANSI(s string) string {
	return ansiSequence.ReplaceAllString(s, "")
}
