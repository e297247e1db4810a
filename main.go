// Command werk runs wercker.yml pipelines on a local Docker engine.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Exit statuses of werk.
const (
	exitPassed      = 0
	exitFailed      = 1
	exitUsage       = 2
	exitInterrupted = 130
)

// exitError carries an exit status out of a command. Its message, when not
// empty, has not been printed yet.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	root := newRootCommand()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitPassed
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(os.Stderr, "werk:", ee.err)
		}
		return ee.code
	}
	// Everything else cobra returns is a usage error: an unknown command or
	// flag, or a wrong number of arguments.
	fmt.Fprintln(os.Stderr, "werk:", err)
	fmt.Fprintln(os.Stderr, "Run 'werk --help' for usage.")
	return exitUsage
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "werk",
		Short: "Run wercker.yml pipelines on a local Docker engine",
		Long: "werk runs the pipelines of a wercker.yml (build, dev, deploy or any other) in Docker " +
			"containers, as the wercker CLI did, with a terminal UI for the dev loop.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newPipelineCommand("build", "Run the build pipeline (or --pipeline) with a copy of the project"),
		newPipelineCommand("dev", "Run the dev pipeline (or --pipeline) with the project mounted, for live reloading"),
		newPipelineCommand("deploy", "Run the deploy pipeline (or --pipeline) with a copy of the project"),
		newCheckConfigCommand(),
		newShellCommand(),
		newVersionCommand(),
		newTerminalGuardCommand(),
	)
	return root
}

// version is set by the build with -ldflags "-X main.version=...".
var version = "dev"

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print werk's version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "werk", versionString())
		},
	}
}

// versionString returns the release version, or for a development build the
// commit it was built from, as Go records it.
func versionString() string {
	if version != "dev" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "development build"
	}
	revision, modified := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if revision == "" {
		return "development build"
	}
	if len(revision) > 12 {
		revision = revision[:12]
	}
	if modified {
		revision += " with local changes"
	}
	return "development build " + revision
}
