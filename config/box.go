package config

import (
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// boxStringFields are the box map keys whose value is a plain string.
var boxStringFields = map[string]func(*Box) *string{
	"id":         func(b *Box) *string { return &b.ID },
	"tag":        func(b *Box) *string { return &b.Tag },
	"name":       func(b *Box) *string { return &b.Name },
	"cmd":        func(b *Box) *string { return &b.Cmd },
	"entrypoint": func(b *Box) *string { return &b.Entrypoint },
	"username":   func(b *Box) *string { return &b.Username },
	"password":   func(b *Box) *string { return &b.Password },
	"registry":   func(b *Box) *string { return &b.Registry },
	"url":        func(b *Box) *string { return &b.URL },
}

// cloudAuthFields are the registry login fields of Amazon ECR and Azure ACR
// that wercker accepted in a box map.
var cloudAuthFields = map[string]string{
	"aws-access-key":        "Amazon ECR",
	"aws-secret-key":        "Amazon ECR",
	"aws-region":            "Amazon ECR",
	"aws-registry-id":       "Amazon ECR",
	"aws-strict-auth":       "Amazon ECR",
	"azure-client-id":       "Azure ACR",
	"azure-client-secret":   "Azure ACR",
	"azure-subscription-id": "Azure ACR",
	"azure-tenant-id":       "Azure ACR",
	"azure-resource-group":  "Azure ACR",
	"azure-registry-name":   "Azure ACR",
	"azure-login-server":    "Azure ACR",
}

// parseMainBox reads the top-level or pipeline-level box. A null value means
// no box, so the pipeline falls back to the top-level one.
func (p *parser) parseMainBox(e entry) *Box {
	if isNull(e.value) {
		return nil
	}
	b := p.parseBox(e.value, "box")
	if b == nil {
		return nil
	}
	// name and url only mean something for a service, and wercker ignored
	// them on the main box.
	if b.Name != "" {
		p.warnf(e.value, "", "box field \"name\" is used only for services; it is ignored for the main box")
		b.Name = ""
	}
	if b.URL != "" {
		p.warnf(e.value, "", "box field \"url\" is used only for services; it is ignored for the main box")
		b.URL = ""
	}
	return b
}

// parseServices reads a services key: a list of box specs, or one spec
// written without the list.
func (p *parser) parseServices(e entry) []Box {
	n := e.value
	if isNull(n) {
		return nil
	}
	items := []*yaml.Node{n}
	if isList(n) {
		items = n.Content
	}
	var services []Box
	for _, item := range items {
		if b := p.parseBox(resolve(item), "service"); b != nil {
			services = append(services, *b)
		}
	}
	return services
}

// parseBox reads an image name or a box map. subject is "box" or "service".
func (p *parser) parseBox(n *yaml.Node, subject string) *Box {
	hint := fmt.Sprintf("write an image name, as in `%s: alpine:3.19`, or a map with an id", subject)
	switch {
	case isScalar(n) && scalarText(n) != "":
		return &Box{ID: n.Value, Pos: p.posOf(n)}
	case isScalar(n) && !isNull(n):
		p.errorf(n, hint, "%s image name is empty", subject)
		return nil
	case isMap(n):
		return p.parseBoxMap(n, subject)
	default:
		p.errorf(n, hint, "%s must be an image name or a map with an id, not %s", subject, kindName(n))
		return nil
	}
}

func (p *parser) parseBoxMap(n *yaml.Node, subject string) *Box {
	b := &Box{Pos: p.posOf(n)}
	providers := map[string]*yaml.Node{}
	for _, e := range p.entries(n) {
		p.parseBoxField(b, e, subject, providers)
	}
	if b.ID == "" {
		p.errorf(n, "add `id: IMAGE`, for example `id: alpine:3.19`", "%s map has no id", subject)
		return nil
	}
	p.warnCloudAuth(providers)
	return b
}

// parseBoxField stores one key of a box map in b. providers collects the
// first key of each cloud login it meets, for one warning per provider.
func (p *parser) parseBoxField(b *Box, e entry, subject string, providers map[string]*yaml.Node) {
	if field, ok := boxStringFields[e.key]; ok {
		*field(b), _ = p.stringOf(e.value, fmt.Sprintf("%s field %q", subject, e.key))
		return
	}
	if provider, ok := cloudAuthFields[e.key]; ok {
		value, _ := p.stringOf(e.value, fmt.Sprintf("%s field %q", subject, e.key))
		if b.CloudAuth == nil {
			b.CloudAuth = map[string]string{}
		}
		b.CloudAuth[e.key] = value
		if providers[provider] == nil {
			providers[provider] = e.keyNode
		}
		return
	}
	switch e.key {
	case "env":
		b.Env = p.parseEnv(e.value, subject)
	case "ports":
		b.Ports = p.parsePorts(e.value, subject)
	case "volumes":
		b.Volumes = p.parseVolumes(e.value, subject)
	default:
		p.warnf(e.keyNode, "known fields are "+knownBoxFields(), "unknown %s field %q; werk ignores it", subject, e.key)
	}
}

func (p *parser) warnCloudAuth(providers map[string]*yaml.Node) {
	names := make([]string, 0, len(providers))
	for name := range providers {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p.warnf(providers[name], "log in to the registry with username and password, or pull the image before the run",
			"werk does not support %s registry login; the aws-*/azure-* fields are ignored", name)
	}
}

func knownBoxFields() string {
	names := []string{"env", "ports", "volumes"}
	for name := range boxStringFields {
		names = append(names, name)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// parseEnv reads an env map. Keys are upper-cased as wercker did, so two keys
// that differ only in case are reported as duplicates.
func (p *parser) parseEnv(n *yaml.Node, subject string) []EnvVar {
	if isNull(n) {
		return nil
	}
	if !isMap(n) {
		p.errorf(n, "write one `NAME: value` line per variable", "%s field \"env\" must be a map, not %s", subject, kindName(n))
		return nil
	}
	var env []EnvVar
	seen := map[string]bool{}
	for _, e := range p.entries(n) {
		key := strings.ToUpper(e.key)
		value, ok := p.stringOf(e.value, fmt.Sprintf("env variable %q", e.key))
		if !ok {
			continue
		}
		if seen[key] {
			p.errorf(e.keyNode, "env keys are upper-cased, so keys must differ in more than case", "duplicate env variable %q", key)
			continue
		}
		seen[key] = true
		env = append(env, EnvVar{Key: key, Value: value})
	}
	return env
}

// parsePorts reads a list of port specs. A single spec without the list is
// accepted too.
func (p *parser) parsePorts(n *yaml.Node, subject string) []string {
	if isNull(n) {
		return nil
	}
	items := []*yaml.Node{n}
	if isList(n) {
		items = n.Content
	} else if !isScalar(n) {
		p.errorf(n, "write a list such as `ports: [\"8080\", \"8443:443\"]`", "%s field \"ports\" must be a list of ports, not %s", subject, kindName(n))
		return nil
	}
	var ports []string
	for _, item := range items {
		port, ok := p.stringOf(resolve(item), "a port")
		if ok && port != "" {
			ports = append(ports, port)
		}
	}
	return ports
}

// parseVolumes reads volumes: wercker's string of entries separated by spaces
// or commas, or, as an extension, a YAML list with one entry per item.
func (p *parser) parseVolumes(n *yaml.Node, subject string) []string {
	if isNull(n) {
		return nil
	}
	if isScalar(n) {
		return splitVolumes(n.Value)
	}
	if !isList(n) {
		p.errorf(n, "write `volumes: /host/path:/guest/path`", "%s field \"volumes\" must be a string or a list, not %s", subject, kindName(n))
		return nil
	}
	var volumes []string
	for _, item := range n.Content {
		volume, ok := p.stringOf(resolve(item), "a volume")
		if volume = strings.TrimSpace(volume); ok && volume != "" {
			volumes = append(volumes, volume)
		}
	}
	return volumes
}

func splitVolumes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n'
	})
}
