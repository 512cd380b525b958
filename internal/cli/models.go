package cli

import "github.com/spf13/cobra"

// newModelsCmd is a placeholder until the models command lands.
func newModelsCmd() *cobra.Command {
	return &cobra.Command{Use: "models", Hidden: true, RunE: func(*cobra.Command, []string) error {
		return badInput("models is not implemented yet")
	}}
}
