package config

import (
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Error is one problem in a wercker.yml, with its position. Parse also uses it
// for warnings, which are stored in File.Warnings instead of being returned.
type Error struct {
	Pos  Pos
	Msg  string
	Hint string

	// Err is the underlying error, such as the *fs.PathError of a failed read.
	// It is nil for problems found in the document itself.
	Err error
}

// Error formats the problem as "file:line:col: message (hint: ...)".
func (e *Error) Error() string {
	s := e.Pos.String() + ": " + e.Msg
	if e.Hint != "" {
		s += " (hint: " + e.Hint + ")"
	}
	return s
}

// Unwrap returns the underlying error, if any.
func (e *Error) Unwrap() error { return e.Err }

// ErrorList is every problem Parse found in one file, sorted by position.
type ErrorList []*Error

// Error returns one line per problem.
func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems as errors, so errors.As finds the first *Error.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// sortByPos orders problems by line, then column, then message, so the output
// is stable whatever order the checks ran in.
func sortByPos(list []*Error) {
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line < b.Pos.Line
		}
		if a.Pos.Column != b.Pos.Column {
			return a.Pos.Column < b.Pos.Column
		}
		return a.Msg < b.Msg
	})
}

// dedupe removes repeated problems from a sorted list. A list or map that is
// reused through an alias is checked at each use, so its problems would
// otherwise be reported once per use.
func dedupe(list []*Error) []*Error {
	var out []*Error
	for _, e := range list {
		if n := len(out); n > 0 && out[n-1].Pos == e.Pos && out[n-1].Msg == e.Msg {
			continue
		}
		out = append(out, e)
	}
	return out
}

// asError returns a single problem as *Error and several as ErrorList, so a
// caller that prints the error gets the same text either way.
func (l ErrorList) asError() error {
	switch len(l) {
	case 0:
		return nil
	case 1:
		return l[0]
	default:
		return l
	}
}

// Errors returns the problems inside err: the *Error itself, the members of an
// ErrorList, or nil for any other error.
func Errors(err error) []*Error {
	switch e := err.(type) {
	case *Error:
		return []*Error{e}
	case ErrorList:
		return e
	default:
		return nil
	}
}

// posOf returns the position of a YAML node in the file being parsed.
func (p *parser) posOf(n *yaml.Node) Pos {
	if n == nil {
		return Pos{File: p.path}
	}
	return Pos{File: p.path, Line: n.Line, Column: n.Column}
}

// errorf records an error at node n.
func (p *parser) errorf(n *yaml.Node, hint, format string, args ...any) {
	p.errs = append(p.errs, &Error{Pos: p.posOf(n), Msg: fmt.Sprintf(format, args...), Hint: hint})
}

// warnf records a warning at node n.
func (p *parser) warnf(n *yaml.Node, hint, format string, args ...any) {
	p.warnings = append(p.warnings, &Error{Pos: p.posOf(n), Msg: fmt.Sprintf(format, args...), Hint: hint})
}
