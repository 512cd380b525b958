package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/scaleacross/scaleacross/store"
	"github.com/scaleacross/scaleacross/ui"
)

// newUICmd builds `scaleacross ui [--db FILE] [--addr HOST:PORT]`.
func newUICmd() *cobra.Command {
	var db, addr, examples string
	cmd := &cobra.Command{
		Use:   "ui [--db FILE] [--addr 127.0.0.1:8080]",
		Short: "Serve a local web dashboard over the study database and what-if simulation",
		Long: `ui serves a local web dashboard over a study database (--db, default
$XDG_DATA_HOME/scaleacross/studies.db): the studies with their status and
progress (plans running in other processes show up as they commit), each
study's best plan against production and prior art, every stored candidate
simulated in full with its event timeline, what-if re-simulation of a
candidate, two candidates side by side, and serving batch sweeps.

The database is opened read-only and never written. Every page answers
JSON with "Accept: application/json" or "?format=json". The server listens
on 127.0.0.1:8080 unless --addr says otherwise (port 0 picks a free port)
and prints its URL. Ctrl-C stops it.

Exit codes: 2 when --db is not a scaleacross study database (it is left
untouched) or --addr is unusable.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runUI(ctx, cmd, db, addr, examples)
		},
	}
	cmd.Flags().StringVar(&db, "db", "", "study database (default $XDG_DATA_HOME/scaleacross/studies.db)")
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "listen address HOST:PORT")
	cmd.Flags().StringVar(&examples, "examples", "examples", "directory of serving example specs (serve-*.yaml)")
	return cmd
}

func runUI(ctx context.Context, cmd *cobra.Command, dbPath, addr, examples string) error {
	if dbPath == "" {
		p, err := store.DefaultPath()
		if err != nil {
			return err
		}
		dbPath = p
	}
	db, err := store.OpenReadOnly(dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	srv, err := ui.New(db, ui.Options{Examples: examples})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return badInput("--addr %s: %v", addr, err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(cmd.OutOrStdout(), "scaleacross ui: http://%s/ (study database %s, read-only; Ctrl-C to stop)\n", ln.Addr(), dbPath)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serving the dashboard: %w", err)
		}
		return nil
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := hs.Shutdown(sctx); err != nil {
			return fmt.Errorf("stopping the dashboard: %w", err)
		}
		return nil
	}
}
