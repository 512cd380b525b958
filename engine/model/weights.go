package model

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"

	"github.com/scaleacross/scaleacross/fault"
)

// Weight file format (version 1), one file per model:
//
//	offset 0: the 8 bytes "SAXWGT01"
//	offset 8: uint32 little endian H, the header length in bytes
//	offset 12: H bytes of JSON: {"kind": "target"|"draft", "config": Config,
//	           "tensors": [{"name": ..., "shape": [...]}, ...]}
//	then: every tensor in header order, its elements as float32 little
//	      endian, row-major; nothing after the last tensor.
//
// Loading rebuilds the model from the config and requires the header's
// tensor list to match the model's names and shapes exactly, the data to
// be complete and every value to be finite.
const magic = "SAXWGT01"

// maxHeader bounds the JSON header so a corrupt length cannot allocate
// gigabytes.
const maxHeader = 1 << 20

// Kinds of weight file.
const (
	KindTarget = "target"
	KindDraft  = "draft"
)

type tensorHeader struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
}

type fileHeader struct {
	Kind   string `json:"kind"`
	Config Config `json:"config"`
	// DraftFF is a draft head's SwiGLU width where it differs from its
	// target's (config.ff); absent (0) in every other file, and in the
	// draft files written before drafts had their own width.
	DraftFF int            `json:"draft_ff,omitempty"`
	Tensors []tensorHeader `json:"tensors"`
}

// FormatError reports a weight file that does not follow the format or
// does not match its model; it is bad input.
type FormatError struct{ Msg string }

func (e *FormatError) Error() string { return e.Msg }

// Is reports bad weight files as bad input (fault.ErrBadInput).
func (e *FormatError) Is(target error) bool { return target == fault.ErrBadInput }

func writeParams(w io.Writer, kind string, cfg Config, draftFF int, ps []*Param) error {
	h := fileHeader{Kind: kind, Config: cfg}
	if draftFF != cfg.FF {
		h.DraftFF = draftFF
	}
	for _, p := range ps {
		h.Tensors = append(h.Tensors, tensorHeader{p.Name, p.Shape})
	}
	js, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("encoding weight header: %w", err)
	}
	bw := bufio.NewWriter(w)
	bw.WriteString(magic)
	binary.Write(bw, binary.LittleEndian, uint32(len(js)))
	bw.Write(js)
	buf := make([]byte, 4)
	for _, p := range ps {
		for _, v := range p.W {
			binary.LittleEndian.PutUint32(buf, math.Float32bits(v))
			bw.Write(buf)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing weights: %w", err)
	}
	return nil
}

func readHeader(r io.Reader) (*fileHeader, error) {
	var pre [12]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, &FormatError{fmt.Sprintf("weight file too short for its 12-byte preamble: %v", err)}
	}
	if string(pre[:8]) != magic {
		return nil, &FormatError{fmt.Sprintf("not a weight file: magic %q, want %q", pre[:8], magic)}
	}
	n := binary.LittleEndian.Uint32(pre[8:])
	if n == 0 || n > maxHeader {
		return nil, &FormatError{fmt.Sprintf("weight header length %d outside 1..%d", n, maxHeader)}
	}
	js := make([]byte, n)
	if _, err := io.ReadFull(r, js); err != nil {
		return nil, &FormatError{fmt.Sprintf("weight file truncated inside its %d-byte header", n)}
	}
	var h fileHeader
	if err := json.Unmarshal(js, &h); err != nil {
		return nil, &FormatError{fmt.Sprintf("weight header is not valid JSON: %v", err)}
	}
	if err := h.Config.Validate(); err != nil {
		return nil, &FormatError{fmt.Sprintf("weight header: %v", err)}
	}
	return &h, nil
}

