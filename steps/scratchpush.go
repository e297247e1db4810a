package steps

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"werk/config"
	"werk/engine"
)

func init() {
	RegisterInternal("docker-scratch-push", newScratchPush)
}

// scratchPushOptions are the options internal/docker-scratch-push uses.
// image-name is not among them: the image is always built from the output.
var scratchPushOptions = []string{
	"repository", "tag", "registry", "username", "password", "author", "message",
	"cmd", "entrypoint", "env", "labels", "ports", "volumes", "working-dir", "user",
	"stopsignal", "disable-sync",
}

// scratchCreatedBy is the history entry of the image's only layer.
const scratchCreatedBy = "werk internal/docker-scratch-push"

// scratchPush is internal/docker-scratch-push: it builds an image without a
// base from the pipeline's output directory, loads it into the engine, tags
// it for every tag and pushes each tag.
//
// The image goes through the engine (load, then push) rather than straight
// to the registry, so the push uses the same credentials, insecure-registry
// settings and error reporting as internal/docker-push, and --docker-local
// leaves a runnable image in the engine.
type scratchPush struct {
	opts *imageOptions
}

func newScratchPush(s config.Step, _ Project) (engine.Step, error) {
	opts, err := parseImageOptions(s, scratchPushOptions)
	if err != nil {
		return nil, err
	}
	return &scratchPush{opts: opts}, nil
}

func (p *scratchPush) Info() engine.StepInfo {
	return engine.StepInfo{ID: p.opts.step.ID, Name: p.opts.step.DisplayName}
}

func (p *scratchPush) Run(ctx context.Context, sc *engine.StepContext) error {
	// The layer does not depend on the options, so it is written while the
	// options are expanded, which may wait for the step shell.
	layerCtx, cancelLayer := context.WithCancel(ctx)
	defer cancelLayer()
	built := make(chan layerResult, 1)
	go func() { built <- p.buildLayer(layerCtx, sc) }()

	settings, err := prepareImageStep(ctx, sc, p.opts)
	if err != nil {
		cancelLayer()
		if res := <-built; res.layer != nil {
			os.Remove(res.layer.path)
		}
		return err
	}
	res := <-built
	if res.err != nil {
		return res.err
	}
	layer := res.layer
	defer os.Remove(layer.path)
	if res.fallback != "" {
		sc.Logf("%s", res.fallback)
	}

	d := sc.Run.Docker
	osName, arch, err := d.Platform(ctx)
	if err != nil {
		return err
	}
	img, err := scratchImage(layer, settings, osName, arch, sourceDateEpoch(sc.Env))
	if err != nil {
		return fmt.Errorf("building the scratch image: %w", err)
	}
	id, err := img.ConfigName()
	if err != nil {
		return fmt.Errorf("building the scratch image: %w", err)
	}
	start := time.Now()
	if err := loadImage(ctx, d, img, settings.target.ref(settings.tags[0])); err != nil {
		return err
	}
	slog.Debug("scratch image loaded", "step", sc.Ref.Name, "image", id.String(), "duration", time.Since(start))
	sc.Logf("built %s/%s image %.19s from %s (%s)", osName, arch, id.String(), layer.from, humanSize(layer.size))
	if len(settings.config.Cmd) == 0 && len(settings.config.Entrypoint) == 0 {
		sc.Logf("the image has no cmd or entrypoint, so docker run needs a command")
	}
	return publishImage(ctx, sc, id.String(), settings)
}

// layerResult is the outcome of buildLayer. fallback, when set, is the log
// line reporting that the source directory replaced the empty output.
type layerResult struct {
	layer    *fileLayer
	fallback string
	err      error
}

