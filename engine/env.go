package engine

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/joho/godotenv"
)

// Env is an ordered set of environment variables. A later Set overwrites the
// value but keeps the first position, as wercker's pipeline environment did.
type Env struct {
	keys   []string
	values map[string]string
	hidden map[string]bool
}

// NewEnv returns an empty Env.
func NewEnv() *Env {
	return &Env{values: map[string]string{}, hidden: map[string]bool{}}
}

// Set stores key=value.
func (e *Env) Set(key, value string) {
	if _, ok := e.values[key]; !ok {
		e.keys = append(e.keys, key)
	}
	e.values[key] = value
}

// SetHidden stores key=value and marks the value as a secret.
func (e *Env) SetHidden(key, value string) {
	e.Set(key, value)
	e.hidden[key] = true
}

// Get returns the value of key, or "" when it is not set.
func (e *Env) Get(key string) string { return e.values[key] }

// Lookup returns the value of key and whether it is set.
func (e *Env) Lookup(key string) (string, bool) {
	v, ok := e.values[key]
	return v, ok
}

// Keys returns the names in insertion order.
func (e *Env) Keys() []string { return append([]string(nil), e.keys...) }

// List returns KEY=VALUE entries in insertion order.
func (e *Env) List() []string {
	out := make([]string, 0, len(e.keys))
	for _, k := range e.keys {
		out = append(out, k+"="+e.values[k])
	}
	return out
}

// Secrets returns the values that must never be printed: hidden values and
// values of variables whose name marks a secret.
func (e *Env) Secrets() []string {
	var out []string
	for _, k := range e.keys {
		if e.hidden[k] || IsSecretName(k) {
			out = append(out, e.values[k])
		}
	}
	return out
}

// Clone returns an independent copy.
func (e *Env) Clone() *Env {
	c := NewEnv()
	for _, k := range e.keys {
		c.Set(k, e.values[k])
		c.hidden[k] = e.hidden[k]
	}
	return c
}

// Expand replaces $NAME and ${NAME} in s with values of e; unknown names become
// empty, and $$ is a literal $.
func (e *Env) Expand(s string) string {
	const placeholder = "\x00werk-dollar\x00"
	s = strings.ReplaceAll(s, "$$", placeholder)
	s = os.Expand(s, e.Get)
	return strings.ReplaceAll(s, placeholder, "$")
}

// HostEnv builds the host environment wercker-style: the process environment
// (environ), plus the entries of envFile that do not override a non-empty
// value, plus X_-prefixed copies of the proxy variables.
func HostEnv(environ []string, envFile string) (map[string]string, error) {
	host := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			host[k] = v
		}
	}
	if envFile != "" {
		fileVars, err := godotenv.Read(envFile)
		if err != nil {
			return nil, fmt.Errorf("environment file %q: %w", envFile, err)
		}
		for k, v := range fileVars {
			if host[k] == "" {
				host[k] = v
			}
		}
	}
	for _, name := range []string{"http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"} {
		if v, ok := host[name]; ok {
			if _, exists := host["X_"+name]; !exists {
				host["X_"+name] = v
			}
		}
	}
	return host, nil
}

// addPassThrough copies host X_NAME as NAME and XXX_NAME as hidden NAME, in
// sorted order so runs are reproducible.
func addPassThrough(env *Env, host map[string]string) {
	names := make([]string, 0, len(host))
	for k := range host {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if name, ok := strings.CutPrefix(k, "X_"); ok && name != "" {
			env.Set(name, host[k])
		}
	}
	for _, k := range names {
		if name, ok := strings.CutPrefix(k, "XXX_"); ok && name != "" {
			env.SetHidden(name, host[k])
		}
	}
	for _, k := range []string{"WERCKER_STARTED_BY", "WERCKER_MAIN_PIPELINE_STARTED"} {
		if v, ok := host[k]; ok {
			env.Set(k, v)
		}
	}
}
