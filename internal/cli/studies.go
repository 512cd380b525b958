package cli

import "github.com/spf13/cobra"

// newStudiesCmd is a placeholder until the studies command lands.
func newStudiesCmd() *cobra.Command {
	return &cobra.Command{Use: "studies", Hidden: true, RunE: func(*cobra.Command, []string) error {
		return badInput("studies is not implemented yet")
	}}
}
