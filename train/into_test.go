package train

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// AnalyticSharedInto writes over whatever the Result it is given holds:
// priced into a Result left from another configuration (with a traffic
// table), 405B and Behemoth give Analytic's results, and a configuration
// the step model refuses leaves the zero Result and Analytic's error.
func TestAnalyticSharedIntoOverwrites(t *testing.T) {
	cs := []*Config{resolve(t, job405B), resolve(t, jobBehemoth)}
	var v Evaluator
	var r Result
	for i, c := range append(cs, cs[0]) {
		if err := v.AnalyticSharedInto(c, nil, &r); err != nil {
			t.Fatal(err)
		}
		want, err := Analytic(c)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, r); diff != "" {
			t.Errorf("config %d into a used Result (-Analytic +AnalyticSharedInto):\n%s", i, diff)
		}
	}
	bad := *cs[0]
	bad.GradSync = "no-such-sync"
	_, wantErr := Analytic(&bad)
	if wantErr == nil {
		t.Fatal("an unknown gradient sync was priced")
	}
	err := v.AnalyticSharedInto(&bad, nil, &r)
	if err == nil || err.Error() != wantErr.Error() {
		t.Errorf("error %v, want %v", err, wantErr)
	}
	if diff := cmp.Diff(Result{}, r); diff != "" {
		t.Errorf("a refused configuration left a Result (-zero +got):\n%s", diff)
	}
}
