package spec

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Limits on what a spec may hold. They are far above any real job or
// serving setup and keep a hostile or mistaken input from exhausting
// memory or time before validation can name what is wrong.
const (
	// MaxFileBytes is the largest spec file read (1 MiB).
	MaxFileBytes = 1 << 20
	// MaxListLen is the longest list a spec may give (search lists,
	// topology levels, layers_per_stage, tree paths, acceptance...).
	MaxListLen = 4096
	// MaxStringLen is the longest string value (ids, paths, names).
	MaxStringLen = 4096
	// MaxNodes is the most YAML nodes a spec may expand to, aliases
	// followed.
	MaxNodes = 200000
)

// ReadFile reads a spec file of at most MaxFileBytes, wrapping failures as
// a bad-input Error. It refuses directories, devices, FIFOs and sockets
// before opening them, so that /dev/zero or a pipe without a writer fails
// at once rather than filling memory or blocking.
func ReadFile(path string) ([]byte, error) {
	return ReadLimited(path, "spec", MaxFileBytes)
}

// ReadLimited reads the regular file at path, of at most limit bytes; what
// names the kind of file in errors ("spec", "Hugging Face config"). Every
// failure is an *Error.
func ReadLimited(path, what string, limit int64) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, &Error{Msg: fmt.Sprintf("cannot read %s: %v", what, unwrapPath(err))}
	}
	if err := regular(path, what, fi, limit); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{Msg: fmt.Sprintf("cannot read %s: %v", what, unwrapPath(err))}
	}
	defer f.Close()
	// Check the opened file too: the path may have changed since Stat.
	if fi, err = f.Stat(); err != nil {
		return nil, &Error{Msg: fmt.Sprintf("cannot read %s %s: %v", what, path, err)}
	}
	if err := regular(path, what, fi, limit); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, &Error{Msg: fmt.Sprintf("cannot read %s %s: %v", what, path, unwrapPath(err))}
	}
	if int64(len(data)) > limit {
		return nil, &Error{Msg: fmt.Sprintf("%s %s is larger than the %d-byte limit", what, path, limit)}
	}
	return data, nil
}

// regular refuses what is not a regular file of at most limit bytes.
func regular(path, what string, fi fs.FileInfo, limit int64) error {
	switch m := fi.Mode(); {
	case m.IsDir():
		return &Error{Msg: fmt.Sprintf("cannot read %s %s: it is a directory; give a file", what, path)}
	case !m.IsRegular():
		return &Error{Msg: fmt.Sprintf("cannot read %s %s: not a regular file (a device, FIFO or socket); give a file", what, path)}
	case fi.Size() > limit:
		return &Error{Msg: fmt.Sprintf("%s %s is %d bytes, over the %d-byte limit", what, path, fi.Size(), limit)}
	}
	return nil
}

// unwrapPath drops the operation and path an *fs.PathError repeats.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}