// buildLayer writes the layer of the output directory to a temporary file.
// An output directory without a regular file falls back to the source
// directory, as wercker did.
func (p *scratchPush) buildLayer(ctx context.Context, sc *engine.StepContext) layerResult {
	start := time.Now()
	outputDir := envOr(sc.Env, "WERCKER_OUTPUT_DIR", "/pipeline/output")
	layer, err := layerFromBox(ctx, sc, outputDir)
	if err != nil {
		return layerResult{err: err}
	}
	var fallback string
	if layer.regularFiles == 0 {
		os.Remove(layer.path)
		sourceDir := envOr(sc.Env, "WERCKER_ROOT", "/pipeline/source")
		fallback = fmt.Sprintf("$WERCKER_OUTPUT_DIR (%s) has no regular file; building the image from the source directory %s instead", outputDir, sourceDir)
		if layer, err = layerFromBox(ctx, sc, sourceDir); err != nil {
			return layerResult{err: err}
		}
	}
	slog.Debug("scratch layer written", "step", sc.Ref.Name, "from", layer.from, "bytes", layer.size, "duration", time.Since(start))
	return layerResult{layer: layer, fallback: fallback}
}

// envOr returns the value of key in env, or fallback when it is empty.
func envOr(env *engine.Env, key, fallback string) string {
	if v := env.Get(key); v != "" {
		return v
	}
	return fallback
}

// layerFromBox copies guestDir out of the box into a layer file whose root
// is the directory's content.
func layerFromBox(ctx context.Context, sc *engine.StepContext, guestDir string) (*fileLayer, error) {
	rc, err := sc.Box.CopyFrom(ctx, guestDir)
	if err != nil {
		return nil, fmt.Errorf("copying %s out of the box: %w", guestDir, err)
	}
	defer rc.Close()

	dir := sc.Run.WorkingDir
	if dir == "" {
		dir = os.TempDir()
	}
	f, err := os.CreateTemp(dir, "scratch-layer-*.tar")
	if err != nil {
		return nil, fmt.Errorf("creating the layer file: %w", err)
	}
	layer := &fileLayer{path: f.Name(), from: guestDir}
	hash := sha256.New()
	counter := &countingWriter{w: io.MultiWriter(f, hash)}
	layer.regularFiles, err = rerootTar(rc, counter, time.Unix(0, 0).UTC())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return nil, fmt.Errorf("writing the layer of %s: %w", guestDir, err)
	}
	layer.size = counter.n
	layer.diffID = v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(hash.Sum(nil))}
	return layer, nil
}

