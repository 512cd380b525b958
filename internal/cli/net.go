package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/network"
	"github.com/scaleacross/scaleacross/spec"
	"github.com/scaleacross/scaleacross/topology"
	"github.com/scaleacross/scaleacross/train"
)

// netLevel describes one topology level as a collective sees it.
type netLevel struct {
	Name          string  `json:"name"`
	Factor        int     `json:"group_factor"`
	Transport     string  `json:"transport"`
	Algorithm     string  `json:"algorithm"`
	CrossesSite   bool    `json:"crosses_site"`
	OneWayUs      float64 `json:"one_way_latency_us"`
	AchievedGBps  float64 `json:"achieved_gbps_per_gpu"`
	LimitedBy     string  `json:"limited_by"`
	ConcurrentGPU int     `json:"concurrent_senders_per_unit"`
}

// netRow is one (collective, size) measurement, nccl-tests style.
type netRow struct {
	Op        string  `json:"op"`
	Bytes     int64   `json:"bytes"`
	TimeUs    float64 `json:"time_us"`
	AlgBWGBps float64 `json:"algbw_gbps"`
	BusBWGBps float64 `json:"busbw_gbps"`
}

// netOutput is the JSON document of `net --json`.
type netOutput struct {
	Spec      string     `json:"spec"`
	Dim       string     `json:"dim"`
	GroupSize int        `json:"group_size"`
	Factors   []int      `json:"factors"`
	Levels    []netLevel `json:"levels"`
	Results   []netRow   `json:"results"`
	Notes     []string   `json:"notes"`
}

