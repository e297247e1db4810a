package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Find returns the path of the wercker.yml in dir: the first of FileNames that
// exists there.
func Find(dir string) (string, error) {
	for _, name := range FileNames {
		path := filepath.Join(dir, name)
		info, err := os.Stat(path)
		if err == nil && !info.IsDir() {
			return path, nil
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("checking for %s failed: %w", path, err)
		}
	}
	return "", fmt.Errorf("no wercker.yml found in %q (tried %s); pass the file with --wercker-yml PATH",
		dir, strings.Join(FileNames, ", "))
}

// Load reads and parses the file at path. Errors are as for Parse, plus an
// *Error wrapping the read failure.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		cause := err
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			cause = pathErr.Err // the path is already in Pos
		}
		return nil, &Error{Pos: Pos{File: path}, Msg: "read failed: " + cause.Error(), Err: err}
	}
	return Parse(path, data)
}

// Parse parses and validates the contents of a wercker.yml. The path appears
// only in positions and messages. On failure it returns an *Error when there is
// one problem and an ErrorList, sorted by position, when there are several.
// The *File is then nil. Problems that do not stop a run are returned in
// File.Warnings.
func Parse(path string, data []byte) (f *File, err error) {
	defer func() {
		// FuzzParse checks that parsing does not panic. Should the parser or the
		// yaml library still crash on some input, the caller gets an error
		// that names the file instead of a stack trace.
		if r := recover(); r != nil {
			f = nil
			err = &Error{
				Pos:  Pos{File: path},
				Msg:  fmt.Sprintf("internal error while parsing: %v", r),
				Hint: "this is a bug in werk; please report it together with the file",
			}
		}
	}()

	return parseUnguarded(path, data)
}

// parseUnguarded is Parse without the recover, so that tests see panics.
func parseUnguarded(path string, data []byte) (*File, error) {
	p := newParser(path)
	f := p.parse(data)
	sortByPos(p.errs)
	sortByPos(p.warnings)
	if len(p.errs) > 0 {
		return nil, ErrorList(dedupe(p.errs)).asError()
	}
	f.Warnings = dedupe(p.warnings)
	return f, nil
}

// parser is the state of one Parse call.
type parser struct {
	path     string
	errs     ErrorList
	warnings []*Error

	// merged memoises entries per map node. merging marks the maps whose merge
	// keys are being expanded, to detect a map that merges itself.
	merged  map[*yaml.Node][]entry
	merging map[*yaml.Node]bool
}

func newParser(path string) *parser {
	return &parser{
		path:    path,
		merged:  map[*yaml.Node][]entry{},
		merging: map[*yaml.Node]bool{},
	}
}

// fileName returns the base name of the file for messages, such as
// "wercker.yml is empty".
func (p *parser) fileName() string {
	if p.path == "" {
		return "wercker.yml"
	}
	return filepath.Base(p.path)
}

// parse returns the model of the document, or nil after recording an error
// that makes the rest of the document unreadable.
func (p *parser) parse(data []byte) *File {
	// CRLF line ends must give the same model as LF ones. The yaml library
	// (v3.0.6) already reads them as LF in every scalar style the tests try.
	// Replacing them first keeps that true whatever the library does.
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))

	root := p.decode(data)
	if root == nil {
		return nil
	}
	if !isMap(root) {
		p.errorf(root, "the top level contains keys such as box, build and deploy",
			"%s must be a map of pipelines and settings, not %s", p.fileName(), kindName(root))
		return nil
	}
	return p.parseFile(root)
}

// decode returns the top node of the first YAML document, or nil after
// recording a syntax error or an empty document.
func (p *parser) decode(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := dec.Decode(&doc)
	if err != nil && !errors.Is(err, io.EOF) {
		p.errs = append(p.errs, p.syntaxError(err, data))
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || isNull(doc.Content[0]) {
		p.errs = append(p.errs, &Error{
			Pos:  Pos{File: p.path},
			Msg:  p.fileName() + " is empty",
			Hint: "add a box and a build pipeline with steps",
		})
		return nil
	}

	var next yaml.Node
	if dec.Decode(&next) == nil && next.Kind == yaml.DocumentNode {
		line := 0
		if len(next.Content) > 0 {
			line = next.Content[0].Line
		}
		p.warnings = append(p.warnings, &Error{
			Pos:  Pos{File: p.path, Line: line},
			Msg:  "the file contains more than one YAML document; werk reads only the first",
			Hint: "remove the `---` line that starts the second document",
		})
	}
	return doc.Content[0]
}
