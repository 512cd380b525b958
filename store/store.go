// Package store keeps Explorer studies in an embedded SQLite database
// (modernc.org/sqlite, pure Go): the job spec, the candidates the search
// keeps with their metrics (by default the fastest few thousand of each
// space and its Pareto front; every candidate that fits with plan --keep
// all), the progress and statistics of each search space, and the finished
// plan with its baselines and timings.
//
// Every write happens inside a transaction, so an interrupted search
// leaves the database at its last commit, from which `plan --resume`
// continues. A file is opened only if its SQLite header carries this
// package's application id and a schema version it knows; anything else
// (another program's database, a corrupt or non-SQLite file) is refused
// with a *ForeignError before SQLite touches it, and is never modified.
package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/scaleacross/scaleacross/explore"
	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/parallel"
)

// ApplicationID marks scaleacross study databases ("SCAX" in ASCII), in
// the SQLite header's application_id field.
const ApplicationID = 0x53434158

// SchemaVersion is the schema this package writes (PRAGMA user_version).
// Version 2 added spaces.feasible; Open upgrades a version 1 file.
const SchemaVersion = 2

const schema = `
CREATE TABLE studies (
	id            INTEGER PRIMARY KEY,
	created       TEXT    NOT NULL,
	name          TEXT    NOT NULL,
	model         TEXT    NOT NULL,
	gpus          INTEGER NOT NULL,
	spec          TEXT    NOT NULL,
	spec_hash     TEXT    NOT NULL,
	options       TEXT    NOT NULL,
	shard_index   INTEGER NOT NULL,
	shard_count   INTEGER NOT NULL,
	status        TEXT    NOT NULL,
	best_step_s   REAL,
	speedup_prod  REAL,
	speedup_prior REAL,
	elapsed_s     REAL,
	result        TEXT
);
CREATE TABLE spaces (
	study_id       INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
	space          TEXT    NOT NULL,
	next           INTEGER NOT NULL,
	done           INTEGER NOT NULL,
	evaluated      INTEGER NOT NULL,
	min_memory_gib REAL    NOT NULL,
	candidates     INTEGER NOT NULL,
	elapsed_s      REAL    NOT NULL,
	feasible       INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (study_id, space)
);
CREATE TABLE candidates (
	study_id    INTEGER NOT NULL,
	space       TEXT    NOT NULL,
	idx         INTEGER NOT NULL,
	tp INTEGER NOT NULL, cp INTEGER NOT NULL, pp INTEGER NOT NULL, vp INTEGER NOT NULL,
	ep INTEGER NOT NULL, dp INTEGER NOT NULL, zero INTEGER NOT NULL, micro_batch INTEGER NOT NULL,
	sp          INTEGER NOT NULL,
	placement   TEXT    NOT NULL,
	schedule    TEXT    NOT NULL,
	recompute   TEXT    NOT NULL,
	technology  TEXT    NOT NULL,
	collective  TEXT    NOT NULL,
	step_time_s REAL    NOT NULL,
	mfu         REAL    NOT NULL,
	memory_gib  REAL    NOT NULL,
	PRIMARY KEY (study_id, space, idx)
) WITHOUT ROWID;
`

// Status values of a study.
const (
	StatusRunning     = "running"
	StatusInterrupted = "interrupted"
	StatusComplete    = "complete"
	StatusFailed      = "failed"
)

// ForeignError reports a file that is not a scaleacross study database.
// It exits with code 2; the file is left untouched.
type ForeignError struct {
	Path   string
	Reason string
}

func (e *ForeignError) Error() string {
	return fmt.Sprintf("--db %s: %s; it was not modified (choose another file with --db)", e.Path, e.Reason)
}

// Is reports the error as bad input (fault.ErrBadInput).
func (e *ForeignError) Is(target error) bool { return target == fault.ErrBadInput }

// DB is an open study database.
type DB struct {
	db   *sql.DB
	path string
}

// DefaultPath is $XDG_DATA_HOME/scaleacross/studies.db, else
// ~/.local/share/scaleacross/studies.db.
func DefaultPath() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "scaleacross", "studies.db"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the default study database: %w (pass --db)", err)
	}
	return filepath.Join(home, ".local", "share", "scaleacross", "studies.db"), nil
}

