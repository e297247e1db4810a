package config

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// parseStep reads one entry of a step list, in any of the shapes wercker
// accepted: a plain id, an id with a map of options under it, or an id whose
// options sit beside it in the same map (indented one level too little).
func (p *parser) parseStep(item *yaml.Node) *Step {
	n := resolve(item)
	switch {
	case isNull(n):
		p.errorf(item, "write a step id after the `-`, or remove the line", "step entry is empty")
	case isScalar(n):
		return p.newStep(n, n.Value, nil)
	case isMap(n):
		return p.parseStepMap(item, n)
	case isList(n):
		hint := "remove the extra `-`; a step entry is an id or a map"
		if item.Kind == yaml.AliasNode {
			hint = "YAML cannot insert a list into another list; to reuse a list of steps, write the alias as the whole list, as in `steps: *name`"
		}
		p.errorf(item, hint, "step entry must be a step id or a map, not a list")
	default:
		p.errorf(item, "", "step entry must be a step id or a map, not %s", kindName(n))
	}
	return nil
}

// parseStepMap reads a step written as a map. With one key, the value contains
// the options. With several, the first key is the id and must have no value,
// and the other keys are the options.
func (p *parser) parseStepMap(item, n *yaml.Node) *Step {
	fields := p.entries(n)
	if len(fields) == 0 {
		p.errorf(item, "write a step id, as in `- script:`", "step entry is an empty map")
		return nil
	}
	first := fields[0]
	indentHint := fmt.Sprintf("indent the options under the step id, or write `- %s` without the colon if the step takes none", first.key)
	switch {
	case len(fields) == 1 && isMap(first.value):
		return p.newStep(first.keyNode, first.key, p.entries(first.value))
	case len(fields) == 1 && isList(first.value):
		p.errorf(first.value, "write the options as `key: value` lines under the step id", "options of step %q must be a map, not a list", first.key)
	case len(fields) == 1:
		p.errorf(first.keyNode, indentHint, "step %q has no options", first.key)
	case !isNull(first.value):
		p.errorf(first.keyNode, "indent all options under the step id",
			"step %q has options both under it and beside it", first.key)
	default:
		return p.newStep(first.keyNode, first.key, fields[1:])
	}
	return nil
}

// newStep builds a step from its id text and option entries. at is the node
// of the id, for positions.
func (p *parser) newStep(at *yaml.Node, text string, options []entry) *Step {
	s := &Step{Pos: p.posOf(at)}
	if msg, hint := s.setID(text); msg != "" {
		p.errorf(at, hint, "%s", msg)
		return nil
	}
	ok := true
	for _, o := range options {
		ok = p.setOption(s, o) && ok
	}
	if !ok {
		return nil
	}
	if s.DisplayName == "" {
		s.DisplayName = s.Name
	}
	p.checkBuiltin(s, at)
	return s
}

// setOption stores one option entry in s. The reserved keys name, cwd and
// checkpoint go to their own fields, and every other value keeps its scalar
// text.
func (p *parser) setOption(s *Step, o entry) bool {
	if list, ok := listOption(s, o); ok {
		s.Options = append(s.Options, Option{Key: o.key, Value: list, Pos: p.posOf(o.keyNode)})
		return true
	}
	if !isScalar(o.value) {
		p.errorf(o.value, "write multi-line text as a block scalar, as in `code: |`",
			"option %q of step %q must be a string, not %s", o.key, s.ID, kindName(o.value))
		return false
	}
	value := scalarText(o.value)
	switch o.key {
	case "name":
		s.DisplayName = value
	case "cwd":
		s.Cwd = value
	case "checkpoint":
		s.Checkpoint = value
	default:
		s.Options = append(s.Options, Option{Key: o.key, Value: value, Pos: p.posOf(o.keyNode)})
	}
	return true
}

// setID fills the id fields of s from text, which follows the grammar
// `[owner/]name[@version] ["URL"]`. It returns a message and a hint when the
// text does not fit.
func (s *Step) setID(text string) (msg, hint string) {
	text = strings.TrimSpace(text)
	id, rest := text, ""
	if i := strings.IndexAny(text, " \t\n"); i >= 0 {
		id, rest = text[:i], strings.TrimSpace(text[i:])
	}
	if id == "" {
		return "step id is empty", "write a step id, as in `- script:`"
	}
	if rest != "" {
		url, msg, hint := parseStepURL(text, rest)
		if msg != "" {
			return msg, hint
		}
		s.URL = url
	}

	s.ID = id
	s.Owner, s.Name = "wercker", id
	if owner, name, ok := strings.Cut(id, "/"); ok {
		s.Owner, s.Name = owner, name
	}
	if name, version, ok := strings.Cut(s.Name, "@"); ok {
		s.Name, s.Version = name, version
		if version == "" {
			return fmt.Sprintf("step id %q has an empty version after @", text), "write the version, as in `me/step@1.2.0`, or remove the @"
		}
	}
	if s.Owner == "" || s.Name == "" || strings.Contains(s.Name, "/") {
		return fmt.Sprintf("invalid step id %q", text), "write `name`, `owner/name` or `owner/name@version`"
	}
	return "", ""
}

// parseStepURL reads the quoted URL that may follow a step id. wercker read it
// as a Go-quoted string. A file:// URL names a local step directory and an
// http(s):// URL a step tarball.
func parseStepURL(text, quoted string) (url, msg, hint string) {
	hint = "write the URL in double quotes after the id, as in `my-step \"file:///path/to/step\"`"
	if !strings.HasPrefix(quoted, `"`) {
		return "", fmt.Sprintf("step id %q contains a space", text),
			"to run a shell command, use a script step with a code option; a step URL goes in double quotes after the id"
	}
	url, err := strconv.Unquote(quoted)
	if err != nil {
		return "", fmt.Sprintf("step id %q has a URL that is not a valid quoted string", text), hint
	}
	lower := strings.ToLower(url)
	for _, scheme := range []string{"file://", "http://", "https://"} {
		if strings.HasPrefix(lower, scheme) && len(url) > len(scheme) {
			return url, "", ""
		}
	}
	return "", fmt.Sprintf("step URL %q must start with file://, http:// or https://", url), hint
}

// listOptions are the options that also take a YAML list of strings, keyed by
// step id. The list arrives as one value with an item per line.
var listOptions = map[string]map[string]bool{
	"internal/watch": {"ignore": true},
}

// listOption returns the value of a list-valued option that listOptions
// allows, joined with newlines.
func listOption(s *Step, o entry) (string, bool) {
	if !listOptions[s.ID][o.key] || o.value.Kind != yaml.SequenceNode {
		return "", false
	}
	items := make([]string, 0, len(o.value.Content))
	for _, item := range o.value.Content {
		if !isScalar(item) {
			return "", false
		}
		items = append(items, scalarText(item))
	}
	return strings.Join(items, "\n"), true
}
