package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/internal/lab"
)

// scaleSize is one point of the scale series: targets × series at an
// interval long enough for this machine to serve them.
type scaleSize struct {
	label    string
	targets  int
	series   int
	interval time.Duration
}

func (s scaleSize) active() int { return s.targets * (s.series + 1) }

// parseSizes reads "LABEL:TxS:INTERVAL,..." such as "1M:1000x1000:10s".
func parseSizes(spec string) ([]scaleSize, error) {
	var out []scaleSize
	for _, part := range strings.Split(spec, ",") {
		f := strings.Split(strings.TrimSpace(part), ":")
		if len(f) != 3 {
			return nil, fmt.Errorf("size %q: want LABEL:TARGETSxSERIES:INTERVAL", part)
		}
		t, s, ok := strings.Cut(f[1], "x")
		if !ok {
			return nil, fmt.Errorf("size %q: want TARGETSxSERIES, got %q", part, f[1])
		}
		nt, err1 := strconv.Atoi(t)
		ns, err2 := strconv.Atoi(s)
		iv, err3 := time.ParseDuration(f[2])
		if err1 != nil || err2 != nil || err3 != nil || nt <= 0 || ns <= 0 || iv <= 0 {
			return nil, fmt.Errorf("size %q: targets, series and interval must be positive", part)
		}
		out = append(out, scaleSize{label: f[0], targets: nt, series: ns, interval: iv})
	}
	return out, nil
}

type scaleOptions struct {
	pipelineOptions
	sizes string
}

func scaleFlags(fs *flag.FlagSet) *scaleOptions {
	o := &scaleOptions{}
	fs.StringVar(&o.shoal, "shoal", "bin/shoal", "the shoal binary")
	fs.StringVar(&o.sizes, "sizes", "30k:300x100:10s,300k:300x1000:10s,1M:1000x1000:10s,3M:1000x3000:30s", "the points of the series, LABEL:TARGETSxSERIES:INTERVAL")
	fs.StringVar(&o.order, "order", "shoal,vmagent,prometheus", "the systems, in the order they run at each size")
	fs.DurationVar(&o.warmup, "warmup", 30*time.Second, "warm-up after the first samples, per system and size")
	fs.DurationVar(&o.duration, "duration", time.Minute, "the measured window, per system and size")
	return o
}

// runScale measures each system alone at each size, one round each, and
// writes the curve of CPU per sample and memory per active series.
func runScale(ctx context.Context, w io.Writer, o scaleOptions) error {
	sizes, err := parseSizes(o.sizes)
	if err != nil {
		return err
	}
	systems := strings.Split(o.order, ",")
	for _, s := range systems {
		if _, ok := systemNames[s]; !ok {
			return fmt.Errorf("-order: unknown system %q", s)
		}
	}
	logf := func(format string, args ...any) {
		fmt.Fprintf(o.progress, "%s scale: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
	results := map[string][]systemRun{}
	for _, sz := range sizes {
		dir, err := os.MkdirTemp("", "shoal-bench-scale-")
		if err != nil {
			return err
		}
		ts, err := lab.StartTargets(sz.targets, sz.series, lab.WithDir(dir))
		if err != nil {
			os.RemoveAll(dir)
			return err
		}
		po := o.pipelineOptions
		po.targets, po.series, po.interval, po.rounds, po.profile = sz.targets, sz.series, sz.interval, 1, ""
		for _, name := range systems {
			if ctx.Err() != nil {
				break
			}
			logf("%s (%d targets × %d series, %s): %s", sz.label, sz.targets, sz.series, sz.interval, name)
			r := measure(ctx, measureSpec{name: name, round: 1, window: o.duration}, po, ts, dir, sz.interval/2, logf)
			results[sz.label] = append(results[sz.label], r)
		}
		ts.Close()
		os.RemoveAll(dir)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	writeScale(w, o, sizes, systems, results)
	return nil
}

func writeScale(w io.Writer, o scaleOptions, sizes []scaleSize, systems []string, results map[string][]systemRun) {
	fmt.Fprintf(w, "## Scale: memory and CPU from 30k to 3M active series per node\n\n")
	fmt.Fprintf(w, "Each system alone, one after the other, at each size: warmed up for %s after its first samples, then measured for %s. "+
		"Bytes per active series is peak RSS ÷ active series (the targets' series plus `lab_scrapes_total`, before the scrape's own `up` series). "+
		"Ratios are shoal ÷ the other system at the same size.\n\n", o.warmup, o.duration)
	header := []string{"active series", "targets × series, interval", "system", "CPU-s per million samples", "peak RSS", "anonymous / file-backed", "bytes per active series", "samples rejected", "shoal ÷ it: CPU, peak RSS"}
	t := table{header: header}
	for _, sz := range sizes {
		runs := results[sz.label]
		var sh *systemRun
		for i := range runs {
			if runs[i].name == "shoal" {
				sh = &runs[i]
			}
		}
		for i := range runs {
			r := &runs[i]
			cells := []string{sz.label, fmt.Sprintf("%d × %d, %s", sz.targets, sz.series, sz.interval), r.name}
			if r.err != nil {
				cells = append(cells, "failed", "", "", "", "", "")
				t.add(cells...)
				continue
			}
			cells = append(cells,
				fmt.Sprintf("%.2f", r.cpuPerMillion()),
				fmt.Sprintf("%.1f MiB", mib(r.peakRSS)),
				fmt.Sprintf("%.1f / %.1f MiB", mib(r.anonRSS), mib(r.fileRSS)),
				fmt.Sprintf("%.0f", float64(r.peakRSS)/float64(sz.active())),
				fmt.Sprintf("%d", r.rejected))
			if sh != nil && sh.err == nil && r != sh {
				cells = append(cells, ratio(sh.cpuPerMillion(), r.cpuPerMillion())+", "+ratio(float64(sh.peakRSS), float64(r.peakRSS)))
			} else {
				cells = append(cells, "")
			}
			t.add(cells...)
		}
	}
	t.write(w)
	fmt.Fprintln(w)
	for _, sz := range sizes {
		for _, r := range results[sz.label] {
			if r.err != nil {
				fmt.Fprintf(w, "- **%s at %s failed:** %s\n", r.name, sz.label, escapeCell(firstLines(r.err.Error(), 6)))
			}
		}
	}
	fmt.Fprintln(w)
}