// sqliteMagic starts every SQLite 3 database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// checkHeader reads the 100-byte SQLite header of an existing, non-empty
// file and checks the application id and schema version. It reports
// whether the file is new (missing or empty).
func checkHeader(path string) (bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, &ForeignError{path, fmt.Sprintf("cannot be read: %v", err)}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false, &ForeignError{path, fmt.Sprintf("cannot be read: %v", err)}
	}
	if st.IsDir() {
		return false, &ForeignError{path, "is a directory"}
	}
	if st.Size() == 0 {
		return true, nil
	}
	h := make([]byte, 100)
	if _, err := io.ReadFull(f, h); err != nil || !bytes.Equal(h[:16], sqliteMagic) {
		return false, &ForeignError{path, "is not a SQLite database"}
	}
	version := binary.BigEndian.Uint32(h[60:64])
	app := binary.BigEndian.Uint32(h[68:72])
	switch {
	case app != ApplicationID:
		return false, &ForeignError{path, fmt.Sprintf("is a SQLite database of another application (application_id %#x, want %#x)", app, ApplicationID)}
	case version > SchemaVersion:
		return false, &ForeignError{path, fmt.Sprintf("has study schema version %d, newer than this scaleacross understands (%d)", version, SchemaVersion)}
	case version < 1:
		return false, &ForeignError{path, "has no study schema"}
	}
	return false, nil
}

// Open opens the study database at path, creating it (and its directory)
// when it does not exist.
func Open(path string) (*DB, error) {
	fresh, err := checkHeader(path)
	if err != nil {
		return nil, err
	}
	if fresh {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("creating the study database directory: %w", err)
		}
	}
	dsn, err := fileURI(path, "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)")
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	d := &DB{db: db, path: path}
	if fresh {
		if err := d.create(); err != nil {
			db.Close()
			return nil, err
		}
		return d, nil
	}
	// Read before any write: a corrupt file fails here, untouched.
	if err := checkTables(db, path); err != nil {
		db.Close()
		return nil, err
	}
	if err := checkPages(db, path); err != nil {
		db.Close()
		return nil, err
	}
	if err := d.upgrade(); err != nil {
		db.Close()
		return nil, err
	}
	return d, nil
}

// fileURI is the SQLite URI of the file at path with the driver's query
// parameters: the absolute path with every character SQLite or the driver
// would read as URI syntax (?, #, %) percent-escaped, so that SQLite opens
// exactly the file whose header was checked, whatever its name.
func fileURI(path, query string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("opening %s: %w", path, err)
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: query}
	// url.URL leaves "?" escaped and "%" and "#" too; an empty host gives
	// file:///abs, which SQLite reads as the local path /abs.
	return u.String(), nil
}

// checkPages runs SQLite's quick_check over every page, so that a file
// with a corrupt page is refused before anything is written to it.
func checkPages(db *sql.DB, path string) error {
	rows, err := db.Query(`PRAGMA quick_check(1)`)
	if err != nil {
		return &ForeignError{path, fmt.Sprintf("cannot be read as a study database (%v)", err)}
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return &ForeignError{path, fmt.Sprintf("cannot be read as a study database (%v)", err)}
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return &ForeignError{path, fmt.Sprintf("is corrupt (%v)", err)}
	}
	if len(msgs) != 1 || msgs[0] != "ok" {
		return &ForeignError{path, fmt.Sprintf("is corrupt (SQLite quick_check: %s)", strings.Join(msgs, "; "))}
	}
	return nil
}

