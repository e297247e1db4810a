package config

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

var (
	// yamlErrorRe splits a yaml library error into its optional line and the
	// problem text.
	yamlErrorRe = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)
	// unknownAnchorRe matches the error of an alias whose anchor is missing.
	unknownAnchorRe = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)
)

// syntaxError converts an error of the yaml library to an *Error. The library
// gives no column, so Column stays 0 except for an unknown anchor, whose first
// use is looked up in the source.
func (p *parser) syntaxError(err error, data []byte) *Error {
	e := &Error{Pos: Pos{File: p.path}, Msg: "invalid YAML: " + err.Error(), Err: err}
	m := yamlErrorRe.FindStringSubmatch(err.Error())
	if m == nil {
		return e
	}
	libLine, _ := strconv.Atoi(m[1])
	problem := m[2]
	e.Msg = "invalid YAML: " + problem
	e.Hint = syntaxHint(problem)
	if a := unknownAnchorRe.FindStringSubmatch(problem); a != nil {
		e.Msg = fmt.Sprintf("alias *%s refers to an anchor that is not defined before it", a[1])
		e.Hint = fmt.Sprintf("define the anchor with `&%s` on a value above its first use", a[1])
		e.Pos.Line, e.Pos.Column = findAlias(data, a[1])
		return e
	}
	e.Pos.Line = locateProblem(data, problem, libLine)
	return e
}

// syntaxHint returns advice for the yaml errors that people hit most in
// wercker.yml files, which are indentation mistakes.
func syntaxHint(problem string) string {
	switch {
	case strings.Contains(problem, "tab character"),
		strings.Contains(problem, "cannot start any token"):
		return "YAML does not allow tabs for indentation; indent with spaces"
	case strings.Contains(problem, "mapping values are not allowed"),
		strings.Contains(problem, "did not find expected key"),
		strings.Contains(problem, "did not find expected '-' indicator"):
		return "check the indentation of this line against the lines above it"
	case strings.Contains(problem, "unexpected end of stream"):
		return "a quote or bracket opened on this line is never closed"
	default:
		return ""
	}
}

// maxLocateBytes bounds the work of locateProblem, which parses one prefix of
// the document per line. wercker.yml files are far smaller.
const maxLocateBytes = 16 << 20

// locateProblem returns the line of a syntax error. For many errors the yaml
// library reports the line where the enclosing map or list starts, and that
// line counted from 0, not the line of the mistake. The mistake is on the
// first line whose prefix of the document fails with the same problem, so
// locateProblem parses growing prefixes, starting a line before the reported
// one because the reported line is never after the mistake. It returns
// libLine when no prefix fails the same way or the work bound is reached.
func locateProblem(data []byte, problem string, libLine int) int {
	ends := lineEnds(data)
	start := max(libLine-1, 1)
	if strings.Contains(problem, "unexpected end of stream") {
		// The reported line is the end of the file, and the unclosed quote or
		// bracket can be anywhere above it.
		start = 1
	}
	work := 0
	for line := start; line <= len(ends); line++ {
		prefix := data[:ends[line-1]]
		work += len(prefix)
		if work > maxLocateBytes {
			break
		}
		var n yaml.Node
		err := yaml.Unmarshal(prefix, &n)
		if err == nil {
			continue
		}
		if m := yamlErrorRe.FindStringSubmatch(err.Error()); m != nil && m[2] == problem {
			return line
		}
	}
	return libLine
}

// lineEnds returns, for each line of data, the offset just past its end.
func lineEnds(data []byte) []int {
	var ends []int
	for i, c := range data {
		if c == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		ends = append(ends, len(data))
	}
	return ends
}

// findAlias returns the 1-based line and column of the first "*name" in data,
// or zeros when it is not found.
func findAlias(data []byte, name string) (line, column int) {
	re := regexp.MustCompile(`\*` + regexp.QuoteMeta(name) + `(?:[\s,\]}]|$)`)
	loc := re.FindIndex(data)
	if loc == nil {
		return 0, 0
	}
	before := data[:loc[0]]
	line = bytes.Count(before, []byte("\n")) + 1
	start := bytes.LastIndexByte(before, '\n') + 1
	column = len([]rune(string(data[start:loc[0]]))) + 1
	return line, column
}
