package train

import "testing"

// A classifier head (HeadClasses) prices a pooled token per sequence in
// place of the vocabulary-wide head and loss: the last stage loses that
// compute in both engines, and nothing else moves.
func TestHeadClasses(t *testing.T) {
	const yaml = `
model: gpt3-small
system: {gpu: v100-sxm2-16g, gpus: 3}
parallel: {tp: 1, pp: 3, dp: 1}
schedule: 1f1b
training: {seq_len: 2048, global_batch: 64, micro_batch: 1, precision: fp32, recompute: full}
`
	for name, run := range map[string]func(*Config) (Result, error){"analytic": Analytic, "event": Event} {
		lm := resolve(t, yaml)
		cls := resolve(t, yaml)
		cls.HeadClasses = 2
		a, err := run(lm)
		if err != nil {
			t.Fatal(err)
		}
		b, err := run(cls)
		if err != nil {
			t.Fatal(err)
		}
		// The 3 stages hold 4 layers each: with the LM head (about a third of
		// the last stage's work at d_model 768 and a 50257-token
		// vocabulary) the last stage binds; without it they balance.
		if !(b.StepTimeS < 0.9*a.StepTimeS) {
			t.Errorf("%s: classifier step %.3f s, LM head %.3f s: want at least 10%% faster", name, b.StepTimeS, a.StepTimeS)
		}
		if b.MemoryGiBPerGPU != a.MemoryGiBPerGPU {
			t.Errorf("%s: memory moved %.3f -> %.3f GiB", name, a.MemoryGiBPerGPU, b.MemoryGiBPerGPU)
		}
	}
}
