package engine

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
)

// Guest paths of werk's bookkeeping. /werk is a volume of the run, so step
// files and reports never end up in the box's layer or in a committed image.
const (
	guestWerkDir   = "/werk"
	guestStepsDir  = "/werk/steps"
	guestReportDir = "/werk/report"
)

// Box is the running pipeline container and its step shell.
type Box struct {
	d         *Docker
	ID        string
	Name      string
	Image     string
	SourceDir string
	shell     []string

	mu sync.Mutex
	// startMu makes starts of the step shell take turns, so concurrent
	// callers (a step and a debug shell, say) never start two.
	startMu sync.Mutex
	session *session
	// env is the environment every new step shell starts with.
	env []string
	// sessions counts the step shells started. lost is set when one ended
	// during a step (exit, set -e, a timeout) instead of being closed by werk.
	sessions int
	lost     bool
}

// Docker returns the engine connection.
func (b *Box) Docker() *Docker { return b.d }

// ShellCommand returns the command that starts the box's step shell.
func (b *Box) ShellCommand() []string { return append([]string(nil), b.shell...) }

// SessionEnv returns the environment a new step shell starts with.
func (b *Box) SessionEnv() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.env...)
}

// setSessionEnv replaces the environment of the next shell session.
func (b *Box) setSessionEnv(env []string) {
	b.mu.Lock()
	b.env = env
	b.mu.Unlock()
}

// currentSession returns the live step shell, starting a new one when there
// is none or the last one exited.
func (b *Box) currentSession(ctx context.Context) (*session, bool, error) {
	b.startMu.Lock()
	defer b.startMu.Unlock()
	b.mu.Lock()
	s := b.session
	env := b.env
	b.mu.Unlock()
	if s != nil {
		select {
		case <-s.ended:
		default:
			return s, false, nil
		}
	}
	b.mu.Lock()
	restore := b.sessions > 0
	restarted := b.lost
	b.lost = false
	b.mu.Unlock()
	if restore {
		env = b.restoredEnv(ctx, env)
	}
	s, err := startSession(ctx, b.d, b.ID, b.shell, env)
	if err != nil {
		return nil, false, err
	}
	b.mu.Lock()
	b.session = s
	b.sessions++
	b.mu.Unlock()
	return s, restarted, nil
}

// envSnapshotPath is the file where the step shell writes its exported
// environment after each passed step (see assets/scripts/session.sh).
const envSnapshotPath = guestWerkDir + "/env.last"

// restoredEnv returns base overlaid with the exports of the last passed step,
// so a new shell keeps the variables earlier steps exported. The result
// variables of after-steps (WERCKER_RESULT, WERCKER_FAILED_STEP_*) keep the
// values in base. Without a snapshot base is returned unchanged.
func (b *Box) restoredEnv(ctx context.Context, base []string) []string {
	data, err := b.ReadFile(ctx, envSnapshotPath, 16<<20)
	if err != nil {
		return base
	}
	merged := NewEnv()
	for _, entry := range bytes.Split(data, []byte{0}) {
		if k, v, ok := strings.Cut(string(entry), "="); ok && k != "" {
			merged.Set(k, v)
		}
	}
	for _, kv := range base {
		k, v, _ := strings.Cut(kv, "=")
		_, exported := merged.Lookup(k)
		if !exported || strings.HasPrefix(k, "WERCKER_RESULT") || strings.HasPrefix(k, "WERCKER_FAILED_STEP_") {
			merged.Set(k, v)
		}
	}
	return merged.List()
}

// markLost records that the step shell ended during a step, so the next step
// reports that it runs in a new shell.
func (b *Box) markLost() {
	b.mu.Lock()
	b.lost = true
	b.mu.Unlock()
}

// resetSession ends the step shell; the next step starts a fresh one.
func (b *Box) resetSession() {
	b.mu.Lock()
	s := b.session
	b.session = nil
	b.mu.Unlock()
	if s != nil {
		s.close()
	}
}