// upgrade brings a version 1 database to the current schema: it adds the
// count of candidates that fit to every space, which version 1 did not
// record because it stored every one of them.
func (d *DB) upgrade() error {
	var v int
	if err := d.db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		return fmt.Errorf("reading the schema version of %s: %w", d.path, err)
	}
	if v >= SchemaVersion {
		return nil
	}
	tx, err := d.db.Begin()
	if err != nil {
		return fmt.Errorf("upgrading %s: %w", d.path, err)
	}
	defer tx.Rollback()
	for _, q := range []string{
		`ALTER TABLE spaces ADD COLUMN feasible INTEGER NOT NULL DEFAULT 0`,
		`UPDATE spaces SET feasible = (SELECT count(*) FROM candidates c WHERE c.study_id = spaces.study_id AND c.space = spaces.space)`,
		fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion),
	} {
		if _, err := tx.Exec(q); err != nil {
			return fmt.Errorf("upgrading %s to schema version %d: %w", d.path, SchemaVersion, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("upgrading %s: %w", d.path, err)
	}
	return nil
}

// checkTables reads db's schema and refuses a database without the study
// tables (or one that cannot be read) as foreign.
func checkTables(db *sql.DB, path string) error {
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('studies', 'spaces', 'candidates')`).Scan(&n); err != nil {
		return &ForeignError{path, fmt.Sprintf("cannot be read as a study database (%v)", err)}
	}
	if n != 3 {
		return &ForeignError{path, "lacks the study tables"}
	}
	return nil
}

func (d *DB) create() error {
	tx, err := d.db.Begin()
	if err != nil {
		return fmt.Errorf("creating %s: %w", d.path, err)
	}
	defer tx.Rollback()
	stmts := []string{
		fmt.Sprintf("PRAGMA application_id = %d", ApplicationID),
		fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion),
		schema,
	}
	for _, s := range stmts {
		if _, err := tx.Exec(s); err != nil {
			return fmt.Errorf("creating the study schema in %s: %w", d.path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("creating %s: %w", d.path, err)
	}
	return nil
}

// Path is the database file.
func (d *DB) Path() string { return d.path }

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

// Study is one plan run: its spec, options and, when complete, its result.
type Study struct {
	ID      int64         `json:"id"`
	Created string        `json:"created"`
	Name    string        `json:"name"`
	Model   string        `json:"model"`
	GPUs    int           `json:"gpus"`
	Spec    string        `json:"spec"`
	Hash    string        `json:"spec_hash"`
	Options string        `json:"options"`
	Shard   explore.Shard `json:"shard"`
	Status  string        `json:"status"`
	// BestStepS and the speed-ups are copied from the result for listing.
	BestStepS    float64 `json:"best_step_time_s"`
	SpeedupProd  float64 `json:"speedup_vs_production"`
	SpeedupPrior float64 `json:"speedup_vs_prior_art"`
	ElapsedS     float64 `json:"elapsed_s"`
	// Result is the finished plan's JSON.
	Result string `json:"-"`
}

// Create inserts a new study (status running) and returns its id.
func (d *DB) Create(s Study, now time.Time) (int64, error) {
	res, err := d.db.Exec(`INSERT INTO studies (created, name, model, gpus, spec, spec_hash, options, shard_index, shard_count, status)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		now.UTC().Format(time.RFC3339), s.Name, s.Model, s.GPUs, s.Spec, s.Hash, s.Options, s.Shard.Index, max(s.Shard.Count, 1), StatusRunning)
	if err != nil {
		return 0, fmt.Errorf("creating a study in %s: %w", d.path, err)
	}
	return res.LastInsertId()
}

// Commit stores a batch of records and the space's new state in one
// transaction.
func (d *DB) Commit(study int64, st explore.State, recs []explore.Record) error {
	return d.CommitBatch(study, st, recs, nil)
}

