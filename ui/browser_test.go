package ui_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// screenshots is where the browser test saves its PNG screenshots when
// run with -update.
const screenshots = "testdata/screenshots"

// findChromium returns the path of a Chromium or Chrome binary, or "".
func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestBrowser drives headless Chromium through the dashboard: the studies
// list, a study, its best candidate's timeline, a what-if with a changed
// site trunk bandwidth, and compare, checking the numbers against the plan's
// own JSON and a direct simulate, and saving screenshots.
func TestBrowser(t *testing.T) {
	exe := findChromium()
	if exe == "" {
		t.Skip("no chromium binary found (apt-get install chromium); skipping the browser test")
	}
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	path, plan := testStore(t)
	ts := newServer(t, path) // 127.0.0.1, a random port
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1280, 900))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	ctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	defer cancel()
	// Screenshots go to testdata (for the README) only with -update, so
	// that a plain test run leaves the tree as it found it.
	shots := t.TempDir()
	if *update {
		shots = screenshots
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	// shot saves the whole page, or with viewport only the window.
	shot := func(name string, viewport bool) {
		t.Helper()
		capture := chromedp.FullScreenshot(100)
		if viewport {
			capture = chromedp.CaptureScreenshot()
		}
		png, err := chromedp.Run(ctx, capture)
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if !bytes.HasPrefix(png, []byte("\x89PNG")) {
			t.Fatalf("screenshot %s is not a PNG", name)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	attr := func(sel, name string) float64 {
		t.Helper()
		a, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
		if err != nil || !a.Exists {
			t.Fatalf("attribute %s of %s: %v (exists %v)", name, sel, err, a.Exists)
		}
		v, err := strconv.ParseFloat(a.Value, 64)
		if err != nil {
			t.Fatalf("attribute %s of %s = %q: %v", name, sel, a.Value, err)
		}
		return v
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}

	do("open the studies list", chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#studies")))
	shot("studies", false)
	do("click into the study", chromedp.Click(chromedp.CSS("a.study-link")), chromedp.WaitVisible(chromedp.CSS("#plans")))
	shot("study", true)
	best := plan["best"].(map[string]any)
	for _, c := range []struct {
		sel  string
		want float64
	}{
		{`td.step[data-plan="best"]`, best["step_time_s"].(float64)},
		{`span.speedup[data-plan="production"]`, plan["speedup_vs_production"].(float64)},
		{`span.speedup[data-plan="prior art"]`, plan["speedup_vs_prior_art"].(float64)},
	} {
		if got := attr(c.sel, "data-value"); got != c.want {
			t.Errorf("%s = %v on the page, %v in the plan's JSON", c.sel, got, c.want)
		}
	}
	if got, want := text(`td.step[data-plan="best"]`), fmt.Sprintf("%.3f s", best["step_time_s"].(float64)); got != want {
		t.Errorf("best step time shows %q, want %q", got, want)
	}
	if got, want := text(`span.speedup[data-plan="production"]`), fmt.Sprintf("%.2fx", plan["speedup_vs_production"].(float64)); !strings.HasPrefix(got, want) {
		t.Errorf("speed-up vs production shows %q, want %q...", got, want)
	}

	do("open the best candidate", chromedp.Click(chromedp.CSS(`a.plan-link[data-plan="best"]`)), chromedp.WaitVisible(chromedp.CSS("#gantt")))
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#gantt g.stage").length`))
	if err != nil {
		t.Fatal(err)
	}
	if pp := int(best["pp"].(float64)); rows != pp {
		t.Errorf("Gantt has %d stage rows, the best plan has pp = %d", rows, pp)
	}
	if legend, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS("#gantt g.legend"))); err != nil || !strings.Contains(legend, "forward") {
		t.Errorf("Gantt legend %q (%v) lacks forward", legend, err)
	}
	shot("candidate", false)

	do("open what-if", chromedp.Click(chromedp.CSS("#whatif-link")), chromedp.WaitVisible(chromedp.CSS("#whatif")))
	trunk := attr(`input[name="trunk_gbps"]`, "value")
	newTrunk := strconv.FormatFloat(trunk/4, 'g', -1, 64)
	do("change the site trunk bandwidth and re-simulate",
		chromedp.SetValue(chromedp.CSS(`input[name="trunk_gbps"]`), newTrunk),
		chromedp.Click(chromedp.CSS("#run")), chromedp.WaitVisible(chromedp.CSS("#new-step-time")))
	changed := attr("#new-step-time", "data-value")
	spec, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS("#spec")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(spec, "link_capacity_gbps: "+newTrunk) {
		t.Errorf("changed spec lacks the new trunk capacity %s:\n%s", newTrunk, spec)
	}
	if direct := simulateSpec(t, spec); direct != changed {
		t.Errorf("what-if step time %v s, simulate of the same spec %v s", changed, direct)
	}
	if changed == best["step_time_s"].(float64) {
		t.Errorf("a quarter of the trunk bandwidth left the step time at %v s", changed)
	}
	shot("whatif", false)

	do("open compare", chromedp.Navigate(ts.URL+"/studies/1"), chromedp.WaitVisible(chromedp.CSS("#compare-link")),
		chromedp.Click(chromedp.CSS("#compare-link")), chromedp.WaitVisible(chromedp.CSS("#compare")))
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#compare tr.differs").length`)); err != nil || n == 0 {
		t.Errorf("compare shows %d differing rows (%v)", n, err)
	}
	shot("compare", false)
}