func newNetCmd() *cobra.Command {
	var file, dim, transport, algorithm, ops, minS, maxS string
	var asJSON, list bool
	cmd := &cobra.Command{
		Use:   "net -f job.yaml [--dim dp] [--transport NAME] [--algorithm ring]",
		Short: "Collective times and bus bandwidth over a group of a job's topology, like nccl-tests",
		Long: `net prints, like nccl-tests, the time, algorithm bandwidth and bus bandwidth of
all-reduce, all-gather, reduce-scatter, all-to-all and p2p for message sizes
from 1 KiB to 4 GiB (doubling) over one parallel group of a job: the group of
--dim (tp, cp, ep, dp or pp) as the job's placement lays it on its topology.
Every group of that dimension runs at once, so they share the links above.

--transport sets the network-layer technology on the site-to-site levels
(--list shows them with their parameters), --algorithm the collective
algorithm of groups that cross sites (hierarchical, ring or tree).

Sizes follow nccl-tests: all-reduce and reduce-scatter the input, all-gather
the output, all-to-all the send buffer, p2p the message. Bus bandwidth is the
algorithm bandwidth times 2(n-1)/n for all-reduce, (n-1)/n for all-gather,
reduce-scatter and all-to-all, and 1 for p2p.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			if list {
				return writeTechnologies(w, network.Technologies(), asJSON)
			}
			if file == "" {
				return badInput("net needs a job spec with a topology: -f job.yaml (see examples/), or --list")
			}
			lo, err := parseSize(minS, "--min")
			if err != nil {
				return err
			}
			hi, err := parseSize(maxS, "--max")
			if err != nil {
				return err
			}
			if lo > hi {
				return badInput("--min %s is above --max %s", minS, maxS)
			}
			kinds, err := parseOps(ops)
			if err != nil {
				return err
			}
			job, err := spec.LoadJob(file)
			if err != nil {
				return err
			}
			if transport != "" || algorithm != "" {
				if job.Network == nil {
					job.Network = &spec.Network{}
				}
				if transport != "" {
					job.Network.Transport = transport
				}
				if algorithm != "" {
					job.Network.Algorithm = algorithm
				}
			}
			c, err := train.Resolve(job, modelLoader(specDir(file)).Load, hardware.Lookup)
			if err != nil {
				return err
			}
			if transport != "" || algorithm != "" {
				// The command line wins over the levels' own settings.
				c.Topology = c.Topology.WithSiteTransport(strings.ToLower(transport), algorithm, true)
			}
			out, err := runNet(c, topology.Dim(strings.ToLower(dim)), kinds, lo, hi)
			if err != nil {
				return err
			}
			out.Spec = file
			if asJSON {
				return writeJSON(w, out)
			}
			return writeNetTable(w, out)
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "training job spec (YAML or JSON) whose topology and placement to use")
	cmd.Flags().StringVar(&dim, "dim", "dp", "parallel dimension whose group to measure: tp, cp, ep, dp or pp")
	cmd.Flags().StringVar(&transport, "transport", "", "network-layer technology on the site-to-site levels (see --list)")
	cmd.Flags().StringVar(&algorithm, "algorithm", "", "collective algorithm across sites: hierarchical, ring or tree")
	cmd.Flags().StringVar(&ops, "ops", "all-reduce,all-gather,reduce-scatter,all-to-all,p2p", "collectives to print, comma-separated")
	cmd.Flags().StringVar(&minS, "min", "1KiB", "smallest message size")
	cmd.Flags().StringVar(&maxS, "max", "4GiB", "largest message size")
	cmd.Flags().BoolVar(&list, "list", false, "list the network-layer technologies and their parameters")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// runNet prices every collective and size over the group of dim.
func runNet(c *train.Config, dim topology.Dim, kinds []network.Kind, lo, hi int64) (netOutput, error) {
	switch dim {
	case topology.TP, topology.CP, topology.EP, topology.DP, topology.PP:
	default:
		return netOutput{}, badInput("--dim %q unknown; use tp, cp, ep, dp or pp", clipArg(string(dim)))
	}
	l, err := c.Layout()
	if err != nil {
		return netOutput{}, err
	}
	s := l.Spans[dim]
	n := s.Size()
	links := network.Links(c.Topology, nil, c.Calib.NetworkEfficiency)
	out := netOutput{Dim: string(dim), GroupSize: n, Factors: s.Factors}
	for i, lv := range c.Topology.Levels {
		tr := lv.Transport
		if tr == "" {
			tr = network.Native
		}
		unit := 1
		if i > 0 {
			unit = c.Topology.Capacity(i - 1)
		}
		out.Levels = append(out.Levels, netLevel{
			Name: lv.Name, Factor: s.Factors[i], Transport: tr, Algorithm: string(links[i].Algorithm),
			CrossesSite: lv.IsSite() && i > 0 && s.Factors[i] > 1,
			OneWayUs:    links[i].LatencyS * 1e6, AchievedGBps: links[i].BytesPerSec / 1e9,
			LimitedBy: string(links[i].Limit), ConcurrentGPU: unit,
		})
	}
	if n <= 1 {
		out.Notes = append(out.Notes, fmt.Sprintf("the %s group has one member: collectives cost nothing; p2p goes to the next level", dim))
	}
	out.Notes = append(out.Notes,
		fmt.Sprintf("bandwidths include the calibrated network efficiency %.2f", c.Calib.NetworkEfficiency),
		"every group of the dimension communicates at once and shares the links above (achieved_gbps_per_gpu)")
	for _, k := range kinds {
		for b := lo; b <= hi; b *= 2 {
			t := network.Time(k, float64(b), s, links)
			row := netRow{Op: string(k), Bytes: b, TimeUs: t * 1e6}
			if t > 0 {
				row.AlgBWGBps = float64(b) / t / 1e9
				row.BusBWGBps = row.AlgBWGBps * busFactor(k, n)
			}
			out.Results = append(out.Results, row)
		}
	}
	return out, nil
}

// busFactor converts algorithm bandwidth to bus bandwidth (nccl-tests
// PERFORMANCE.md): what each rank's link carries relative to the buffer.
func busFactor(k network.Kind, n int) float64 {
	if n <= 1 {
		return 1
	}
	f := float64(n-1) / float64(n)
	switch k {
	case network.AllReduce:
		return 2 * f
	case network.AllGather, network.ReduceScatter, network.AllToAll:
		return f
	}
	return 1
}

func parseOps(s string) ([]network.Kind, error) {
	var out []network.Kind
	for _, p := range strings.Split(s, ",") {
		k := network.Kind(strings.ToLower(strings.TrimSpace(p)))
		switch k {
		case network.AllReduce, network.AllGather, network.ReduceScatter, network.AllToAll, network.P2P:
			out = append(out, k)
		default:
			return nil, badInput("--ops: unknown collective %q; use all-reduce, all-gather, reduce-scatter, all-to-all or p2p", clipArg(p))
		}
	}
	return out, nil
}

// maxMessage is the largest message size net prices (1 TiB), so that
// doubling from --min stays within about 40 steps.
const maxMessage = 1 << 40

// parseSize reads sizes such as 1KiB, 64MiB, 4GiB, 1024 or 8K.
func parseSize(s, flag string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(strings.ToUpper(t), strings.ToUpper(u.suffix)) {
			t, mult = t[:len(t)-len(u.suffix)], u.m
			break
		}
	}
	var v int64
	if _, err := fmt.Sscan(t, &v); err != nil || v <= 0 || t != fmt.Sprint(v) {
		return 0, badInput("%s %q: give a positive size such as 1KiB, 64MiB or 4GiB", flag, clipArg(s))
	}
	if v > maxMessage/mult {
		return 0, badInput("%s %s is over the limit of 1TiB", flag, clipArg(s))
	}
	return v * mult, nil
}

func writeNetTable(w io.Writer, o netOutput) error {
	fmt.Fprintf(w, "%s group of %d GPUs (factors per level %v) in %s\n\n", o.Dim, o.GroupSize, o.Factors, o.Spec)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "level\tgroup spans\ttransport\talgorithm\tone-way (us)\tper-GPU (GB/s)\tlimited by\tcrosses site")
	for _, l := range o.Levels {
		site := ""
		if l.CrossesSite {
			site = "yes"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%.1f\t%.2f\t%s\t%s\n", l.Name, l.Factor, l.Transport, l.Algorithm, l.OneWayUs, l.AchievedGBps, l.LimitedBy, site)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	op := ""
	for _, r := range o.Results {
		if r.Op != op {
			op = r.Op
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(w, "\n%s\n", op)
			fmt.Fprintln(tw, "size\ttime (us)\talgbw (GB/s)\tbusbw (GB/s)")
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%.2f\t%.2f\n", sizeString(r.Bytes), r.TimeUs, r.AlgBWGBps, r.BusBWGBps)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, n := range o.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	return nil
}

func sizeString(b int64) string {
	switch {
	case b >= 1<<30 && b%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", b>>30)
	case b >= 1<<20 && b%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", b>>20)
	case b >= 1<<10 && b%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", b>>10)
	}
	return fmt.Sprintf("%d B", b)
}

func writeTechnologies(w io.Writer, ts []network.Technology, asJSON bool) error {
	if asJSON {
		return writeJSON(w, ts)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "name\tcontrol\tbuffer (MB)\tflows\twindow (MiB)\tchannels x buffer\tspraying\trecovery\tport (Gb/s)")
	for _, t := range ts {
		win := "-"
		if t.WindowBytes > 0 {
			win = fmt.Sprintf("%g", t.WindowBytes/(1<<20))
		}
		buf := "-"
		if t.BufferBytes > 0 {
			buf = fmt.Sprintf("%.1f", t.BufferBytes/1e6)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%d x %g MiB\t%v\t%s\t%g\n", t.Name, t.Control, buf, t.Flows, win, t.Channels, t.ChannelBufferBytes/(1<<20), t.Spraying, t.Recovery, t.PortGbps)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, t := range ts {
		fmt.Fprintf(w, "%s: %s\n  sources: %s\n", t.Name, t.Summary, strings.Join(t.Sources, "; "))
	}
	return nil
}
