package steps

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"werk/engine"
	"werk/internal/testenv"
)

// benchRounds is how many times each side of a push benchmark runs; the
// medians are compared. Werk and the CLI alternate, so a slow period of the
// machine hits both.
const benchRounds = 5

// dockerCLI is the Docker CLI the floor is measured with.
const dockerCLI = "/usr/bin/docker"

// BenchmarkDockerPushVsCLI compares internal/docker-push of a box with
// 100 MB of new files against docker commit + docker push of a container
// with the same changes. Run it with
//
//	go test ./steps/ -run '^$' -bench PushVsCLI -benchtime 1x
func BenchmarkDockerPushVsCLI(b *testing.B) {
	benchmarkPushVsCLI(b, "internal/docker-push", "/data", 100)
}

// BenchmarkScratchPushVsCLI compares internal/docker-scratch-push of a
// 50 MB output directory against docker commit + docker push of a container
// whose changes are the same 50 MB.
func BenchmarkScratchPushVsCLI(b *testing.B) {
	benchmarkPushVsCLI(b, "internal/docker-scratch-push", "$WERCKER_OUTPUT_DIR", 50)
}

// benchmarkPushVsCLI times the push step (its StepFinished duration) against
// the CLI floor. Each round writes fresh random files, so no layer is already
// in the registry.
func benchmarkPushVsCLI(b *testing.B, stepID, dir string, megabytes int) {
	if _, err := os.Stat(dockerCLI); err != nil {
		b.Skipf("%s not found: the floor needs the Docker CLI", dockerCLI)
	}
	reg := testenv.StartRegistry(b)
	configDir := dockerLogin(b, reg)
	fill := fmt.Sprintf("mkdir -p %[1]s && for i in $(seq 1 %[2]d); do dd if=/dev/urandom of=%[1]s/f$i bs=1048576 count=10 2>/dev/null; done",
		dir, megabytes/10)

	var werkTimes, cliTimes []time.Duration
	for i := 0; i < b.N*benchRounds; i++ {
		repo := fmt.Sprintf("%s/bench/werk-%d", reg.Addr, i)
		removeImages(b, repo+":latest")
		yml := `box: werk-test/busybox:latest
build:
  steps:
    - script:
        name: write files
        code: ` + yamlQuote(fill) + `
    - ` + stepID + `:
        repository: ` + repo + `
        username: ` + reg.Username + `
        password: $REGISTRY_PASSWORD
`
		run := runPushPipeline(b, yml, runOptions{hostEnv: map[string]string{"XXX_REGISTRY_PASSWORD": reg.Password}, quiet: true})
		requirePassed(b, run)
		werkTimes = append(werkTimes, run.stepDuration(1))

		cliTimes = append(cliTimes, cliCommitPush(b, configDir, fill, fmt.Sprintf("%s/bench/cli-%d:latest", reg.Addr, i)))
	}

	werk, cli := median(werkTimes), median(cliTimes)
	b.ReportMetric(werk.Seconds(), "werk-s")
	b.ReportMetric(cli.Seconds(), "cli-s")
	b.ReportMetric(float64(werk)/float64(cli), "ratio")
	b.Logf("%s of %d MB: werk %v, CLI floor %v (medians of %d; werk %v, CLI %v)",
		stepID, megabytes, werk, cli, len(werkTimes), werkTimes, cliTimes)
}

// stepDuration returns the duration of main step index from the run's
// StepFinished event.
func (r pipelineRun) stepDuration(index int) time.Duration {
	return r.durations[index]
}

// dockerLogin logs the CLI in to reg with a fresh DOCKER_CONFIG directory
// and returns it.
func dockerLogin(b *testing.B, reg *testenv.Registry) string {
	b.Helper()
	dir := b.TempDir()
	cmd := exec.Command(dockerCLI, "login", "--username", reg.Username, "--password-stdin", reg.Addr)
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+dir)
	cmd.Stdin = strings.NewReader(reg.Password)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("docker login: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err != nil {
		b.Fatalf("docker login wrote no config.json: %v", err)
	}
	return dir
}

// cliCommitPush starts a busybox container, runs fill in it, and times
// docker commit + docker push of it to ref with the CLI.
func cliCommitPush(b *testing.B, configDir, fill, ref string) time.Duration {
	b.Helper()
	cli := testenv.Docker(b)
	ctx := context.Background()
	created, err := cli.ContainerCreate(ctx, &container.Config{
		Image:      testenv.BusyboxImage,
		Cmd:        []string{"/bin/sh", "-c", "while :; do sleep 3600 & wait $!; done"},
		Entrypoint: []string{},
	}, nil, nil, nil, "")
	if err != nil {
		b.Fatal(err)
	}
	defer cli.ContainerRemove(ctx, created.ID, container.RemoveOptions{Force: true})
	if err := cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		b.Fatal(err)
	}
	d := &engine.Docker{API: cli}
	// WERCKER_OUTPUT_DIR is the only variable fill uses.
	res, err := d.ExecOutput(ctx, created.ID, []string{"/bin/sh", "-c", fill}, []string{"WERCKER_OUTPUT_DIR=/pipeline/output"}, nil)
	if err != nil || res.ExitCode != 0 {
		b.Fatalf("filling the container: %v (status %d)", err, res.ExitCode)
	}
	removeImages(b, ref)

	start := time.Now()
	for _, args := range [][]string{{"commit", created.ID, ref}, {"push", ref}} {
		cmd := exec.Command(dockerCLI, args...)
		cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+configDir)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			b.Fatalf("docker %s: %v\n%s", args[0], err, out.String())
		}
	}
	return time.Since(start)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