// CommitBatch stores the space's new state, adds recs and deletes the
// records numbered in drop, in one transaction.
func (d *DB) CommitBatch(study int64, st explore.State, recs []explore.Record, drop []int) error {
	tx, err := d.db.Begin()
	if err != nil {
		return fmt.Errorf("committing study %d: %w", study, err)
	}
	defer tx.Rollback()
	if len(recs) > 0 {
		ins, err := tx.Prepare(`INSERT OR REPLACE INTO candidates VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("committing study %d: %w", study, err)
		}
		defer ins.Close()
		for _, r := range recs {
			c := r.Candidate
			if _, err := ins.Exec(study, st.Space, r.Index, c.TP, c.CP, c.PP, c.VP, c.EP, c.DP, c.Zero, c.MicroBatch, c.SP,
				c.Placement, c.Schedule, string(c.Recompute), c.Technology, c.Collective, r.StepTimeS, r.MFU, r.MemoryGiB); err != nil {
				return fmt.Errorf("committing study %d: %w", study, err)
			}
		}
	}
	if len(drop) > 0 {
		del, err := tx.Prepare(`DELETE FROM candidates WHERE study_id = ? AND space = ? AND idx = ?`)
		if err != nil {
			return fmt.Errorf("committing study %d: %w", study, err)
		}
		defer del.Close()
		for _, i := range drop {
			if _, err := del.Exec(study, st.Space, i); err != nil {
				return fmt.Errorf("committing study %d: %w", study, err)
			}
		}
	}
	if _, err := tx.Exec(`INSERT OR REPLACE INTO spaces (study_id, space, next, done, evaluated, min_memory_gib, candidates, elapsed_s, feasible) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		study, st.Space, st.Next, st.Done, st.Evaluated, st.MinMemoryGiB, st.Candidates, st.ElapsedS, st.Feasible); err != nil {
		return fmt.Errorf("committing study %d: %w", study, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing study %d: %w", study, err)
	}
	return nil
}

// Sink adapts the database to the explore.Sink of one study.
func (d *DB) Sink(study int64) explore.Sink { return sink{d, study} }

type sink struct {
	d  *DB
	id int64
}

func (s sink) Commit(st explore.State, recs []explore.Record, drop []int) error {
	return s.d.CommitBatch(s.id, st, recs, drop)
}

// SetStatus records a study's status.
func (d *DB) SetStatus(study int64, status string) error {
	if _, err := d.db.Exec(`UPDATE studies SET status = ? WHERE id = ?`, status, study); err != nil {
		return fmt.Errorf("updating study %d: %w", study, err)
	}
	return nil
}

// Finish stores a study's result and marks it complete.
func (d *DB) Finish(study int64, s Study) error {
	_, err := d.db.Exec(`UPDATE studies SET status = ?, best_step_s = ?, speedup_prod = ?, speedup_prior = ?, elapsed_s = ?, result = ? WHERE id = ?`,
		StatusComplete, s.BestStepS, s.SpeedupProd, s.SpeedupPrior, s.ElapsedS, s.Result, study)
	if err != nil {
		return fmt.Errorf("finishing study %d: %w", study, err)
	}
	return nil
}

const studyCols = `id, created, name, model, gpus, spec, spec_hash, options, shard_index, shard_count, status,
	coalesce(best_step_s, 0), coalesce(speedup_prod, 0), coalesce(speedup_prior, 0), coalesce(elapsed_s, 0), coalesce(result, '')`

func scanStudy(row interface{ Scan(...any) error }) (Study, error) {
	var s Study
	err := row.Scan(&s.ID, &s.Created, &s.Name, &s.Model, &s.GPUs, &s.Spec, &s.Hash, &s.Options, &s.Shard.Index, &s.Shard.Count, &s.Status,
		&s.BestStepS, &s.SpeedupProd, &s.SpeedupPrior, &s.ElapsedS, &s.Result)
	return s, err
}

// NotFoundError reports an unknown study id (exit code 2).
type NotFoundError struct {
	ID   int64
	Path string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("no study %d in %s (see scaleacross studies list)", e.ID, e.Path)
}

// Is reports the error as bad input (fault.ErrBadInput).
func (e *NotFoundError) Is(target error) bool { return target == fault.ErrBadInput }

// Study reads one study.
func (d *DB) Study(id int64) (Study, error) {
	s, err := scanStudy(d.db.QueryRow(`SELECT `+studyCols+` FROM studies WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Study{}, &NotFoundError{id, d.path}
	}
	if err != nil {
		return Study{}, fmt.Errorf("reading study %d: %w", id, err)
	}
	return s, nil
}

// List returns every study, oldest first.
func (d *DB) List() ([]Study, error) {
	rows, err := d.db.Query(`SELECT ` + studyCols + ` FROM studies ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("listing studies: %w", err)
	}
	defer rows.Close()
	var out []Study
	for rows.Next() {
		s, err := scanStudy(rows)
		if err != nil {
			return nil, fmt.Errorf("listing studies: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// States reads a study's search states with their records, by space.
func (d *DB) States(ctx context.Context, study int64) (map[string]*explore.State, error) {
	out := map[string]*explore.State{}
	rows, err := d.db.QueryContext(ctx, `SELECT space, next, done, evaluated, min_memory_gib, candidates, elapsed_s, feasible FROM spaces WHERE study_id = ? ORDER BY space`, study)
	if err != nil {
		return nil, fmt.Errorf("reading study %d: %w", study, err)
	}
	for rows.Next() {
		st := &explore.State{}
		if err := rows.Scan(&st.Space, &st.Next, &st.Done, &st.Evaluated, &st.MinMemoryGiB, &st.Candidates, &st.ElapsedS, &st.Feasible); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading study %d: %w", study, err)
		}
		out[st.Space] = st
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading study %d: %w", study, err)
	}
	for space, st := range out {
		if st.Records, err = d.Records(ctx, study, space); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Records reads the stored candidates of one space, in index order.
func (d *DB) Records(ctx context.Context, study int64, space string) ([]explore.Record, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT idx, tp, cp, pp, vp, ep, dp, zero, micro_batch, sp, placement, schedule, recompute, technology, collective, step_time_s, mfu, memory_gib
		FROM candidates WHERE study_id = ? AND space = ? ORDER BY idx`, study, space)
	if err != nil {
		return nil, fmt.Errorf("reading candidates of study %d: %w", study, err)
	}
	defer rows.Close()
	var out []explore.Record
	for rows.Next() {
		var r explore.Record
		c := &r.Candidate
		var rc string
		if err := rows.Scan(&r.Index, &c.TP, &c.CP, &c.PP, &c.VP, &c.EP, &c.DP, &c.Zero, &c.MicroBatch, &c.SP, &c.Placement, &c.Schedule, &rc, &c.Technology, &c.Collective,
			&r.StepTimeS, &r.MFU, &r.MemoryGiB); err != nil {
			return nil, fmt.Errorf("reading candidates of study %d: %w", study, err)
		}
		c.Recompute = parallel.Recompute(rc)
		out = append(out, r)
	}
	return out, rows.Err()
}
