package cli

import "github.com/spf13/cobra"

// newSimulateCmd is a placeholder until the simulate command lands.
func newSimulateCmd() *cobra.Command {
	return &cobra.Command{Use: "simulate", Hidden: true, RunE: func(*cobra.Command, []string) error {
		return badInput("simulate is not implemented yet")
	}}
}
