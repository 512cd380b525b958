package cli

import "github.com/spf13/cobra"

// newValidateCmd is a placeholder until the validate command lands.
func newValidateCmd() *cobra.Command {
	return &cobra.Command{Use: "validate", Hidden: true, RunE: func(*cobra.Command, []string) error {
		return badInput("validate is not implemented yet")
	}}
}
