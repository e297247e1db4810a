package engine

import (
	"context"
	"log/slog"
	"time"

	"github.com/docker/docker/api/types/container"
)

func containerStartOptions() container.StartOptions { return container.StartOptions{} }

// portProbeTimeout bounds how long a published port may stay "starting"
// before werk stops probing it. The probe runs again after every reload.
const portProbeTimeout = 2 * time.Minute

// announcePorts publishes the box's published ports and probes them.
func (r *Runner) announcePorts(ctx context.Context) {
	if err := ProbePorts(ctx, r.bus, r.docker, r.box.ID); err != nil {
		slog.Warn("announcing published ports", "err", err)
	}
}
