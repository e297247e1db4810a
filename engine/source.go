package engine

import (
	"archive/tar"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// SourceTar writes a tar stream of the project directory root to w, rooted at
// prefix (a slash path without leading slash, such as "pipeline/source").
//
// Paths matched by the .werckerignore files of the tree (git semantics) and
// everything under the excluded directories (absolute host paths, such as the
// working directory) are left out. Symbolic links are stored as links, and
// owners are set to root, as a copy made inside the box would have them.
// It returns the number of files and bytes written.
func SourceTar(w io.Writer, root, prefix string, exclude []string, ignoreFiles []string) (files int, size int64, err error) {
	tw := tar.NewWriter(w)
	files, size, err = writeTree(tw, root, prefix, exclude, ignoreFiles)
	if err != nil {
		return files, size, err
	}
	return files, size, tw.Close()
}

// writeTree adds the entries of SourceTar to tw without closing it.
func writeTree(tw *tar.Writer, root, prefix string, exclude []string, ignoreFiles []string) (files int, size int64, err error) {
	ig := NewIgnore(root, ignoreFiles, nil)
	excluded := map[string]bool{}
	for _, e := range exclude {
		if abs, err := filepath.Abs(e); err == nil {
			excluded[abs] = true
		}
	}
	rootAbs, err := filepath.Abs(root)
	if err != nil {
		return 0, 0, err
	}
	// An entry for the prefix directory itself. The engine creates missing
	// parents with mode 0755 and leaves existing ones (such as /go of a golang
	// image) as they are, so they get no entries.
	if prefix != "" {
		hdr := &tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimSuffix(prefix, "/") + "/", Mode: 0o755, ModTime: time.Now()}
		if err := tw.WriteHeader(hdr); err != nil {
			return 0, 0, err
		}
	}

	walkErr := filepath.WalkDir(rootAbs, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == rootAbs {
			return ig.LoadDir("")
		}
		rel, err := filepath.Rel(rootAbs, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if excluded[p] {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if ig.Match(rel, d.IsDir()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&os.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		hdr.Name = path.Join(prefix, rel)
		if d.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		hdr.Format = tar.FormatPAX
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if d.IsDir() {
			return ig.LoadDir(rel)
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		n, err := io.Copy(tw, f)
		f.Close()
		if err != nil {
			return err
		}
		files++
		size += n
		return nil
	})
	return files, size, walkErr
}
