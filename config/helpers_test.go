package config

import (
	"strings"
	"testing"
)

const testPath = "wercker.yml"

// mustParse parses src and fails the test on any error.
func mustParse(t *testing.T, src string) *File {
	t.Helper()
	f, err := Parse(testPath, []byte(src))
	if err != nil {
		t.Fatalf("Parse failed\ninput:\n%s\nerror:\n%v", src, err)
	}
	return f
}

// errCase is an input with one expected problem: a message substring and the
// position it must be reported at. A zero col means the column is unknown.
type errCase struct {
	name string
	src  string
	line int
	col  int
	want string
	hint string // substring of the hint, if any is expected
}

// checkErrCase parses c.src, expects an error containing c.want and checks
// its position and hint.
func checkErrCase(t *testing.T, c errCase) {
	t.Helper()
	f, err := Parse(testPath, []byte(c.src))
	if err == nil {
		t.Fatalf("Parse succeeded, want error %q\ninput:\n%s\nwarnings: %v", c.want, c.src, f.Warnings)
	}
	e := findError(Errors(err), c.want)
	if e == nil {
		t.Fatalf("no error contains %q\ninput:\n%s\ngot:\n%v", c.want, c.src, err)
	}
	if e.Pos.File != testPath {
		t.Errorf("file = %q, want %q (error %v)", e.Pos.File, testPath, e)
	}
	if e.Pos.Line != c.line || e.Pos.Column != c.col {
		t.Errorf("position = %d:%d, want %d:%d\ninput:\n%s\nerror: %v", e.Pos.Line, e.Pos.Column, c.line, c.col, c.src, e)
	}
	if c.hint != "" && !strings.Contains(e.Hint, c.hint) {
		t.Errorf("hint = %q, want it to contain %q", e.Hint, c.hint)
	}
}

func findError(list []*Error, substr string) *Error {
	for _, e := range list {
		if strings.Contains(e.Msg, substr) {
			return e
		}
	}
	return nil
}

func runErrCases(t *testing.T, cases []errCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkErrCase(t, c) })
	}
}

// findWarning returns the warning whose message contains substr.
func findWarning(f *File, substr string) *Error {
	return findError(f.Warnings, substr)
}
