package cli

import "github.com/spf13/cobra"

// newPlanCmd is a placeholder until the plan command lands.
func newPlanCmd() *cobra.Command {
	return &cobra.Command{Use: "plan", Hidden: true, RunE: func(*cobra.Command, []string) error {
		return badInput("plan is not implemented yet")
	}}
}