func readParams(r io.Reader, h *fileHeader, kind string, ps []*Param) error {
	if h.Kind != kind {
		return &FormatError{fmt.Sprintf("weight file holds a %q model, want %q", h.Kind, kind)}
	}
	if len(h.Tensors) != len(ps) {
		return &FormatError{fmt.Sprintf("weight file lists %d tensors; a %s of this config has %d", len(h.Tensors), kind, len(ps))}
	}
	for i, p := range ps {
		t := h.Tensors[i]
		if t.Name != p.Name {
			return &FormatError{fmt.Sprintf("tensor %d is %q, want %q", i, t.Name, p.Name)}
		}
		if !slices.Equal(t.Shape, p.Shape) {
			return &FormatError{fmt.Sprintf("tensor %q has shape %v, want %v for this config", t.Name, t.Shape, p.Shape)}
		}
	}
	br := bufio.NewReader(r)
	buf := make([]byte, 4)
	for _, p := range ps {
		for i := range p.W {
			if _, err := io.ReadFull(br, buf); err != nil {
				return &FormatError{fmt.Sprintf("weight file truncated in tensor %q at element %d of %d", p.Name, i, len(p.W))}
			}
			v := math.Float32frombits(binary.LittleEndian.Uint32(buf))
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return &FormatError{fmt.Sprintf("tensor %q element %d is not finite", p.Name, i)}
			}
			p.W[i] = v
		}
	}
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		return &FormatError{"weight file has bytes after its last tensor"}
	}
	return nil
}

// WriteTarget writes the target's weights in the weight file format.
func WriteTarget(w io.Writer, m *Target) error {
	return writeParams(w, KindTarget, m.Cfg, m.Cfg.FF, m.Params())
}

// ReadTarget reads a target from the weight file format.
func ReadTarget(r io.Reader) (*Target, error) {
	h, err := readHeader(r)
	if err != nil {
		return nil, err
	}
	if h.Kind == KindTarget && h.DraftFF != 0 {
		return nil, &FormatError{fmt.Sprintf("target weight header sets draft_ff %d, which only a draft file may", h.DraftFF)}
	}
	m, err := NewTarget(h.Config, nil)
	if err != nil {
		return nil, &FormatError{err.Error()}
	}
	if err := readParams(r, h, KindTarget, m.Params()); err != nil {
		return nil, err
	}
	return m, nil
}

// WriteDraft writes the draft head's weights in the weight file format.
func WriteDraft(w io.Writer, d *Draft) error {
	return writeParams(w, KindDraft, d.Cfg, d.FF, d.Params())
}

// ReadDraft reads a draft head from the weight file format.
func ReadDraft(r io.Reader) (*Draft, error) {
	h, err := readHeader(r)
	if err != nil {
		return nil, err
	}
	d, err := NewDraft(h.Config, h.DraftFF, nil)
	if err != nil {
		return nil, &FormatError{err.Error()}
	}
	if err := readParams(r, h, KindDraft, d.Params()); err != nil {
		return nil, err
	}
	return d, nil
}

// File names of a weights directory.
const (
	TargetFile = "target.saw"
	DraftFile  = "draft.saw"
)

// LoadTarget reads the target of the pair in dir (TargetFile).
func LoadTarget(dir string) (*Target, error) {
	tp := dir + string(os.PathSeparator) + TargetFile
	f, err := os.Open(tp)
	if err != nil {
		return nil, fmt.Errorf("loading target: %w", err)
	}
	defer f.Close()
	m, err := ReadTarget(f)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", tp, err)
	}
	return m, nil
}

// LoadPair reads target.saw and draft.saw from dir and checks that the
// draft was built for the target's shape. A missing draft file is allowed
// (draft is then nil).
func LoadPair(dir string) (*Target, *Draft, error) {
	m, err := LoadTarget(dir)
	if err != nil {
		return nil, nil, err
	}
	dp := dir + string(os.PathSeparator) + DraftFile
	g, err := os.Open(dp)
	if errors.Is(err, os.ErrNotExist) {
		return m, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("loading draft: %w", err)
	}
	defer g.Close()
	d, err := ReadDraft(g)
	if err != nil {
		return nil, nil, fmt.Errorf("loading %s: %w", dp, err)
	}
	if d.Cfg != m.Cfg {
		return nil, nil, &FormatError{fmt.Sprintf("draft in %s was trained for config %+v, the target is %+v", dp, d.Cfg, m.Cfg)}
	}
	return m, d, nil
}
