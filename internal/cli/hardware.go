package cli

import "github.com/spf13/cobra"

// newHardwareCmd is a placeholder until the hardware command lands.
func newHardwareCmd() *cobra.Command {
	return &cobra.Command{Use: "hardware", Hidden: true, RunE: func(*cobra.Command, []string) error {
		return badInput("hardware is not implemented yet")
	}}
}
