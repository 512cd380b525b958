// Package cli is the scaleacross command tree. It turns flags into
// structs, calls the library packages and is the only package that prints.
package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/spec"
)

// Exit codes of the scaleacross command (DESIGN.md section 2).
const (
	ExitOK       = 0
	ExitFailure  = 1
	ExitBadInput = 2
	ExitNoFit    = 3
)

// exitCoder is implemented by errors that choose the process exit code.
type exitCoder interface {
	ExitCode() int
}

// inputError marks a bad command line or spec: exit code 2.
type inputError struct{ err error }

func (e inputError) Error() string { return e.err.Error() }
func (e inputError) Unwrap() error { return e.err }
func (e inputError) ExitCode() int { return ExitBadInput }

// badInput wraps err so that it exits with code 2.
func badInput(format string, args ...any) error {
	return inputError{fmt.Errorf(format, args...)}
}

// ExitCode maps an error from the command tree to the process exit code:
// the command line's own errors choose theirs; library errors are read by
// kind (package fault), and a spec that cannot be read (*spec.Error) is
// bad input.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var c exitCoder
	var se *spec.Error
	switch {
	case errors.As(err, &c):
		return c.ExitCode()
	case errors.Is(err, fault.ErrNoFit):
		return ExitNoFit
	case errors.Is(err, fault.ErrBadInput), errors.As(err, &se):
		return ExitBadInput
	}
	return ExitFailure
}

// Main runs the command line args, writing to stdout and stderr, and
// returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteC()
	if err != nil && ExitCode(err) == ExitFailure && strings.HasPrefix(err.Error(), "unknown command") {
		err = inputError{err} // cobra's own usage error, before any Args check
	}
	if err != nil {
		writeError(stderr, err, wantsJSON(cmd, args))
	}
	return ExitCode(err)
}

// errorJSON is the form of an error on stderr under --json.
type errorJSON struct {
	Error    string `json:"error"`
	Field    string `json:"field,omitempty"`
	ExitCode int    `json:"exit_code"`
}

// writeError prints err to w: one JSON object when asJSON, else the line
// "scaleacross: ERROR".
func writeError(w io.Writer, err error, asJSON bool) {
	if !asJSON {
		fmt.Fprintf(w, "scaleacross: %v\n", err)
		return
	}
	e := errorJSON{Error: err.Error(), ExitCode: ExitCode(err)}
	var fe *fault.FieldError
	var se *spec.Error
	switch {
	case errors.As(err, &fe):
		e.Field = fe.Field
	case errors.As(err, &se):
		e.Field = se.Field
	}
	b, _ := json.Marshal(e)
	fmt.Fprintf(w, "%s\n", b)
}

// wantsJSON reports whether the command line asked for JSON output: the
// command that ran has --json set, or (when flag parsing failed before it
// was set) the arguments name --json before any "--".
func wantsJSON(cmd *cobra.Command, args []string) bool {
	if cmd != nil {
		if f := cmd.Flags().Lookup("json"); f != nil && f.Changed {
			return f.Value.String() == "true"
		}
	}
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "--json", "--json=true":
			return true
		}
	}
	return false
}

// version is the module version of the running binary, read from its
// build information, or "devel" for a build outside a tagged module.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Version == "" || bi.Main.Version == "(devel)" {
		return "devel"
	}
	return bi.Main.Version
}

// newVersionCmd builds `scaleacross version`.
func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version of scaleacross",
		Example: "  scaleacross version\n  scaleacross --version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "scaleacross %s\n", version())
			return err
		},
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "scaleacross",
		Short: "Plan frontier-LLM training across data centers and serving with speculative decoding",
		Long: `scaleacross predicts step time, throughput, MFU and memory of LLM training jobs
on any parallel configuration and topology (up to buildings and regions), searches
the joint design space, and predicts serving latency with and without EAGLE
speculative decoding. Everything is computed from public specs; no GPU is needed.`,
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("scaleacross {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return inputError{err}
	})
	root.AddCommand(
		newModelsCmd(),
		newHardwareCmd(),
		newSimulateCmd(),
		newValidateCmd(),
		newInferCmd(),
		newPlanCmd(),
		newStudiesCmd(),
		newNetCmd(),
		newUICmd(),
		newEngineCmd(),
		newVersionCmd(),
	)
	usageErrorsAreBadInput(root)
	return root
}

// usageErrorsAreBadInput makes the argument checks of c and its
// subcommands (wrong number of arguments, unknown subcommands) exit with
// code 2, like flag errors, and bounds every argument at maxArgLen bytes.
func usageErrorsAreBadInput(c *cobra.Command) {
	if !c.Runnable() && c.HasSubCommands() {
		// A group command: print its help, and refuse an unknown subcommand
		// (cobra would print the help and exit 0).
		c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	}
	check := c.Args
	c.Args = func(cmd *cobra.Command, args []string) error {
		for i, a := range args {
			if len(a) > maxArgLen {
				return badInput("argument %d is %d bytes, over the limit of %d", i+1, len(a), maxArgLen)
			}
		}
		if check == nil {
			if cmd.HasSubCommands() && len(args) > 0 {
				return badInput("unknown command %q for %q; run %q for the commands", clipArg(args[0]), cmd.CommandPath(), cmd.CommandPath()+" --help")
			}
			return nil
		}
		if err := check(cmd, args); err != nil {
			return inputError{err}
		}
		return nil
	}
	for _, sub := range c.Commands() {
		usageErrorsAreBadInput(sub)
	}
}
