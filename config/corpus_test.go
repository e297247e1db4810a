package config

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// corpusDirPath is the folder of real wercker.yml files collected from public
// repositories, which sits beside the repository.
var corpusDirPath = filepath.Join("..", "..", "shared", "corpus", "wercker-yml")

// corpusDir returns corpusDirPath, skipping the test when it is absent.
func corpusDir(t *testing.T) string {
	if _, err := os.Stat(corpusDirPath); err != nil {
		t.Skipf("corpus of real wercker.yml files not found: %v", err)
	}
	return corpusDirPath
}

// corpusPaths returns the .yml files of the corpus sorted by name, or nil
// when the corpus is absent.
func corpusPaths() []string {
	files, _ := filepath.Glob(filepath.Join(corpusDirPath, "*.yml"))
	return files
}

// corpusFiles returns corpusPaths, skipping the test when there are none.
func corpusFiles(t *testing.T) []string {
	files := corpusPaths()
	if len(files) == 0 {
		t.Skipf("no .yml files in %s", corpusDirPath)
	}
	return files
}

// corpusBroken reads INDEX.tsv and returns the files whose features column
// contains "broken".
func corpusBroken(t *testing.T) map[string]bool {
	data, err := os.ReadFile(filepath.Join(corpusDir(t), "INDEX.tsv"))
	if err != nil {
		t.Fatalf("corpus index: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	header := strings.Split(lines[0], "\t")
	featuresCol := -1
	for i, name := range header {
		if name == "features" {
			featuresCol = i
		}
	}
	if featuresCol < 0 || header[0] != "file" {
		t.Fatalf("corpus index header %q lacks the file or features column", lines[0])
	}
	broken := map[string]bool{}
	for _, line := range lines[1:] {
		cols := strings.Split(line, "\t")
		if len(cols) <= featuresCol {
			continue
		}
		for _, feature := range strings.Split(cols[featuresCol], ",") {
			if feature == "broken" {
				broken[cols[0]] = true
			}
		}
	}
	return broken
}

// corpusFailures are the corpus files that must fail to load, with the line and
// a substring of the error werk reports.
var corpusFailures = map[string]struct {
	line int
	want string
}{
	// "code:" on a continuation line of the plain scalar "maven build".
	"7CHANHO__oraclecloud_api_handson.yml": {13, "mapping values are not allowed"},
	// A second "steps:" indented by three spaces under a map indented by two.
	"AgAmemnno__gowerkgcloud.yml": {36, "did not find expected key"},
	// Steps written as a map of step ids instead of a list.
	"b4b4r07__wercker__dot-wercker-yml.yml": {4, `steps of pipeline "build" must be a list of steps, not a map`},
	// A list item indented with a tab.
	"spectatorpublishing__NewShaft__dot-wercker-yml.yml": {27, "tab character"},
	// wercker's own fixture of invalid workflows. The first problem is a cycle.
	"termie__wercker__tests_workflow_validation-yml.yml": {121, `workflow "circular1" contains cycle echoa -> echob -> echoa`},
}

// corpusEmptyPipelines are pipelines of loading corpus files that have no
// steps and no deploy targets, by file.
var corpusEmptyPipelines = map[string][]string{
	// A fixture of wercker's tests for box parsing: these pipelines hold only
	// a box, and Parse warns about each.
	"termie__wercker__tests_box_structs-yml.yml": {"build", "deploy", "amzn", "docker-v2", "docker", "azure"},
}

func TestCorpus(t *testing.T) {
	broken := corpusBroken(t)
	for name := range broken {
		if _, ok := corpusFailures[name]; !ok {
			t.Errorf("%s is marked broken in the index but has no entry in corpusFailures", name)
		}
	}
	for _, path := range corpusFiles(t) {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			f, err := Load(path)
			checkErrorPositions(t, path, err)
			failure, mustFail := corpusFailures[name]
			switch {
			case mustFail && err == nil:
				t.Fatalf("loaded, want an error containing %q at line %d", failure.want, failure.line)
			case mustFail:
				checkCorpusFailure(t, err, failure.line, failure.want)
			case err != nil:
				t.Fatalf("failed to load:\n%v", err)
			default:
				checkLoadedCorpusFile(t, name, f)
			}
		})
	}
}

// checkErrorPositions asserts that each problem points at a line of the file
// and at a column within that line, or at no column.
func checkErrorPositions(t *testing.T, path string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	data, readErr := os.ReadFile(path)
	if readErr != nil {
		t.Fatal(readErr)
	}
	lines := strings.Split(string(data), "\n")
	for _, e := range Errors(err) {
		if e.Pos.File != path {
			t.Errorf("error file %q, want %q: %v", e.Pos.File, path, e)
		}
		if e.Pos.Line < 1 || e.Pos.Line > len(lines) {
			t.Errorf("error line %d outside the file's %d lines: %v", e.Pos.Line, len(lines), e)
			continue
		}
		if width := len([]rune(lines[e.Pos.Line-1])); e.Pos.Column < 0 || e.Pos.Column > width+1 {
			t.Errorf("error column %d outside line %d of width %d: %v", e.Pos.Column, e.Pos.Line, width, e)
		}
	}
}

func checkCorpusFailure(t *testing.T, err error, line int, want string) {
	t.Helper()
	list := Errors(err)
	if len(list) == 0 {
		t.Fatalf("error %v (%T) is neither *Error nor ErrorList", err, err)
	}
	first := list[0]
	if !strings.Contains(first.Msg, want) {
		t.Errorf("first error = %v, want it to contain %q", first, want)
	}
	if first.Pos.Line != line {
		t.Errorf("first error at line %d, want %d: %v", first.Pos.Line, line, first)
	}
}

func checkLoadedCorpusFile(t *testing.T, name string, f *File) {
	t.Helper()
	allowedEmpty := map[string]bool{}
	for _, pipeline := range corpusEmptyPipelines[name] {
		allowedEmpty[pipeline] = true
	}
	for _, pipelineName := range f.PipelineNames {
		pl := f.Pipelines[pipelineName]
		hasSteps := len(pl.Steps) > 0 || len(pl.TargetNames) > 0
		if !hasSteps && !allowedEmpty[pipelineName] {
			t.Errorf("pipeline %q has no steps and no deploy targets", pipelineName)
		}
		if hasSteps && allowedEmpty[pipelineName] {
			t.Errorf("pipeline %q is listed in corpusEmptyPipelines but has steps", pipelineName)
		}
	}
	Describe(io.Discard, f)
}

func TestCorpusCRLF(t *testing.T) {
	for _, path := range corpusFiles(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		lf := bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
		crlf := bytes.ReplaceAll(lf, []byte("\n"), []byte("\r\n"))
		fromLF, errLF := Parse(path, lf)
		fromCRLF, errCRLF := Parse(path, crlf)
		name := filepath.Base(path)
		if (errLF == nil) != (errCRLF == nil) {
			t.Errorf("%s: LF error %v, CRLF error %v", name, errLF, errCRLF)
			continue
		}
		if errLF != nil {
			if errLF.Error() != errCRLF.Error() {
				t.Errorf("%s: errors differ\nLF:   %v\nCRLF: %v", name, errLF, errCRLF)
			}
			continue
		}
		if !reflect.DeepEqual(fromLF, fromCRLF) {
			t.Errorf("%s: the CRLF model differs from the LF model", name)
		}
	}
}
