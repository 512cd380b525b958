package infer

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/model"
	"github.com/scaleacross/scaleacross/spec"
)

// finite reports the path of the first NaN or infinite float in v.
func finite(v reflect.Value, path string) (string, bool) {
	switch v.Kind() {
	case reflect.Float64, reflect.Float32:
		return path, !math.IsNaN(v.Float()) && !math.IsInf(v.Float(), 0)
	case reflect.Struct:
		for i := range v.NumField() {
			if p, ok := finite(v.Field(i), path+"."+v.Type().Field(i).Name); !ok {
				return p, false
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if p, ok := finite(v.Index(i), path+"[]"); !ok {
				return p, false
			}
		}
	case reflect.Pointer:
		if !v.IsNil() {
			return finite(v.Elem(), path)
		}
	}
	return path, true
}

// FuzzServe checks that no serving spec makes reading, resolving or the
// serving model panic; that every refusal is bad input or a batch that
// does not fit; and that every accepted spec predicts only finite
// numbers. Seeds: the serving examples and the hostile cases of issue 12
// (non-finite and huge numbers, fractions, deep and wide trees, aliases);
// the corpus is kept in testdata/fuzz/FuzzServe.
func FuzzServe(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "examples", "serve-*.yaml"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	base := "model: llama3.1-8b\nsystem: {gpu: h100-sxm, gpus: 1}\nworkload: {batch: 2, input_len: 256, output_len: 512}\n"
	for _, s := range []string{
		base,
		base + "speculative: {method: eagle3, tree: chain:3, acceptance: [.nan]}\n",
		base + "speculative: {method: eagle, tree: [[0], [0, 0], [0, 0, 0], [1]], sibling_decay: .inf}\n",
		base + "speculative: {method: eagle, tree: auto, max_nodes: 128, max_depth: 12}\n",
		base + "speculative: {method: eagle, tree: [[0.5]]}\n",
		strings.Replace(base, "input_len: 256", "input_len: 9223372036854775807", 1),
		strings.Replace(base, "input_len: 256", "input_len: 16777000", 1),
		strings.Replace(base, "batch: 2", "batch: 1048576", 1),
		strings.Replace(base, "batch: 2", "batch: 1.5", 1),
		strings.Replace(base, "gpus: 1", "gpus: 1e308", 1),
		strings.Replace(base, "workload:", "x: &a [*a]\nworkload:", 1),
		"model: " + strings.Repeat("[", 1000),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := spec.ParseServe(data)
		if err != nil {
			var se *spec.Error
			if !errors.As(err, &se) {
				t.Fatalf("reading error %v (%T) is not a *spec.Error", err, err)
			}
			return
		}
		j, err := FromSpec(s, model.Lookup, hardware.Lookup)
		if err != nil {
			if !errors.Is(err, fault.ErrBadInput) {
				t.Fatalf("resolving error %v is not bad input", err)
			}
			return
		}
		r, err := Predict(j.Config, j.Workload, j.Speculative)
		if err != nil {
			if !errors.Is(err, fault.ErrBadInput) && !errors.Is(err, fault.ErrNoFit) {
				t.Fatalf("prediction error %v is neither bad input nor does not fit", err)
			}
			return
		}
		if p, ok := finite(reflect.ValueOf(r), "result"); !ok {
			t.Fatalf("%s is not finite for %s", p, data)
		}
		if !(r.TTITms > 0) {
			t.Fatalf("ttit %g ms", r.TTITms)
		}
	})
}
