package cli

import "github.com/spf13/cobra"

// newInferCmd is a placeholder until the infer command lands.
func newInferCmd() *cobra.Command {
	return &cobra.Command{Use: "infer", Hidden: true, RunE: func(*cobra.Command, []string) error {
		return badInput("infer is not implemented yet")
	}}
}