// rerootTar copies the tar stream of one directory, as the engine's archive
// API returns it ("output/", "output/bin/app", ...), to w with the directory
// itself dropped and its content at the root ("bin/app"). Every timestamp
// becomes mtime, so the same content gives the same layer digest. Modes,
// owners, symbolic links, hard links and extended attributes are kept. It
// returns the number of regular files.
func rerootTar(r io.Reader, w io.Writer, mtime time.Time) (int, error) {
	tr := tar.NewReader(r)
	tw := tar.NewWriter(w)
	regular := 0
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("reading the archive from the engine: %w", err)
		}
		_, rest, _ := strings.Cut(strings.TrimPrefix(hdr.Name, "./"), "/")
		if rest == "" {
			// The directory's own entry; the image root keeps its default mode.
			continue
		}
		hdr.Name = rest
		if hdr.Typeflag == tar.TypeLink {
			_, hdr.Linkname, _ = strings.Cut(strings.TrimPrefix(hdr.Linkname, "./"), "/")
		}
		hdr.ModTime, hdr.AccessTime, hdr.ChangeTime = mtime, time.Time{}, time.Time{}
		hdr.PAXRecords = xattrRecords(hdr.PAXRecords)
		hdr.Format = tar.FormatPAX
		if err := tw.WriteHeader(hdr); err != nil {
			return 0, fmt.Errorf("writing %s to the layer: %w", hdr.Name, err)
		}
		if hdr.Typeflag == tar.TypeReg {
			regular++
			if _, err := io.Copy(tw, tr); err != nil {
				return 0, fmt.Errorf("writing %s to the layer: %w", hdr.Name, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return 0, fmt.Errorf("finishing the layer: %w", err)
	}
	return regular, nil
}

// xattrRecords keeps the extended attributes (such as file capabilities) of
// a PAX header and drops the records that repeat header fields, among them
// the access and change times.
func xattrRecords(records map[string]string) map[string]string {
	var out map[string]string
	for k, v := range records {
		if strings.HasPrefix(k, "SCHILY.xattr.") {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// sourceDateEpoch returns the image's creation time: $SOURCE_DATE_EPOCH of
// the pipeline environment when it holds Unix seconds, else the Unix epoch,
// so the same output gives the same image.
func sourceDateEpoch(env *engine.Env) time.Time {
	if sec, err := strconv.ParseInt(env.Get("SOURCE_DATE_EPOCH"), 10, 64); err == nil && sec >= 0 {
		return time.Unix(sec, 0).UTC()
	}
	return time.Unix(0, 0).UTC()
}

// scratchImage builds the image configuration around the layer with
// go-containerregistry.
func scratchImage(layer v1.Layer, s *imageSettings, osName, arch string, created time.Time) (v1.Image, error) {
	c := s.config
	cfg := &v1.ConfigFile{
		Architecture: arch,
		OS:           osName,
		Created:      v1.Time{Time: created},
		Author:       s.author,
		RootFS:       v1.RootFS{Type: "layers"},
		Config: v1.Config{
			Cmd:        c.Cmd,
			Entrypoint: c.Entrypoint,
			Env:        c.Env,
			Labels:     c.Labels,
			WorkingDir: c.WorkingDir,
			User:       c.User,
			StopSignal: c.StopSignal,
		},
	}
	if len(c.ExposedPorts) > 0 {
		cfg.Config.ExposedPorts = map[string]struct{}{}
		for _, p := range c.ExposedPorts {
			cfg.Config.ExposedPorts[p] = struct{}{}
		}
	}
	if len(c.Volumes) > 0 {
		cfg.Config.Volumes = map[string]struct{}{}
		for _, v := range c.Volumes {
			cfg.Config.Volumes[v] = struct{}{}
		}
	}
	img, err := mutate.ConfigFile(empty.Image, cfg)
	if err != nil {
		return nil, err
	}
	return mutate.Append(img, mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   v1.Time{Time: created},
			CreatedBy: scratchCreatedBy,
			Comment:   s.message,
		},
	})
}

// loadImage streams img into the engine as a docker-save archive, tagged
// ref.
func loadImage(ctx context.Context, d *engine.Docker, img v1.Image, ref string) error {
	tag, err := name.NewTag(ref)
	if err != nil {
		return fmt.Errorf("invalid image reference %q: %w", ref, err)
	}
	pr, pw := io.Pipe()
	written := make(chan error, 1)
	go func() {
		err := tarball.Write(tag, img, pw)
		pw.CloseWithError(err)
		written <- err
	}()
	err = d.LoadImage(ctx, pr)
	// Unblock the writer when the engine stopped reading early.
	pr.CloseWithError(errors.New("the engine stopped reading the image"))
	if werr := <-written; err == nil && werr != nil {
		err = fmt.Errorf("writing the image archive: %w", werr)
	}
	return err
}

// fileLayer is an uncompressed layer stored in a file, the file-backed
// counterpart of go-containerregistry's static.NewLayer. The engine's image
// loader accepts uncompressed layers, so werk does not compress the layer.
// The engine compresses it when it pushes.
type fileLayer struct {
	path         string
	from         string
	diffID       v1.Hash
	size         int64
	regularFiles int
}

func (l *fileLayer) Digest() (v1.Hash, error)             { return l.diffID, nil }
func (l *fileLayer) DiffID() (v1.Hash, error)             { return l.diffID, nil }
func (l *fileLayer) Compressed() (io.ReadCloser, error)   { return os.Open(l.path) }
func (l *fileLayer) Uncompressed() (io.ReadCloser, error) { return os.Open(l.path) }
func (l *fileLayer) Size() (int64, error)                 { return l.size, nil }
func (l *fileLayer) MediaType() (types.MediaType, error)  { return types.DockerUncompressedLayer, nil }

// humanSize formats a byte count for the log.
func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
