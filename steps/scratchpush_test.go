package steps

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"werk/engine"
)

// archiveOf builds a tar stream shaped like the engine's archive API output
// for /pipeline/output.
func archiveOf(t *testing.T, mtime time.Time) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	entries := []*tar.Header{
		{Name: "output/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "output/bin/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "output/bin/app", Typeflag: tar.TypeReg, Mode: 0o4755, Size: 3,
			PAXRecords: map[string]string{"SCHILY.xattr.security.capability": "cap", "atime": "1700000000"}},
		{Name: "output/link", Typeflag: tar.TypeSymlink, Linkname: "bin/app", Mode: 0o777},
		{Name: "output/hard", Typeflag: tar.TypeLink, Linkname: "output/bin/app", Mode: 0o4755},
	}
	for _, h := range entries {
		h.ModTime = mtime
		h.Uid, h.Gid = 1000, 1000
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte("app")); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRerootTar(t *testing.T) {
	fixed := time.Unix(0, 0).UTC()
	var out bytes.Buffer
	regular, err := rerootTar(bytes.NewReader(archiveOf(t, time.Now())), &out, fixed)
	if err != nil {
		t.Fatal(err)
	}
	if regular != 1 {
		t.Errorf("regular files = %d, want 1", regular)
	}

	got := map[string]*tar.Header{}
	tr := tar.NewReader(&out)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got[h.Name] = h
	}
	if len(got) != 4 {
		t.Errorf("entries = %v, want bin/, bin/app, link and hard", got)
	}
	if _, ok := got["output/"]; ok {
		t.Errorf("the directory's own entry was kept")
	}
	app := got["bin/app"]
	if app == nil {
		t.Fatalf("bin/app missing from %v", got)
	}
	if app.Mode != 0o4755 || app.Uid != 1000 {
		t.Errorf("bin/app mode %o uid %d, want 4755 and 1000", app.Mode, app.Uid)
	}
	if app.PAXRecords["SCHILY.xattr.security.capability"] != "cap" {
		t.Errorf("bin/app lost its extended attribute: %v", app.PAXRecords)
	}
	if !app.AccessTime.IsZero() {
		t.Errorf("bin/app keeps an access time %v", app.AccessTime)
	}
	if link := got["link"]; link == nil || link.Typeflag != tar.TypeSymlink || link.Linkname != "bin/app" {
		t.Errorf("symbolic link = %+v, want link -> bin/app", link)
	}
	if hard := got["hard"]; hard == nil || hard.Typeflag != tar.TypeLink || hard.Linkname != "bin/app" {
		t.Errorf("hard link = %+v, want hard => bin/app", hard)
	}
	for name, h := range got {
		if !h.ModTime.Equal(fixed) {
			t.Errorf("%s has mtime %v, want %v", name, h.ModTime, fixed)
		}
	}
}

func TestRerootTarReproducible(t *testing.T) {
	fixed := time.Unix(0, 0).UTC()
	var first, second bytes.Buffer
	if _, err := rerootTar(bytes.NewReader(archiveOf(t, time.Unix(1000, 0))), &first, fixed); err != nil {
		t.Fatal(err)
	}
	if _, err := rerootTar(bytes.NewReader(archiveOf(t, time.Unix(2000, 0))), &second, fixed); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Errorf("the same files with other timestamps gave different layers")
	}
}

func TestSourceDateEpoch(t *testing.T) {
	env := engine.NewEnv()
	if got := sourceDateEpoch(env); !got.Equal(time.Unix(0, 0)) {
		t.Errorf("without SOURCE_DATE_EPOCH: %v, want the Unix epoch", got)
	}
	env.Set("SOURCE_DATE_EPOCH", "1700000000")
	if got := sourceDateEpoch(env); !got.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("with SOURCE_DATE_EPOCH: %v", got)
	}
	env.Set("SOURCE_DATE_EPOCH", "yesterday")
	if got := sourceDateEpoch(env); !got.Equal(time.Unix(0, 0)) {
		t.Errorf("with an invalid SOURCE_DATE_EPOCH: %v, want the Unix epoch", got)
	}
}
