// Package atomicfile writes output files so that each is either complete
// or absent: the content goes to a temporary file in the same directory,
// which is renamed into place only once it is fully written and closed. A
// Set remembers the temporary files being written, so that a signal
// handler can remove them before the process exits.
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// ErrStopped is returned by a write started or finished after RemoveAll.
var ErrStopped = errors.New("stopped by a signal")

// Set tracks the temporary files of the writes in progress. The zero
// value is ready; a nil *Set writes atomically without tracking.
type Set struct {
	mu      sync.Mutex
	temps   map[string]bool
	stopped bool
}

// RemoveAll removes every temporary file still being written and makes
// later writes fail with ErrStopped. It is safe to call from a signal
// handler's goroutine while writes run.
func (s *Set) RemoveAll() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	for p := range s.temps {
		os.Remove(p)
		delete(s.temps, p)
	}
}

// create makes a temporary file in dir and records it, under the set's
// lock, so that a signal handler's RemoveAll either runs first (and
// nothing is created) or finds the file recorded: no temporary file can
// be created in between and left behind.
func (s *Set) create(dir, pattern string) (*os.File, error) {
	if s == nil {
		return os.CreateTemp(dir, pattern)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil, ErrStopped
	}
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	if s.temps == nil {
		s.temps = map[string]bool{}
	}
	s.temps[f.Name()] = true
	return f, nil
}

// finish renames the temporary file into place, unless the set was
// stopped in the meantime (the file is then already gone).
func (s *Set) finish(tmp, path string) error {
	if s == nil {
		return os.Rename(tmp, path)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return ErrStopped
	}
	delete(s.temps, tmp)
	return os.Rename(tmp, path)
}

// forget drops a temporary file that the writer removed itself.
func (s *Set) forget(tmp string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.temps, tmp)
}

// Write writes path through write: the output goes to a hidden temporary
// file next to path, which replaces path only when write, the flush and
// the close all succeeded. On any failure path is left as it was and the
// temporary file is removed.
//
// An existing path that is a symbolic link has its target replaced (the
// link stays). An existing path that is not a regular file (/dev/stdout,
// /dev/null, a FIFO) is written in place, as a stream: renaming over a
// device would replace the device node. A directory is an error.
func (s *Set) Write(path string, write func(io.Writer) error) (err error) {
	if fi, err := os.Stat(path); err == nil {
		switch {
		case fi.IsDir():
			return fmt.Errorf("writing %s: it is a directory", path)
		case !fi.Mode().IsRegular():
			return writeStream(path, write)
		}
		if target, err := filepath.EvalSymlinks(path); err == nil {
			path = target
		}
	}
	f, err := s.create(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			s.forget(tmp)
			err = fmt.Errorf("writing %s: %w", path, err)
		}
	}()
	bw := bufio.NewWriter(f)
	if err = write(bw); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Chmod(tmp, 0o644); err != nil {
		return err
	}
	return s.finish(tmp, path)
}

// writeStream writes to an existing special file in place.
func writeStream(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	bw := bufio.NewWriter(f)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// WriteBytes writes data to path atomically (see Write).
func (s *Set) WriteBytes(path string, data []byte) error {
	return s.Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
