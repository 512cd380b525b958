// Package spec reads and validates the YAML (or JSON) specs of training
// jobs and serving setups. Decoding is strict: unknown fields are errors.
package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"
)

// Error is a problem with one field of a spec, found while reading it: the
// command line reports it as bad input.
type Error struct {
	// Field is the dotted path of the offending field, e.g. "parallel.tp".
	Field string
	// Msg says what is wrong and how to fix it.
	Msg string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return fmt.Sprintf("%s: %s", e.Field, e.Msg)
}

// Errorf builds an Error for field.
func Errorf(field, format string, args ...any) *Error {
	return &Error{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// ReadFile reads a spec file, wrapping failures as a bad-input Error.
func ReadFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{Msg: fmt.Sprintf("cannot read spec: %v", err)}
	}
	return data, nil
}

// DecodeStrict decodes one YAML (or JSON) document into v, rejecting
// unknown fields and trailing documents.
func DecodeStrict(data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return &Error{Msg: "spec is empty"}
		}
		return &Error{Msg: fmt.Sprintf("invalid spec: %v", err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return &Error{Msg: "spec must hold exactly one YAML document"}
	}
	return nil
}
