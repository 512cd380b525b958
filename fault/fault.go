// Package fault holds the kinds of error the library packages return, so
// that callers can tell a bad input or a job that does not fit from a
// failure without knowing which package found it. It imports nothing of
// the project; the command line alone turns kinds into exit codes.
package fault

import (
	"errors"
	"fmt"
)

// The error kinds. Test with errors.Is.
var (
	// ErrBadInput marks an input the user must change: an invalid spec
	// value, an unknown id, a file that cannot be read as what it should be.
	ErrBadInput = errors.New("bad input")
	// ErrNoFit marks a job that is valid but does not fit in memory.
	ErrNoFit = errors.New("does not fit")
)

// FieldError is a bad value of one named parameter. Field is the dotted
// spec path where the parameter is read (e.g. "parallel.tp"); Msg says what
// is wrong and how to fix it. It is a bad-input error.
type FieldError struct {
	Field string
	Msg   string
}

// Field builds a FieldError for field.
func Field(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

// Is makes every FieldError an ErrBadInput.
func (e *FieldError) Is(target error) bool { return target == ErrBadInput }

// BadInput marks err as bad input, keeping its text and chain; nil stays nil.
func BadInput(err error) error {
	if err == nil {
		return nil
	}
	return &kinded{err, ErrBadInput}
}

// NoFit marks err as a job that does not fit; nil stays nil.
func NoFit(err error) error {
	if err == nil {
		return nil
	}
	return &kinded{err, ErrNoFit}
}

type kinded struct {
	err  error
	kind error
}

func (k *kinded) Error() string        { return k.err.Error() }
func (k *kinded) Unwrap() error        { return k.err }
func (k *kinded) Is(target error) bool { return target == k.kind }
