package engine

import (
	"sort"
	"strings"
	"sync"
)

// Mask replaces a secret in every output of werk.
const Mask = "***"

// minSecretLength is the shortest value treated as a secret. Masking one- and
// two-character values would garble ordinary output ("1", "on") while hiding
// almost nothing.
const minSecretLength = 3

// Redactor masks known secret values in text. It is safe for concurrent use.
type Redactor struct {
	mu       sync.RWMutex
	secrets  []string
	replacer *strings.Replacer
}

// NewRedactor returns a Redactor with no secrets.
func NewRedactor() *Redactor { return &Redactor{} }

// IsSecretName reports whether a variable or option named name holds a secret:
// its upper-cased name contains PASSWORD, TOKEN or SECRET, or ends in _KEY or
// -KEY (API_KEY, ssh-key), or is KEY.
func IsSecretName(name string) bool {
	upper := strings.ToUpper(name)
	if norm := strings.ReplaceAll(upper, "-", "_"); norm == "KEY" || strings.HasSuffix(norm, "_KEY") {
		return true
	}
	return strings.Contains(upper, "PASSWORD") || strings.Contains(upper, "TOKEN") ||
		strings.Contains(upper, "SECRET")
}

// Add registers secret values. Each line of a multi-line value is masked on its
// own as well, because output arrives line by line.
func (r *Redactor) Add(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	changed := false
	for _, v := range values {
		for _, part := range append([]string{v}, strings.Split(v, "\n")...) {
			part = strings.TrimRight(part, "\r")
			if len(part) < minSecretLength || r.has(part) {
				continue
			}
			r.secrets = append(r.secrets, part)
			changed = true
		}
	}
	if !changed {
		return
	}
	// Longer secrets first, so a secret that contains another is masked whole.
	sort.Slice(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
	pairs := make([]string, 0, 2*len(r.secrets))
	for _, s := range r.secrets {
		pairs = append(pairs, s, Mask)
	}
	r.replacer = strings.NewReplacer(pairs...)
}

func (r *Redactor) has(v string) bool {
	for _, s := range r.secrets {
		if s == v {
			return true
		}
	}
	return false
}

// Redact returns s with every registered secret replaced by Mask.
func (r *Redactor) Redact(s string) string {
	r.mu.RLock()
	rep := r.replacer
	r.mu.RUnlock()
	if rep == nil {
		return s
	}
	return rep.Replace(s)
}
