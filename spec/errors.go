// Package spec reads and validates the YAML (or JSON) specs of training
// jobs and serving setups. Decoding is strict: unknown fields are errors.
package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

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

// DecodeStrict decodes one YAML (or JSON) document into v, rejecting
// unknown fields and trailing documents. Before decoding it walks the
// document alongside v's type: a value of the wrong type, a fraction
// given for an integer, a non-finite number, or a list, string or tree
// over the limits of this package is an *Error naming the field.
func DecodeStrict(data []byte, v any) error {
	if len(data) > MaxFileBytes {
		return &Error{Msg: fmt.Sprintf("spec is %d bytes, over the %d-byte limit", len(data), MaxFileBytes)}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &Error{Msg: "spec is empty"}
		}
		if e := jsonSyntax(data); e != nil {
			return e
		}
		return &Error{Msg: "invalid spec: " + yamlSyntax(err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return &Error{Msg: "spec must hold exactly one YAML document"}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return &Error{Msg: "spec is empty"}
	}
	var c checker
	if err := c.check(root, reflect.TypeOf(v), ""); err != nil {
		if e, ok := err.(*Error); ok && e.Field == "" && strings.HasPrefix(e.Msg, "must be") {
			e.Msg = "the spec " + e.Msg
		}
		return err
	}
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(v); err != nil {
		var se *Error
		if errors.As(err, &se) {
			return se
		}
		return &Error{Msg: fmt.Sprintf("invalid spec: %v", err)}
	}
	return nil
}

// yamlSyntax words a YAML syntax error for a reader. For a flow mapping
// or sequence ({...} or [...]) that is never closed, the parser names the
// line where the collection opened counting from 0, one before the line a
// reader looks at; the message names that 1-based line.
func yamlSyntax(err error) string {
	msg := err.Error()
	rest, ok := strings.CutPrefix(msg, "yaml: line ")
	if !ok {
		return msg
	}
	num, tail, ok := strings.Cut(rest, ": ")
	line, aerr := strconv.Atoi(num)
	if !ok || aerr != nil {
		return msg
	}
	for _, c := range [2][2]string{{"{", "}"}, {"[", "]"}} {
		if tail == "did not find expected ',' or '"+c[1]+"'" {
			return fmt.Sprintf("yaml: line %d: the %s opened on this line is not closed (did not find expected ',' or '%s')", line+1, c[0], c[1])
		}
	}
	return msg
}

// jsonSyntax reports the JSON syntax error of data, with its line and
// column, when data reads as JSON (it starts with "{"); nil otherwise or
// when the JSON decoder finds no syntax error.
func jsonSyntax(data []byte) *Error {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil
	}
	var v any
	err := json.Unmarshal(data, &v)
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return nil
	}
	before := data[:min(max(se.Offset-1, 0), int64(len(data)))]
	line := bytes.Count(before, []byte("\n")) + 1
	col := len(before) - bytes.LastIndexByte(before, '\n')
	return &Error{Msg: fmt.Sprintf("invalid JSON spec: line %d, column %d: %v", line, col, se)}
}