// ShellStep is a step directory to run in the step shell.
type ShellStep struct {
	// HostDir, when set, is copied into the step directory first (local steps).
	HostDir string
	// Files are written into the step directory, after HostDir.
	Files map[string][]byte
	// Vars are exported as they are (single-quoted).
	Vars []EnvVarPair
	// Options are exported double-quoted, so the shell expands $VAR in them
	// when the step starts, as wercker did.
	Options []EnvVarPair
	// Cwd is the directory to enter, relative to $WERCKER_SOURCE_DIR unless
	// absolute; the shell expands it.
	Cwd string
}

// EnvVarPair is one variable for a step.
type EnvVarPair struct {
	Name  string
	Value string
}

// StepRoot returns the guest directory of a step's files.
func StepRoot(safeID string) string { return path.Join(guestStepsDir, safeID) }

// StepReportDir returns the guest directory of a step's report files.
func StepReportDir(safeID string) string { return path.Join(guestReportDir, safeID) }

// RunShellStep copies the step's files into the box and sources them in the
// step shell. It returns nil when the step passed.
func (b *Box) RunShellStep(ctx context.Context, sc *StepContext, step ShellStep) error {
	root := StepRoot(sc.SafeID)
	report := StepReportDir(sc.SafeID)
	vars := append([]EnvVarPair{
		{"WERCKER_STEP_ROOT", root},
		{"WERCKER_STEP_ID", sc.SafeID},
		{"WERCKER_REPORT_NUMBERS_FILE", report + "/numbers.ini"},
		{"WERCKER_REPORT_MESSAGE_FILE", report + "/message.txt"},
		{"WERCKER_REPORT_ARTIFACTS_DIR", report + "/artifacts"},
	}, step.Vars...)
	files := map[string][]byte{}
	for k, v := range step.Files {
		files[k] = v
	}
	files["env.sh"] = []byte(envScript(vars, step.Options, step.Cwd))

	archive, err := stepArchive(sc.SafeID, step.HostDir, files)
	if err != nil {
		return fmt.Errorf("packing step files: %w", err)
	}
	// The step shell starts while the step's files are copied: the two
	// engine calls are independent and together cost most of a short step.
	type started struct {
		s         *session
		restarted bool
		err       error
	}
	ready := make(chan started, 1)
	go func() {
		s, restarted, err := b.currentSession(ctx)
		ready <- started{s, restarted, err}
	}()
	copyErr := b.d.API.CopyToContainer(ctx, b.ID, guestWerkDir, archive, container.CopyToContainerOptions{})
	shell := <-ready
	if copyErr != nil {
		return fmt.Errorf("copying step files into the box: %w", copyErr)
	}
	if shell.err != nil {
		return shell.err
	}
	s, restarted := shell.s, shell.restarted
	if restarted {
		sc.Logf("werk: the shell of an earlier step ended; this step runs in a new shell with the variables " +
			"exported up to the last step that passed (shell functions and options do not carry over)")
	}
	code, err := s.run(ctx, "__werk_run "+shellQuote(root), sc.Sink(), sc.Timeouts)
	if err != nil && !errors.Is(err, ErrShellExited) {
		b.resetSession()
		b.markLost()
		return err
	}
	if errors.Is(err, ErrShellExited) {
		b.resetSession()
		b.markLost()
		if code == 0 {
			return nil
		}
	}
	if code == 0 {
		return nil
	}
	msg := b.readMessage(sc.SafeID)
	if msg == "" {
		msg = fmt.Sprintf("step failed with exit status %d", code)
	}
	return &StepError{Code: code, Msg: msg}
}

