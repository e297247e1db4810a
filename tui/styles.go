package tui

import (
	"strconv"

	"werk/engine"
)

// SGR styles of the panes. They use the 16 ANSI colours, so they follow the
// terminal's own theme.
const (
	styleBold    = "\x1b[1m"
	styleFaint   = "\x1b[2m"
	styleReverse = "\x1b[7m"
	styleRed     = "\x1b[31m"
	styleGreen   = "\x1b[32m"
	styleYellow  = "\x1b[33m"
	styleCyan    = "\x1b[36m"
	styleStderr  = styleYellow
	styleBorder  = "\x1b[90m"    // bright black: unfocused pane borders
	styleFocus   = "\x1b[36m"    // cyan: the focused pane's border
	styleStatus  = "\x1b[7m"     // the status bar
	styleMatch   = "\x1b[30;43m" // the match the view jumped to
	styleWarn    = "\x1b[1;33m"  // dropped lines, warnings
	styleLink    = "\x1b[4;36m"  // published URLs
	styleTitle   = "\x1b[1m"     // pane titles
	styleFailed  = "\x1b[1;31m"  // failed results
	stylePassed  = "\x1b[1;32m"  // passed results
	styleStopped = "\x1b[1;33m"  // interrupted results
	styleDim     = "\x1b[2m"     // waiting and skipped rows
	styleSelect  = "\x1b[7m"     // the selected row of the focused pane
	styleMarker  = "\x1b[1;36m"  // werk's marker lines in the logs
	styleHelpKey = "\x1b[1m"     // keys in the full help
	styleHeading = "\x1b[1;4m"   // headings in the full help
	styleNotice  = "\x1b[2;3m"   // werk's notices in the logs
	styleError   = "\x1b[1;31m"  // werk's errors in the logs
	styleWarning = "\x1b[33m"    // werk's warnings in the logs
	styleInput   = "\x1b[1m"     // the search and confirm prompts
)

const streamStderr = engine.Stderr

// sourceColors are the label colours of log sources, picked in turn:
// cyan, magenta, blue, green, yellow and their bright forms.
var sourceColors = [...]int{36, 35, 34, 32, 33, 96, 95, 94, 92, 93}

// sourceColor returns the SGR sequence of the label colour number i.
func sourceColor(i int) string {
	return "\x1b[" + strconv.Itoa(sourceColors[i%len(sourceColors)]) + "m"
}
