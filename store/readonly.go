package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/scaleacross/scaleacross/fault"

	"github.com/scaleacross/scaleacross/explore"
	"github.com/scaleacross/scaleacross/parallel"
)

// OpenReadOnly opens an existing study database for reading only: SQLite
// opens the file with mode=ro and query_only set, so no statement can
// write and no journal is created. A missing or empty file is refused
// (there is nothing to read and it may not be created), as is any file
// that Open would refuse; the file is never modified. Another process may
// keep writing the database (a running plan); every query reads the last
// committed state.
func OpenReadOnly(path string) (*DB, error) {
	fresh, err := checkHeader(path)
	if err != nil {
		return nil, err
	}
	if fresh {
		return nil, &ForeignError{path, "does not exist or is empty (run scaleacross plan --db to create a study database)"}
	}
	dsn, err := fileURI(path, "mode=ro&_pragma=query_only(1)&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening %s read-only: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if err := checkTables(db, path); err != nil {
		db.Close()
		return nil, err
	}
	return &DB{db: db, path: path}, nil
}

// CandidateNotFoundError reports a candidate index that a study's space
// does not hold (exit code 2).
type CandidateNotFoundError struct {
	Study int64
	Space string
	Index int
}

func (e *CandidateNotFoundError) Error() string {
	return fmt.Sprintf("study %d has no stored candidate %d in space %q", e.Study, e.Index, e.Space)
}

// Is reports an unknown candidate as bad input (fault.ErrBadInput).
func (e *CandidateNotFoundError) Is(target error) bool { return target == fault.ErrBadInput }

const recordCols = `idx, tp, cp, pp, vp, ep, dp, zero, micro_batch, sp, placement, schedule, recompute, technology, collective, step_time_s, mfu, memory_gib`

func scanRecord(row interface{ Scan(...any) error }) (explore.Record, error) {
	var r explore.Record
	c := &r.Candidate
	var rc string
	err := row.Scan(&r.Index, &c.TP, &c.CP, &c.PP, &c.VP, &c.EP, &c.DP, &c.Zero, &c.MicroBatch, &c.SP, &c.Placement, &c.Schedule, &rc, &c.Technology, &c.Collective,
		&r.StepTimeS, &r.MFU, &r.MemoryGiB)
	c.Recompute = parallel.Recompute(rc)
	return r, err
}

// Record reads one stored candidate of a study's space.
func (d *DB) Record(ctx context.Context, study int64, space string, index int) (explore.Record, error) {
	r, err := scanRecord(d.db.QueryRowContext(ctx, `SELECT `+recordCols+` FROM candidates WHERE study_id = ? AND space = ? AND idx = ?`, study, space, index))
	if errors.Is(err, sql.ErrNoRows) {
		return explore.Record{}, &CandidateNotFoundError{study, space, index}
	}
	if err != nil {
		return explore.Record{}, fmt.Errorf("reading candidate %d of study %d: %w", index, study, err)
	}
	return r, nil
}

// Fastest reads the limit stored candidates of a study's space with the
// shortest stored (analytic) step time, ties broken by index.
func (d *DB) Fastest(ctx context.Context, study int64, space string, limit int) ([]explore.Record, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+recordCols+` FROM candidates WHERE study_id = ? AND space = ? ORDER BY step_time_s, idx LIMIT ?`, study, space, limit)
	if err != nil {
		return nil, fmt.Errorf("reading candidates of study %d: %w", study, err)
	}
	defer rows.Close()
	var out []explore.Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("reading candidates of study %d: %w", study, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Progress reads a study's search states without their records, by space
// name in name order: how far each space's search has come.
func (d *DB) Progress(ctx context.Context, study int64) ([]explore.State, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT space, next, done, evaluated, min_memory_gib, candidates, elapsed_s FROM spaces WHERE study_id = ? ORDER BY space`, study)
	if err != nil {
		return nil, fmt.Errorf("reading the progress of study %d: %w", study, err)
	}
	defer rows.Close()
	var out []explore.State
	for rows.Next() {
		var st explore.State
		if err := rows.Scan(&st.Space, &st.Next, &st.Done, &st.Evaluated, &st.MinMemoryGiB, &st.Candidates, &st.ElapsedS); err != nil {
			return nil, fmt.Errorf("reading the progress of study %d: %w", study, err)
		}
		out = append(out, st)
	}
	return out, rows.Err()
}