// readMessage returns the step's message file, or "".
func (b *Box) readMessage(safeID string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	data, err := b.ReadFile(ctx, StepReportDir(safeID)+"/message.txt", 64*1024)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

// CaptureEnv returns the environment the step shell exports now, including
// what earlier steps exported. It needs only cat and /proc in the box.
func (b *Box) CaptureEnv(ctx context.Context) (map[string]string, error) {
	s, _, err := b.currentSession(ctx)
	if err != nil {
		return nil, err
	}
	file := path.Join(guestWerkDir, "env-"+strings.TrimPrefix(newToken(), markerPrefix))
	code, err := s.run(ctx, "__werk_capture "+file, nil, Timeouts{Command: 30 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("capturing the step shell's environment: %w", err)
	}
	if code != 0 {
		return nil, fmt.Errorf("capturing the step shell's environment: status %d", code)
	}
	data, err := b.ReadFile(ctx, file, 16<<20)
	if err != nil {
		return nil, err
	}
	_, _ = b.d.ExecOutput(ctx, b.ID, []string{"rm", "-f", file}, nil, nil)
	env := map[string]string{}
	for _, entry := range bytes.Split(data, []byte{0}) {
		if k, v, ok := strings.Cut(string(entry), "="); ok && k != "" {
			env[k] = v
		}
	}
	return env, nil
}

// ReadFile returns the content of a regular file in the box, at most limit
// bytes. It uses the engine's archive API, so it needs nothing in the box.
func (b *Box) ReadFile(ctx context.Context, guestPath string, limit int64) ([]byte, error) {
	rc, _, err := b.d.API.CopyFromContainer(ctx, b.ID, guestPath)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	hdr, err := tr.Next()
	if err != nil {
		return nil, fmt.Errorf("reading %s from the box: %w", guestPath, err)
	}
	if hdr.Typeflag != tar.TypeReg {
		return nil, fmt.Errorf("%s in the box is not a regular file", guestPath)
	}
	return io.ReadAll(io.LimitReader(tr, limit))
}

// CopyTo extracts a tar stream into the directory dst of the box.
func (b *Box) CopyTo(ctx context.Context, dst string, archive io.Reader) error {
	return b.d.API.CopyToContainer(ctx, b.ID, dst, archive, container.CopyToContainerOptions{})
}

// CopyFrom returns a tar stream of guestPath in the box.
func (b *Box) CopyFrom(ctx context.Context, guestPath string) (io.ReadCloser, error) {
	rc, _, err := b.d.API.CopyFromContainer(ctx, b.ID, guestPath)
	return rc, err
}

// stepArchive builds the tar for /werk: steps/SID with the host directory and
// the files, and an empty report/SID/artifacts.
func stepArchive(safeID, hostDir string, files map[string][]byte) (io.Reader, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Now()
	dir := func(name string) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o777, ModTime: now})
	}
	for _, d := range []string{"steps", "steps/" + safeID, "report", "report/" + safeID, "report/" + safeID + "/artifacts"} {
		if err := dir(d); err != nil {
			return nil, err
		}
	}
	if hostDir != "" {
		if _, _, err := writeTree(tw, hostDir, "steps/"+safeID, nil, nil); err != nil {
			return nil, fmt.Errorf("reading step directory %s: %w", hostDir, err)
		}
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: "steps/" + safeID + "/" + n, Mode: 0o755, Size: int64(len(files[n])), ModTime: now}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(files[n]); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return &buf, nil
}

// envScript renders the step's env.sh.
func envScript(vars, options []EnvVarPair, cwd string) string {
	var sb strings.Builder
	for _, v := range vars {
		fmt.Fprintf(&sb, "export %s=%s\n", shellName(v.Name), shellQuote(v.Value))
	}
	for _, o := range options {
		fmt.Fprintf(&sb, "export %s=\"%s\"\n", shellName(o.Name), doubleQuoteBody(o.Value))
	}
	if cwd != "" {
		fmt.Fprintf(&sb, "__werk_cwd=\"%s\"\n", doubleQuoteBody(cwd))
	}
	return sb.String()
}

// shellQuote quotes s so the shell reads it literally.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// doubleQuoteBody escapes s for the inside of a double-quoted shell string
// while keeping $VAR and $(...) live: ", ` and \ are escaped, except a
// backslash before $, which stays so that \$ means a literal dollar sign.
func doubleQuoteBody(s string) string {
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"', '`':
			sb.WriteByte('\\')
		case '\\':
			if i+1 < len(s) && s[i+1] == '$' {
				break
			}
			sb.WriteByte('\\')
		}
		sb.WriteByte(c)
	}
	return sb.String()
}

// shellName turns an option or variable name into a valid shell identifier:
// upper case, with every other character than letters, digits and _ as _.
func shellName(name string) string {
	b := []byte(strings.ToUpper(name))
	for i, c := range b {
		if !(c == '_' || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9' && i > 0)) {
			b[i] = '_'
		}
	}
	return string(b)
}

// hostDirExists reports whether dir is an existing directory.
func hostDirExists(dir string) bool {
	st, err := os.Stat(filepath.Clean(dir))
	return err == nil && st.IsDir()
}
