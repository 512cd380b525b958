package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/scaleacross/scaleacross/internal/atomicfile"
)

// Limits on command-line values: the longest flag value parsed as a list
// and the most values a sweep may expand to.
const (
	maxArgLen = 1 << 16
	maxSweep  = 4096
)

// clipArg shortens a value echoed in an error to at most 64 bytes.
func clipArg(s string) string {
	if len(s) <= 64 {
		return s
	}
	return s[:61] + "..."
}

// writeJSON prints v as indented JSON followed by a newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	return nil
}

// seconds formats a duration in seconds with a unit that keeps 3-4 digits.
func seconds(s float64) string {
	switch {
	case s == 0:
		return "0"
	case s < 1e-3:
		return fmt.Sprintf("%.1f us", s*1e6)
	case s < 1:
		return fmt.Sprintf("%.1f ms", s*1e3)
	}
	return fmt.Sprintf("%.3f s", s)
}

// checkOutDir refuses an output path whose directory does not exist or
// is not a directory, naming the flag, before any work is done (the
// atomic write would otherwise fail on its temporary file's name).
func checkOutDir(flag, path string) error {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return badInput("%s: directory %s does not exist", flag, dir)
	case err != nil:
		return badInput("%s: cannot use directory %s: %v", flag, dir, err)
	case !fi.IsDir():
		return badInput("%s: %s is not a directory", flag, dir)
	}
	return nil
}

// writeFileAtomic writes a result file through a temporary file in the
// same directory and renames it into place (package atomicfile), so that
// a failure never leaves a half-written file behind; set, when not nil,
// lets a signal handler remove the temporary file.
func writeFileAtomic(set *atomicfile.Set, path string, write func(io.Writer) error) error {
	return set.Write(path, write)
}

// exitOnSignal makes an interrupt or SIGTERM remove the temporary files
// of the writes in progress (the returned set's) and exit at once with
// 128 + the signal number, so that a command that writes files leaves
// each complete or absent. For commands without a graceful stop of their
// own (plan and studies merge stop through their context instead). Call
// the returned function when the command is done.
func exitOnSignal(stderr io.Writer) (*atomicfile.Set, func()) {
	set := &atomicfile.Set{}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-ch:
			set.RemoveAll()
			fmt.Fprintf(stderr, "scaleacross: %v: stopped; no partial output file left\n", sig)
			code := 130
			if s, ok := sig.(syscall.Signal); ok {
				code = 128 + int(s)
			}
			os.Exit(code)
		case <-done:
		}
	}()
	return set, func() {
		signal.Stop(ch)
		close(done)
	}
}
