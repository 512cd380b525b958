package model

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestWeightFileRoundTrip(t *testing.T) {
	cfg := tinyConfig(false)
	m, _ := NewTarget(cfg, rand.New(rand.NewPCG(1, 1)))
	var buf bytes.Buffer
	if err := WriteTarget(&buf, m); err != nil {
		t.Fatal(err)
	}
	got, err := ReadTarget(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if got.Cfg != cfg {
		t.Fatalf("config %+v, want %+v", got.Cfg, cfg)
	}
	for i, p := range m.Params() {
		if !slices.Equal(p.W, got.Params()[i].W) {
			t.Fatalf("tensor %s differs after the round trip", p.Name)
		}
	}
	d, _ := NewDraft(cfg, 0, rand.New(rand.NewPCG(2, 2)))
	buf.Reset()
	WriteDraft(&buf, d)
	if _, err := ReadDraft(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadTarget(bytes.NewReader(buf.Bytes())); err == nil || !strings.Contains(err.Error(), "draft") {
		t.Fatalf("a draft file read as a target: %v", err)
	}
}

// TestWeightFileRejectsBadFiles covers truncation, a wrong shape in the
// header, trailing bytes and a wrong magic.
func TestWeightFileRejectsBadFiles(t *testing.T) {
	cfg := tinyConfig(true)
	m, _ := NewTarget(cfg, rand.New(rand.NewPCG(1, 1)))
	var buf bytes.Buffer
	WriteTarget(&buf, m)
	good := buf.Bytes()
	hlen := int(binary.LittleEndian.Uint32(good[8:12]))
	header := string(good[12 : 12+hlen])
	wrongShape := strings.Replace(header, `"name":"layer0.wq","shape":[16,16]`, `"name":"layer0.wq","shape":[16,17]`, 1)
	if wrongShape == header {
		t.Fatal("test header edit did not apply")
	}
	reshaped := append([]byte(nil), good[:8]...)
	reshaped = binary.LittleEndian.AppendUint32(reshaped, uint32(len(wrongShape)))
	reshaped = append(append(reshaped, wrongShape...), good[12+hlen:]...)
	cases := map[string]struct {
		data []byte
		want string
	}{
		"truncated data":   {good[:len(good)-3], "truncated"},
		"truncated header": {good[:20], "truncated"},
		"empty":            {nil, "too short"},
		"wrong shape":      {reshaped, "shape [16 17]"},
		"trailing bytes":   {append(append([]byte(nil), good...), 0), "after its last tensor"},
		"magic":            {append([]byte("NOTWEIGH"), good[8:]...), "magic"},
	}
	for name, c := range cases {
		_, err := ReadTarget(bytes.NewReader(c.data))
		var fe *FormatError
		if err == nil || !errors.As(err, &fe) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want a FormatError mentioning %q", name, err, c.want)
		}
	}
}

// TestDraftFileKeepsItsWidth round-trips drafts of the target's SwiGLU
// width and of a narrower one: the first writes no draft_ff (the header
// of the files written before drafts had a width of their own, which
// must still load), the second writes its width and reads back with it
// and its weights. A target header with a draft width is rejected.
func TestDraftFileKeepsItsWidth(t *testing.T) {
	cfg := tinyConfig(true)
	for _, c := range []struct {
		ff, wantFF   int
		wantInHeader bool
	}{{0, cfg.FF, false}, {cfg.FF, cfg.FF, false}, {8, 8, true}} {
		d, err := NewDraft(cfg, c.ff, rand.New(rand.NewPCG(2, 2)))
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := WriteDraft(&buf, d); err != nil {
			t.Fatal(err)
		}
		hlen := int(binary.LittleEndian.Uint32(buf.Bytes()[8:12]))
		header := string(buf.Bytes()[12 : 12+hlen])
		if got := strings.Contains(header, `"draft_ff"`); got != c.wantInHeader {
			t.Errorf("ff %d: draft_ff in the header %v, want %v: %s", c.ff, got, c.wantInHeader, header)
		}
		got, err := ReadDraft(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("ff %d: %v", c.ff, err)
		}
		if got.FF != c.wantFF || got.Cfg != cfg {
			t.Errorf("ff %d: read back FF %d and config %+v, want %d and %+v", c.ff, got.FF, got.Cfg, c.wantFF, cfg)
		}
		if w1 := got.Layer.W1.Shape; w1[0] != c.wantFF {
			t.Errorf("ff %d: w1 has shape %v", c.ff, w1)
		}
		for i, p := range d.Params() {
			if !slices.Equal(p.W, got.Params()[i].W) {
				t.Errorf("ff %d: tensor %s differs after the round trip", c.ff, p.Name)
			}
		}
	}
	if _, err := NewDraft(cfg, -1, nil); err == nil {
		t.Error("a draft of width -1 was built")
	}
	m, _ := NewTarget(cfg, rand.New(rand.NewPCG(1, 1)))
	var buf bytes.Buffer
	WriteTarget(&buf, m)
	good := buf.Bytes()
	hlen := int(binary.LittleEndian.Uint32(good[8:12]))
	header := strings.Replace(string(good[12:12+hlen]), `"kind":"target",`, `"kind":"target","draft_ff":8,`, 1)
	bad := binary.LittleEndian.AppendUint32(append([]byte(nil), good[:8]...), uint32(len(header)))
	bad = append(append(bad, header...), good[12+hlen:]...)
	var fe *FormatError
	if _, err := ReadTarget(bytes.NewReader(bad)); !errors.As(err, &fe) || !strings.Contains(err.Error(), "draft_ff") {
		t.Errorf("a target header with draft_ff: got %v, want a FormatError naming draft_ff", err)
	}
}
