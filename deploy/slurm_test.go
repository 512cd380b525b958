// Package deploy holds the launch scripts for sharded plans (Slurm job
// arrays, a Kubernetes Indexed Job) and the test that runs the Slurm ones
// on a real cluster.
package deploy

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestSlurmArrayPlan submits a small plan as a 4-task Slurm array with a
// dependent merge job (submit-plan.sh), waits for both, and checks that
// the merged study's plan equals the unsharded plan. It needs a Slurm
// cluster that accepts jobs from this user (deploy/slurm/start-local.sh
// starts a one-node one on localhost, as .ci/run does) and skips, saying
// why, where there is none.
func TestSlurmArrayPlan(t *testing.T) {
	if testing.Short() {
		t.Skip("Slurm test skipped in -short mode")
	}
	if _, err := exec.LookPath("sbatch"); err != nil {
		t.Skip("Slurm test skipped: no sbatch on PATH (install slurm-wlm and run deploy/slurm/start-local.sh as root)")
	}
	if out, err := exec.Command("sinfo", "-h", "-o", "%T").CombinedOutput(); err != nil || !(strings.Contains(string(out), "idle") || strings.Contains(string(out), "mix") || strings.Contains(string(out), "alloc")) {
		t.Skipf("Slurm test skipped: no Slurm node answers (sinfo: %v %s); run deploy/slurm/start-local.sh as root", err, bytes.TrimSpace(out))
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "scaleacross")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/scaleacross").CombinedOutput(); err != nil {
		t.Fatalf("building scaleacross: %v\n%s", err, out)
	}
	spec, err := filepath.Abs("../explore/testdata/small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "plan")
	cmd := exec.Command("./submit-plan.sh", "--cpus-per-task=1", "--mem=1G", "--time=00:10:00")
	cmd.Env = append(os.Environ(), "SHARDS=4", "SPEC="+spec, "OUT="+out, "SCALEACROSS="+bin)
	ids, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("submit-plan.sh: %v\n%s", err, ids)
	}
	f := strings.Fields(string(ids))
	if len(f) != 2 {
		t.Fatalf("submit-plan.sh printed %q, want two job ids", ids)
	}
	t.Logf("submitted array %s and merge %s", f[0], f[1])
	deadline := time.Now().Add(4 * time.Minute)
	for {
		q, _ := exec.Command("squeue", "-h", "-j", f[0]+","+f[1], "-o", "%i %T").CombinedOutput()
		if len(bytes.TrimSpace(q)) == 0 {
			break
		}
		if time.Now().After(deadline) {
			exec.Command("scancel", f[0], f[1]).Run()
			t.Fatalf("jobs still queued after 4 minutes:\n%s", q)
		}
		time.Sleep(time.Second)
	}
	merged, err := os.ReadFile(filepath.Join(out, "merged.json"))
	if err != nil {
		logs, _ := filepath.Glob(filepath.Join(out, "*.log"))
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			t.Logf("%s:\n%s", filepath.Base(l), b)
		}
		t.Fatalf("the merge job wrote no plan: %v", err)
	}
	whole, err := exec.Command(bin, "plan", "-f", spec, "--db", filepath.Join(dir, "whole.db"), "--json").Output()
	if err != nil {
		t.Fatalf("unsharded plan: %v", err)
	}
	if diff := cmp.Diff(plan(t, whole), plan(t, merged)); diff != "" {
		t.Errorf("merged plan differs from the unsharded one (-whole +merged):\n%s", diff)
	}
	shards, _ := filepath.Glob(filepath.Join(out, "shard-*.db"))
	t.Logf("%d shard databases merged; the merged plan equals the unsharded plan", len(shards))
}

// plan decodes a plan's JSON without the study id, which differs between
// databases.
func plan(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("plan JSON: %v\n%s", err, data)
	}
	delete(m, "study")
	return m
}
