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
	d, _ := NewDraft(cfg, rand.New(rand.NewPCG(2, 2)))
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
