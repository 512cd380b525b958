package cli

import "github.com/spf13/cobra"

// newNetCmd is a placeholder until the net command lands.
func newNetCmd() *cobra.Command {
	return &cobra.Command{Use: "net", Hidden: true, RunE: func(*cobra.Command, []string) error {
		return badInput("net is not implemented yet")
	}}
}
