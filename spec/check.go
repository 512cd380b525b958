package spec

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxInt is the largest magnitude an integer field may hold. Every count
// in a spec (GPUs, degrees, lengths, batches) is far below it, and two
// such values multiply without overflowing int64.
const MaxInt = math.MaxInt32

// checker walks a decoded YAML tree alongside the Go type it will be
// decoded into, so that type errors name the spec field (not a line and a
// Go type), fractions are refused for integers instead of truncated,
// non-finite numbers are refused, and lists, strings and the whole tree
// stay within the limits above.
type checker struct {
	nodes int
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// check reports the first problem of n read as a value of type t at path.
func (c *checker) check(n *yaml.Node, t reflect.Type, path string) error {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	c.nodes++
	if c.nodes > MaxNodes {
		return Errorf("", "spec expands to more than %d YAML nodes (aliases followed); the limit keeps hostile input from exhausting memory", MaxNodes)
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil // the zero value
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil // the type checks itself (TreeSpec)
	}
	name := path // the field path as errors print it; empty at the root
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return Errorf(name, "must be a mapping of fields, got %s", describe(n))
		}
		return c.checkStruct(n, t, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return Errorf(name, "must be a list, got %s", describe(n))
		}
		if len(n.Content) > MaxListLen {
			return Errorf(name, "has %d entries, over the limit of %d", len(n.Content), MaxListLen)
		}
		for i, e := range n.Content {
			if err := c.check(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Int, reflect.Int64, reflect.Int32:
		return checkInt(n, name)
	case reflect.Float64, reflect.Float32:
		return checkFloat(n, name)
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			return Errorf(name, "must be true or false, got %s", describe(n))
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			return Errorf(name, "must be a string, got %s", describe(n))
		}
		if len(n.Value) > MaxStringLen {
			return Errorf(name, "is %d bytes long, over the limit of %d", len(n.Value), MaxStringLen)
		}
	}
	return nil
}

// checkStruct checks the fields of a mapping read as struct type t.
func (c *checker) checkStruct(n *yaml.Node, t reflect.Type, path string) error {
	fields := yamlFields(t)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.ShortTag() == "!!merge" { // <<: *a or <<: [*a, *b]
			merged := []*yaml.Node{v}
			if v.Kind == yaml.SequenceNode {
				merged = v.Content
			}
			for _, m := range merged {
				if err := c.check(m, t, path); err != nil {
					return err
				}
			}
			continue
		}
		if k.Kind != yaml.ScalarNode {
			return Errorf(path, "has a key that is not a field name (%s)", describe(k))
		}
		key := k.Value
		sub := key
		if path != "" {
			sub = path + "." + key
		}
		f, ok := fields[key]
		if !ok {
			known := make([]string, 0, len(fields))
			for name := range fields {
				known = append(known, name)
			}
			sort.Strings(known)
			hint := ""
			if near := nearest(key, known); near != "" {
				hint = fmt.Sprintf(" (did you mean %s?)", near)
			}
			return Errorf(sub, "unknown field%s; known fields here: %s", hint, strings.Join(known, ", "))
		}
		if err := c.check(v, f, sub); err != nil {
			return err
		}
	}
	return nil
}

// yamlFields maps the YAML names of t's fields to their types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// checkInt accepts a whole number of magnitude at most MaxInt: an integer,
// or a float with no fractional part (1e4, 8.0).
func checkInt(n *yaml.Node, name string) error {
	if n.Kind != yaml.ScalarNode {
		return Errorf(name, "must be a whole number, got %s", describe(n))
	}
	switch n.ShortTag() {
	case "!!int":
		var v int64
		if err := n.Decode(&v); err != nil || v > MaxInt || v < -MaxInt {
			return Errorf(name, "%s is out of range; a whole number of magnitude at most %d is expected", clip(n.Value), MaxInt)
		}
		return nil
	case "!!float":
		var v float64
		if err := n.Decode(&v); err != nil {
			return Errorf(name, "must be a whole number, got %s", clip(n.Value))
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || v != math.Trunc(v) {
			return Errorf(name, "must be a whole number, got %s", clip(n.Value))
		}
		if math.Abs(v) > MaxInt {
			return Errorf(name, "%s is out of range; a whole number of magnitude at most %d is expected", clip(n.Value), MaxInt)
		}
		return nil
	}
	return Errorf(name, "must be a whole number, got %s", describe(n))
}

// checkFloat accepts a finite number.
func checkFloat(n *yaml.Node, name string) error {
	if n.Kind != yaml.ScalarNode {
		return Errorf(name, "must be a number, got %s", describe(n))
	}
	switch n.ShortTag() {
	case "!!int", "!!float":
		var v float64
		if err := n.Decode(&v); err != nil {
			return Errorf(name, "must be a number, got %s", clip(n.Value))
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Errorf(name, "must be a finite number, got %s", clip(n.Value))
		}
		return nil
	}
	return Errorf(name, "must be a number, got %s", describe(n))
}

// describe names what a node holds, for type errors.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			return fmt.Sprintf("the string %q", clip(n.Value))
		case "!!bool":
			return "the boolean " + n.Value
		case "!!int", "!!float":
			return "the number " + clip(n.Value)
		}
		return fmt.Sprintf("%q", clip(n.Value))
	}
	return "an unexpected YAML node"
}

// clip shortens a value echoed in an error to at most 64 bytes.
func clip(s string) string {
	if len(s) <= 64 {
		return s
	}
	return s[:61] + "..."
}

// nearest returns the name in known (sorted) closest to key in edit
// distance, or "" when none is within a third of key's length (at least
// one edit, at most three). Ties go to the first name in sorted order.
func nearest(key string, known []string) string {
	limit := min(max(len(key)/3, 1), 3)
	best, bestD := "", limit+1
	for _, k := range known {
		if d := editDistance(strings.ToLower(key), k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
