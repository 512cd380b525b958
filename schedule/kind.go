package schedule

import (
	"fmt"
	"strings"

	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/internal/suggest"
)

// Kind names a pipeline schedule. The names are part of the user-facing
// contract (the job spec's schedule field); never rename them.
type Kind string

// The schedules this package builds.
const (
	// GPipe runs all forwards, then all backwards (Huang et al. 2019).
	GPipe Kind = "gpipe"
	// OneFOneB is PipeDream-Flush, the non-interleaved 1F1B schedule of
	// Megatron-LM (Narayanan et al. 2021).
	OneFOneB Kind = "1f1b"
	// Interleaved is Megatron-LM's interleaved 1F1B with Chunks model
	// chunks per stage and Consecutive micro-batches per chunk group
	// (Narayanan et al. 2021; Llama 3 tuned the group size, Dubey et al.
	// 2024, section 3.3.2).
	Interleaved Kind = "interleaved-1f1b"
	// ZBH1 is the zero-bubble ZB-H1 schedule: backward split into B and W,
	// with W passes delayed to fill the cool-down bubble at 1F1B's peak
	// memory (Qi et al. 2023, arXiv 2401.10241, section 3).
	ZBH1 Kind = "zb-h1"
	// ZBV is the zero-bubble V schedule: two chunks per stage placed in a
	// V, B and W split (Qi et al. 2023, arXiv 2401.10241, section 6).
	ZBV Kind = "zb-v"
	// DualPipeV is DeepSeek's DualPipe folded into a V ("cut in half"):
	// two chunks per stage in a V, B and W split, with each steady-state
	// forward chunk paired with a backward chunk (DeepSeek-AI 2024,
	// arXiv 2412.19437, section 3.2.1, and the DualPipeV variant).
	DualPipeV Kind = "dualpipev"
	// LatencyAware is 1F1B (interleaved when Chunks > 1) with a deeper
	// warm-up before slow stage boundaries, so that the extra micro-batches
	// in flight cover a cross-building round trip (the idea of CrossPipe,
	// USENIX ATC 2025), capped by MaxInFlight.
	LatencyAware Kind = "latency-aware-1f1b"
)

// Kinds lists every schedule name Build accepts, in a fixed order.
func Kinds() []Kind {
	return []Kind{GPipe, OneFOneB, Interleaved, ZBH1, ZBV, DualPipeV, LatencyAware}
}

// ParseKind turns a spec's schedule name into a Kind. Matching ignores
// case and surrounding space; "dualpipe" is read as DualPipeV, the variant
// implemented here. An unknown name is a bad-input error naming the
// closest known names.
func ParseKind(name string) (Kind, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	switch n {
	case "dualpipe":
		return DualPipeV, nil
	case "latency-aware", "crosspipe":
		return LatencyAware, nil
	}
	var names []string
	for _, k := range Kinds() {
		if string(k) == n {
			return k, nil
		}
		names = append(names, string(k))
	}
	return "", fault.Field("schedule", "unknown schedule %q; known: %s (closest: %s)",
		name, strings.Join(names, ", "), strings.Join(suggest.Closest(n, names, 2), ", "))
}

// Params sizes a schedule.
type Params struct {
	// Stages is the number of pipeline stages (pp), at least 1.
	Stages int
	// MicroBatches is the number of micro-batches per step per pipeline.
	MicroBatches int
	// Chunks is the number of model chunks per stage (vp). Zero means the
	// kind's default: 1, or 2 for the V-shaped zb-v and dualpipev.
	Chunks int
	// Consecutive is, for interleaved schedules, how many micro-batches
	// run through one chunk before the stage moves on to its next chunk
	// (Llama 3's N). It ranges from Stages (depth-first, Megatron-LM's
	// default, which zero selects) to MicroBatches (breadth-first); below
	// Stages the interleaved order deadlocks.
	Consecutive int
	// ExtraWarmup is, for latency-aware-1f1b, the number of extra warm-up
	// forwards a stage runs for each slow boundary its micro-batches
	// cross before returning: with one chunk, the boundaries downstream
	// of the stage; with several, every boundary (each chunk's pass
	// crosses them all). See ExtraWarmupFor.
	ExtraWarmup int
	// SlowBoundaries lists, for latency-aware-1f1b, the slow boundaries:
	// b means the link between stage b and b+1. Empty means every stage
	// gets ExtraWarmup once.
	SlowBoundaries []int
	// MaxInFlight caps, for latency-aware-1f1b, the micro-batch chunks whose
	// activations a stage holds (0 = no cap). The warm-up never drops
	// below plain 1F1B's, whose peak is what the cap is compared to.
	MaxInFlight int
}

// ExtraWarmupFor returns the extra warm-up micro-batch chunks that hide a
// slow boundary with one-way latency oneWay. A micro-batch crosses the
// boundary once per chunk on the way down and once per chunk on the way
// back, so its gradient returns 2*chunks*oneWay later than over a fast
// link; a stage with k more micro-batch chunks in flight stays busy for
// k*(f+b) meanwhile, so k = ceil(2*chunks*oneWay/(f+b)), where f and b are
// one micro-batch chunk's forward and backward time on a stage. chunks < 1
// counts as 1.
func ExtraWarmupFor(oneWay, f, b float64, chunks int) int {
	if !(oneWay > 0) || !(f+b > 0) {
		return 0
	}
	k := 2 * float64(max(chunks, 1)) * oneWay / (f + b)
	n := int(k)
	if float64(n) < k {
		n++
	}
	return n
}

func errorf(field, format string, args ...any) error {
	return fault.Field(field, format, args...)
}

func (k Kind) String() string { return string(k) }

// describe is used in error messages.
func (k Kind) describe() string { return fmt.Sprintf("schedule %s", string(k)) }
