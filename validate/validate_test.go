package validate

import (
	"encoding/csv"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/scaleacross/scaleacross/cost"
	"github.com/scaleacross/scaleacross/train"
)

// The acceptance bar: with one calibration shared by all rows,
// step-time MAPE at most 8% over the public set and every row within 20%.
func TestPublicSetAccuracy(t *testing.T) {
	rows, err := Rows()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 23 {
		t.Fatalf("embedded set has %d rows, want 23", len(rows))
	}
	rep, err := Run(rows, cost.Default())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Rows {
		t.Logf("%-28s measured %8.3f predicted %8.3f error %+6.1f%%", r.ID, r.Measured, r.Predicted, r.ErrorPct)
		if math.Abs(r.ErrorPct) > 20 {
			t.Errorf("%s: error %.1f%% beyond 20%%", r.ID, r.ErrorPct)
		}
	}
	if rep.MAPE > 8 {
		t.Errorf("MAPE %.2f%% > 8%%", rep.MAPE)
	}
}

// Every embedded row must stay a copy of the shared reference's row with
// the same id, column by column, when the shared folder is present (it is
// optional: the project stands alone). The shared file has grown columns
// (etp, layers) and rows the embedded set does not carry yet.
func TestEmbeddedCopyMatchesShared(t *testing.T) {
	b, err := os.ReadFile("../../shared/reference/training-measurements.csv")
	if err != nil {
		t.Skipf("shared reference not present: %v", err)
	}
	read := func(name, text string) (map[string]map[string]string, []string) {
		recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
		if err != nil || len(recs) < 2 {
			t.Fatalf("%s: %v", name, err)
		}
		rows := map[string]map[string]string{}
		for _, r := range recs[1:] {
			row := map[string]string{}
			for i, h := range recs[0] {
				row[h] = r[i]
			}
			rows[r[0]] = row
		}
		return rows, recs[0]
	}
	shared, _ := read("shared", string(b))
	embedded, cols := read("embedded", measurementsCSV)
	for id, row := range embedded {
		sr, ok := shared[id]
		if !ok {
			t.Errorf("row %s is not in ../shared/reference", id)
			continue
		}
		for _, c := range cols {
			if sr[c] != row[c] {
				t.Errorf("row %s column %s: embedded %q, shared %q; copy it again", id, c, row[c], sr[c])
			}
		}
	}
}

// The built-in calibration is the fit's optimum: re-fitting from it must
// not find a materially better objective.
func TestDefaultsAreFitted(t *testing.T) {
	if testing.Short() {
		t.Skip("fit takes a few seconds")
	}
	rows, _ := Rows()
	base, err := Run(rows, cost.Default())
	if err != nil {
		t.Fatal(err)
	}
	_, rep, err := Fit(rows, cost.Default())
	if err != nil {
		t.Fatal(err)
	}
	if Objective(rep) < 0.97*Objective(base) {
		t.Errorf("re-fit improves the objective from %.5f to %.5f: update cost.Default", Objective(base), Objective(rep))
	}
}

func TestParseRowsErrors(t *testing.T) {
	for name, text := range map[string]string{
		"empty":          "",
		"header only":    "id,model\n",
		"missing column": "id,model\nx,y\n",
	} {
		if _, err := ParseRows(text); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// Event-level and analytic step times agree within 5% on every row
// (issue 4: no cross-site traffic in the public set).
func TestEventAgreesWithAnalytic(t *testing.T) {
	rows, _ := Rows()
	for _, row := range rows {
		c, _, err := row.Config(cost.Default())
		if err != nil {
			t.Fatal(err)
		}
		a, err := train.Analytic(c)
		if err != nil {
			t.Fatal(err)
		}
		e, err := train.Event(c)
		if err != nil {
			t.Fatalf("%s: %v", row.ID, err)
		}
		d := 100 * (e.StepTimeS - a.StepTimeS) / a.StepTimeS
		t.Logf("%-28s analytic %8.3f event %8.3f (%+.1f%%) bubble %.3f vs %.3f", row.ID, a.StepTimeS, e.StepTimeS, d, a.Breakdown.BubbleS, e.Breakdown.BubbleS)
		if math.Abs(d) > 5 {
			t.Errorf("%s: event %.3f s vs analytic %.3f s (%+.1f%%)", row.ID, e.StepTimeS, a.StepTimeS, d)
		}
	}
}
