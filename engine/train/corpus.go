// Package train trains the engine's target model and its EAGLE draft
// head on a byte-level corpus: the corpus split, Adam, and the two
// training loops with progress output and checkpoints.
package train

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// Corpus is a text split into training and held-out bytes.
type Corpus struct {
	Train, Heldout []byte
	// HeldoutName says what was held out.
	HeldoutName string
}

// ParseKJV reads the verse-per-line text that the Debian bible-kjv
// program prints ("Ge1:1 In the beginning ..."), drops the references
// and holds out the book whose reference prefix is holdout (e.g. "Ruth").
// Verses are joined with newlines.
func ParseKJV(r io.Reader, holdout string) (*Corpus, error) {
	var tr, ho strings.Builder
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" {
			continue
		}
		ref, text, ok := strings.Cut(s, " ")
		if !ok {
			return nil, fmt.Errorf("corpus line %d: no reference before the verse text", line)
		}
		book := strings.TrimRightFunc(ref, func(r rune) bool { return unicode.IsDigit(r) || r == ':' })
		if book == holdout {
			ho.WriteString(text)
			ho.WriteByte('\n')
		} else {
			tr.WriteString(text)
			tr.WriteByte('\n')
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading corpus: %w", err)
	}
	if ho.Len() == 0 {
		return nil, fmt.Errorf("held-out book %q not found in the corpus (references look like Ruth1:1)", holdout)
	}
	if tr.Len() < 4096 {
		return nil, fmt.Errorf("corpus has only %d training bytes", tr.Len())
	}
	return &Corpus{Train: []byte(tr.String()), Heldout: []byte(ho.String()), HeldoutName: holdout}, nil
}

// Tokens converts bytes to byte-level token ids.
func Tokens(b []byte) []int {
	t := make([]int, len(b))
	for i, c := range b {
		t[i] = int(c)
	}
	return t
}

// UnigramBitsPerByte is the cross-entropy in bits per byte of a unigram
// (byte frequency) model fitted on train, with add-one smoothing, on
// eval: the baseline a trained model must beat.
func UnigramBitsPerByte(train, eval []byte) float64 {
	var n [256]float64
	for _, c := range train {
		n[c]++
	}
	total := float64(len(train)) + 256
	var h float64
	for _, c := range eval {
		h -= log2((n[c] + 1) / total)
	}
	return h / float64(len(eval))
}
