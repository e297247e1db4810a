package config

import (
	"fmt"
	"strings"
)

// validateWorkflow runs the checks of wercker's workflow validation: unique
// node names, defined pipelines, known required nodes, exactly one root, no
// cycle, and an artifactPipeline taken from requires. Unlike wercker it
// reports every failed check, not only the first.
func (p *parser) validateWorkflow(w *Workflow, refs []*nodeRef, f *File) {
	byName := map[string]*nodeRef{}
	for _, r := range refs {
		if prev, dup := byName[r.node.Name]; dup {
			p.errorf(r.nameAt, "give each pipeline entry its own name and set pipelineName to run the same pipeline twice",
				"workflow %q has two pipeline entries named %q (first at line %d)", w.Name, r.node.Name, prev.node.Pos.Line)
			continue
		}
		byName[r.node.Name] = r
	}

	for _, r := range refs {
		if _, ok := f.Pipelines[r.node.PipelineName]; !ok {
			p.errorf(r.pipelineAt, "define the pipeline as a top-level key, or set pipelineName to one that exists",
				"workflow %q runs pipeline %q, which is not defined", w.Name, r.node.PipelineName)
		}
		for i, req := range r.node.Requires {
			if _, ok := byName[req]; !ok {
				p.errorf(r.requiresAt[i], "requires names entries of the same workflow",
					"pipeline entry %q of workflow %q requires %q, which is not in the workflow", r.node.Name, w.Name, req)
			}
		}
	}

	p.checkRoots(w, refs, byName)
	p.checkCycles(w, refs, byName)
	p.checkArtifacts(w, refs)
}

// checkRoots reports a workflow without exactly one entry that has no
// requires. Entries with a duplicate name are left out, as they were reported.
func (p *parser) checkRoots(w *Workflow, refs []*nodeRef, byName map[string]*nodeRef) {
	var roots []string
	for _, r := range refs {
		if len(r.node.Requires) == 0 && byName[r.node.Name] == r {
			roots = append(roots, r.node.Name)
		}
	}
	hint := "exactly one pipeline entry must have no requires"
	switch {
	case len(roots) == 0:
		p.errs = append(p.errs, &Error{Pos: w.Pos, Hint: hint,
			Msg: fmt.Sprintf("workflow %q has no root pipeline", w.Name)})
	case len(roots) > 1:
		p.errs = append(p.errs, &Error{Pos: w.Pos, Hint: hint,
			Msg: fmt.Sprintf("workflow %q has multiple root pipelines: %s", w.Name, strings.Join(roots, ", "))})
	}
}

// checkCycles reports the first cycle of requires found by a depth-first
// search. One cycle is enough to make the workflow unrunnable.
func (p *parser) checkCycles(w *Workflow, refs []*nodeRef, byName map[string]*nodeRef) {
	const (
		unvisited = iota
		onPath
		done
	)
	state := map[string]int{}
	var path []string
	var visit func(name string) []string
	visit = func(name string) []string {
		state[name] = onPath
		path = append(path, name)
		for _, req := range byName[name].node.Requires {
			if _, known := byName[req]; !known {
				continue
			}
			switch state[req] {
			case onPath:
				start := indexOf(path, req)
				return append(append([]string{}, path[start:]...), req)
			case unvisited:
				if cycle := visit(req); cycle != nil {
					return cycle
				}
			}
		}
		path = path[:len(path)-1]
		state[name] = done
		return nil
	}
	for _, r := range refs {
		if state[r.node.Name] != unvisited || byName[r.node.Name] != r {
			continue
		}
		if cycle := visit(r.node.Name); cycle != nil {
			p.errs = append(p.errs, &Error{
				Pos:  byName[cycle[0]].node.Pos,
				Msg:  fmt.Sprintf("workflow %q contains cycle %s", w.Name, strings.Join(cycle, " -> ")),
				Hint: "remove one of the requires that form the cycle",
			})
			return
		}
	}
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

func (p *parser) checkArtifacts(w *Workflow, refs []*nodeRef) {
	for _, r := range refs {
		artifact := r.node.ArtifactPipeline
		if artifact == "" || indexOf(r.node.Requires, artifact) >= 0 {
			continue
		}
		p.errorf(r.artifactAt, "artifactPipeline picks the output of one of the required entries",
			"artifactPipeline %q of pipeline entry %q in workflow %q is not one of its requires", artifact, r.node.Name, w.Name)
	}
}
