package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"werk/config"
)

func newCheckConfigCommand() *cobra.Command {
	var ymlPath string
	cmd := &cobra.Command{
		Use:   "check-config [DIR]",
		Short: "Validate wercker.yml and print the resolved pipelines",
		Long: "check-config reads the wercker.yml of DIR (default: the current directory), reports every " +
			"error with file:line:column, and prints each pipeline's box, services, steps and after-steps. " +
			"It exits 0 when the file is valid and 1 when it is not. No container is started.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			path := ymlPath
			if path == "" {
				found, err := config.Find(dir)
				if err != nil {
					return &exitError{code: exitFailed, err: err}
				}
				path = found
			}
			f, err := config.Load(path)
			if err != nil {
				return &exitError{code: exitFailed, err: err}
			}
			out := cmd.OutOrStdout()
			for _, w := range f.Warnings {
				fmt.Fprintf(out, "warning: %v\n", w)
			}
			var problems []error
			for _, name := range f.PipelineNames {
				if _, err := f.Pipeline(name); err != nil {
					problems = append(problems, err)
				}
			}
			config.Describe(out, f)
			if len(problems) > 0 {
				for _, p := range problems {
					fmt.Fprintln(cmd.ErrOrStderr(), "werk:", p)
				}
				return &exitError{code: exitFailed}
			}
			abs, _ := filepath.Abs(path)
			fmt.Fprintf(out, "%s is valid\n", abs)
			return nil
		},
	}
	cmd.Flags().StringVar(&ymlPath, "wercker-yml", "", "read this file instead of looking for wercker.yml in DIR")
	return cmd
}
