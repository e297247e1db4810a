package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/docker/docker/pkg/stdcopy"
)

func stdcopyStdCopy(stdout, stderr io.Writer, src io.Reader) (int64, error) {
	return stdcopy.StdCopy(stdout, stderr, src)
}

// plainLineWriter splits a stream into lines for a sink, without markers.
type plainLineWriter struct {
	sink   LineSink
	stream Stream
	buf    []byte
}

func (w *plainLineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.sink(w.stream, strings.TrimSuffix(string(w.buf[:i]), "\r"))
		w.buf = w.buf[i+1:]
	}
	for len(w.buf) >= maxLineBytes {
		w.sink(w.stream, string(w.buf[:maxLineBytes]))
		w.buf = w.buf[maxLineBytes:]
	}
	return len(p), nil
}

func (w *plainLineWriter) flush() {
	if len(w.buf) > 0 {
		w.sink(w.stream, string(w.buf))
		w.buf = nil
	}
}

// ErrPortInUse marks a start failure caused by a host port that is taken.
var ErrPortInUse = errors.New("host port already in use")

// portError turns the engine's bind failure into an error that names what
// holds the port (a container through d, else a local process) and the fix;
// other errors pass through.
func portError(ctx context.Context, d *Docker, err error) error {
	msg := err.Error()
	if strings.Contains(msg, "port is already allocated") || strings.Contains(msg, "address already in use") {
		holder := describePortHolder(ctx, d, takenPort(msg))
		if holder == "" {
			holder = "what holds it was not found (docker ps, ss -ltnp)"
		}
		return fmt.Errorf("%w: %v\n%s. Stop it, or publish the container port on a free host port "+
			"(--publish HOSTPORT:PORT, or a ports entry of the box)", ErrPortInUse, err, holder)
	}
	return err
}
