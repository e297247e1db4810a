package config

import (
	"go.yaml.in/yaml/v3"
)

// entry is one key of a YAML map after aliases and merge keys are resolved.
// keyNode gives the position of the key, and value is already resolved.
type entry struct {
	key     string
	keyNode *yaml.Node
	value   *yaml.Node
}

// resolve follows an alias to the node it names. The yaml library never
// anchors an alias node, so one step is enough.
func resolve(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

func isScalar(n *yaml.Node) bool {
	return n != nil && n.Kind == yaml.ScalarNode
}

func isMap(n *yaml.Node) bool {
	return n != nil && n.Kind == yaml.MappingNode
}

func isList(n *yaml.Node) bool {
	return n != nil && n.Kind == yaml.SequenceNode
}

// kindName names the YAML type of n for messages such as "must be a list of
// steps, not a map".
func kindName(n *yaml.Node) string {
	switch {
	case isNull(n):
		return "an empty value"
	case isScalar(n):
		return scalarKindName(n)
	case isMap(n):
		return "a map"
	case isList(n):
		return "a list"
	default:
		return "an unsupported YAML node"
	}
}

func scalarKindName(n *yaml.Node) string {
	switch n.ShortTag() {
	case "!!int", "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	default:
		return "a string"
	}
}

// scalarText returns the text of a scalar as written, without quotes, and ""
// for null. Callers check isScalar first.
func scalarText(n *yaml.Node) string {
	if isNull(n) {
		return ""
	}
	return n.Value
}

// entries returns the keys of map node m in file order, with merge keys ("<<")
// expanded in place. Explicit keys win over merged ones, and an earlier merge
// source wins over a later one, as in the YAML merge-key type. It records an
// error for a key that is not a string, a duplicate key and a bad merge value.
// Results are memoised per node, which also keeps a document that merges the
// same anchor many times linear in size.
func (p *parser) entries(m *yaml.Node) []entry {
	if list, ok := p.merged[m]; ok {
		return list
	}
	if p.merging[m] {
		p.errorf(m, "remove the merge key that refers back to this map", "merge key makes this map include itself")
		return nil
	}
	p.merging[m] = true
	defer delete(p.merging, m)

	explicit := p.explicitKeys(m)
	var out []entry
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := resolve(m.Content[i]), m.Content[i+1]
		if isMergeKey(k) {
			for _, e := range p.mergeSources(k, v) {
				if !explicit[e.key] && !seen[e.key] {
					seen[e.key] = true
					out = append(out, e)
				}
			}
			continue
		}
		if !isScalar(k) || seen[k.Value] {
			continue
		}
		seen[k.Value] = true
		out = append(out, entry{key: k.Value, keyNode: k, value: resolve(v)})
	}
	p.merged[m] = out
	return out
}

// explicitKeys returns the keys written directly in m and reports keys that
// are not strings and keys written twice.
func (p *parser) explicitKeys(m *yaml.Node) map[string]bool {
	first := map[string]*yaml.Node{}
	keys := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := resolve(m.Content[i])
		if isMergeKey(k) {
			continue
		}
		if !isScalar(k) {
			p.errorf(k, "", "map key must be a string, not %s", kindName(k))
			continue
		}
		if prev, dup := first[k.Value]; dup {
			p.errorf(k, "remove one of the two entries", "duplicate key %q, first defined at line %d", k.Value, prev.Line)
			continue
		}
		first[k.Value] = k
		keys[k.Value] = true
	}
	return keys
}

func isMergeKey(k *yaml.Node) bool {
	return isScalar(k) && k.ShortTag() == "!!merge"
}

// mergeHint explains the usual mistake behind a merge of a list: "- <<: *steps"
// where the anchor is a list of steps.
const mergeHint = "merge keys merge maps; to reuse a list, write the alias alone, as in `steps: *name`"

// mergeSources returns the entries a merge key brings in. Its value must be a
// map, or a list written in place whose items are maps ("<<: [*a, *b]").
func (p *parser) mergeSources(key, value *yaml.Node) []entry {
	target := resolve(value)
	if isMap(target) {
		return p.entries(target)
	}
	if isList(value) {
		var out []entry
		for _, item := range value.Content {
			source := resolve(item)
			if !isMap(source) {
				p.errorf(item, mergeHint, "merge key %q needs maps, but this item is %s", key.Value, kindName(source))
				continue
			}
			out = append(out, p.entries(source)...)
		}
		return out
	}
	what := kindName(target)
	if value.Kind == yaml.AliasNode {
		p.errorf(key, mergeHint, "merge key %q needs a map, but alias *%s is %s", key.Value, value.Value, what)
	} else {
		p.errorf(key, mergeHint, "merge key %q needs a map, but its value is %s", key.Value, what)
	}
	return nil
}
