package config

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// workflowNodeKeys are the keys of one pipeline entry of a workflow.
var workflowNodeKeys = []string{"name", "pipelineName", "requires", "artifactPipeline", "envFile"}

// nodeRef is a workflow node with the positions its checks report.
type nodeRef struct {
	node       *WorkflowNode
	nameAt     *yaml.Node
	pipelineAt *yaml.Node // pipelineName, or name when pipelineName is absent
	requiresAt []*yaml.Node
	artifactAt *yaml.Node
}

// parseWorkflows reads the top-level workflows list and validates each
// workflow against the pipelines of f.
func (p *parser) parseWorkflows(e entry, f *File) []Workflow {
	if isNull(e.value) {
		return nil
	}
	if !isList(e.value) {
		p.errorf(e.value, "start each workflow with `- name: NAME`", "workflows must be a list, not %s", kindName(e.value))
		return nil
	}
	var workflows []Workflow
	first := map[string]*yaml.Node{}
	for _, item := range e.value.Content {
		w, nameAt := p.parseWorkflow(resolve(item), f)
		if w == nil {
			continue
		}
		if prev, dup := first[w.Name]; dup {
			p.errorf(nameAt, "give each workflow its own name", "duplicate workflow name %q, first used at line %d", w.Name, prev.Line)
			continue
		}
		first[w.Name] = nameAt
		workflows = append(workflows, *w)
	}
	return workflows
}

// parseWorkflow reads one workflow map. It also returns the node of the
// name, for the duplicate check.
func (p *parser) parseWorkflow(n *yaml.Node, f *File) (*Workflow, *yaml.Node) {
	if !isMap(n) {
		p.errorf(n, "start each workflow with `- name: NAME`", "workflow must be a map with name and pipelines, not %s", kindName(n))
		return nil, nil
	}
	w := &Workflow{Pos: p.posOf(n)}
	var nameAt, pipelines *yaml.Node
	for _, e := range p.entries(n) {
		switch e.key {
		case "name":
			w.Name, _ = p.stringOf(e.value, "workflow name")
			nameAt = e.value
		case "pipelines":
			pipelines = e.value
		default:
			p.warnf(e.keyNode, "a workflow has the keys name and pipelines", "unknown workflow key %q; werk ignores it", e.key)
		}
	}
	if w.Name == "" {
		p.errorf(n, "add `name: NAME`", "workflow has no name")
		return nil, nil
	}
	refs := p.parseWorkflowNodes(w, pipelines, n)
	if refs == nil {
		return nil, nil
	}
	for _, r := range refs {
		w.Pipelines = append(w.Pipelines, *r.node)
	}
	p.validateWorkflow(w, refs, f)
	return w, nameAt
}

func (p *parser) parseWorkflowNodes(w *Workflow, list, at *yaml.Node) []*nodeRef {
	if isNull(list) || (isList(list) && len(list.Content) == 0) {
		p.errorf(at, "add `pipelines:` with a list of `- name: PIPELINE` entries", "workflow %q has no pipelines", w.Name)
		return nil
	}
	if !isList(list) {
		p.errorf(list, "start each entry with `- name: PIPELINE`", "pipelines of workflow %q must be a list, not %s", w.Name, kindName(list))
		return nil
	}
	var refs []*nodeRef
	ok := true
	for _, item := range list.Content {
		r := p.parseWorkflowNode(w, resolve(item))
		if r == nil {
			ok = false
			continue
		}
		refs = append(refs, r)
	}
	if !ok {
		return nil
	}
	return refs
}

// parseWorkflowNode reads one pipeline entry of a workflow. pipelineName
// defaults to name, and requires may be one string instead of a list.
func (p *parser) parseWorkflowNode(w *Workflow, n *yaml.Node) *nodeRef {
	if !isMap(n) {
		p.errorf(n, "write `- name: PIPELINE`", "pipeline entry of workflow %q must be a map, not %s", w.Name, kindName(n))
		return nil
	}
	r := &nodeRef{node: &WorkflowNode{Pos: p.posOf(n)}}
	for _, e := range p.entries(n) {
		p.setWorkflowNodeField(w, r, e)
	}
	if r.node.Name == "" {
		p.errorf(n, "add `name: PIPELINE`", "pipeline entry of workflow %q has no name", w.Name)
		return nil
	}
	if r.node.PipelineName == "" {
		r.node.PipelineName = r.node.Name
		r.pipelineAt = r.nameAt
	}
	return r
}

func (p *parser) setWorkflowNodeField(w *Workflow, r *nodeRef, e entry) {
	subject := fmt.Sprintf("%q of a pipeline entry in workflow %q", e.key, w.Name)
	switch e.key {
	case "name":
		r.node.Name, _ = p.stringOf(e.value, subject)
		r.nameAt = e.value
	case "pipelineName":
		r.node.PipelineName, _ = p.stringOf(e.value, subject)
		r.pipelineAt = e.value
	case "artifactPipeline":
		r.node.ArtifactPipeline, _ = p.stringOf(e.value, subject)
		r.artifactAt = e.value
	case "envFile":
		r.node.EnvFile, _ = p.stringOf(e.value, subject)
	case "requires":
		p.setRequires(r, e.value, subject)
	default:
		hint := "the keys are " + strings.Join(workflowNodeKeys, ", ")
		if s := suggestKey(e.key, workflowNodeKeys); s != "" {
			hint = fmt.Sprintf("did you mean %q?", s)
		}
		p.warnf(e.keyNode, hint, "unknown key %q in a pipeline entry of workflow %q; werk ignores it", e.key, w.Name)
	}
}

func (p *parser) setRequires(r *nodeRef, n *yaml.Node, subject string) {
	items := []*yaml.Node{n}
	switch {
	case isNull(n):
		return
	case isList(n):
		items = n.Content
	case !isScalar(n):
		p.errorf(n, "write a list of pipeline names", "%s must be a list of names, not %s", subject, kindName(n))
		return
	}
	for _, item := range items {
		item = resolve(item)
		if name, ok := p.stringOf(item, subject+" item"); ok && name != "" {
			r.node.Requires = append(r.node.Requires, name)
			r.requiresAt = append(r.requiresAt, item)
		}
	}
}
