package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestREADMEOutputs runs every command the README shows with its output
// ("$ scaleacross ..." at the top of a text block) and checks that the
// output is what the README prints, so that the README cannot drift from
// the tool. A line "..." in the README stands for any number of lines, and
// a line ending in "..." for any line that starts with what comes before.
// The default study database lives under a temporary XDG_DATA_HOME and is
// printed as the README's ~/.local/share path.
func TestREADMEOutputs(t *testing.T) {
	if testing.Short() {
		t.Skip("README outputs skipped in -short mode")
	}
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := readmeBlocks(string(data))
	if len(blocks) < 5 {
		t.Fatalf("found %d command blocks in README.md", len(blocks))
	}
	for _, b := range blocks {
		t.Run(b.command, func(t *testing.T) {
			home := t.TempDir()
			t.Setenv("XDG_DATA_HOME", home)
			wd, err := os.Getwd()
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Chdir("../.."); err != nil {
				t.Fatal(err)
			}
			defer os.Chdir(wd)
			out, errOut, code := run(t, strings.Fields(b.command)[1:]...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			out = strings.ReplaceAll(out, filepath.Join(home, "scaleacross", "studies.db"), "~/.local/share/scaleacross/studies.db")
			if msg := matchLines(b.want, strings.Split(strings.TrimRight(out, "\n"), "\n")); msg != "" {
				t.Errorf("README.md's output of %q has drifted: %s\nthe command prints:\n%s", b.command, msg, out)
			}
		})
	}
}

type readmeBlock struct {
	command string
	want    []string
}

// readmeBlocks finds the text blocks that start with a scaleacross command.
func readmeBlocks(doc string) []readmeBlock {
	var out []readmeBlock
	lines := strings.Split(doc, "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] != "```text" || i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "$ scaleacross ") {
			continue
		}
		b := readmeBlock{command: strings.TrimPrefix(lines[i+1], "$ ")}
		for j := i + 2; j < len(lines) && lines[j] != "```"; j++ {
			b.want = append(b.want, lines[j])
		}
		out = append(out, b)
	}
	return out
}

// matchLines matches got against want with "..." wildcards; it returns
// what did not match, or "".
func matchLines(want, got []string) string {
	var match func(w, g int) bool
	match = func(w, g int) bool {
		if w == len(want) {
			return g == len(got)
		}
		line := strings.TrimRight(want[w], " ")
		if line == "..." {
			for k := g; k <= len(got); k++ {
				if match(w+1, k) {
					return true
				}
			}
			return false
		}
		if g == len(got) {
			return false
		}
		have := strings.TrimRight(got[g], " ")
		if p, ok := strings.CutSuffix(line, "..."); ok {
			if !strings.HasPrefix(have, strings.TrimRight(p, " ")) {
				return false
			}
		} else if have != line {
			return false
		}
		return match(w+1, g+1)
	}
	if match(0, 0) {
		return ""
	}
	// Point at the first plain line that differs, for the message.
	for i := 0; i < min(len(want), len(got)); i++ {
		if strings.Contains(want[i], "...") {
			break
		}
		if strings.TrimRight(want[i], " ") != strings.TrimRight(got[i], " ") {
			return "line " + want[i] + " is now " + got[i]
		}
	}
	return "the lines differ"
}
