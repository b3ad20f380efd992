// Command summarize turns the raw measurements of bench/run.sh into a
// Markdown table: per workload and tool, the median wall time, throughput,
// CPU seconds per GiB and median peak RSS, each also as a ratio to wcdl's.
//
// Input lines (tab-separated, '#' comments): workload tool rep wall_s user_s
// sys_s maxrss_kib bytes ok.
//
//	summarize bench/out/raw.tsv > bench/out/results.md
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// sample is one measured run.
type sample struct {
	wall, cpu, rssMiB float64
	bytes             int64
	ok                bool
}

// row is one workload and tool, summarized.
type row struct {
	workload, tool string
	n, failed      int
	wall, mibps    float64
	cpuPerGiB      float64
	rssMiB         float64
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: summarize RAW.tsv")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "summarize:", err)
		os.Exit(1)
	}
	defer f.Close()
	if err := summarize(f, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "summarize:", err)
		os.Exit(1)
	}
}

func summarize(r io.Reader, w io.Writer) error {
	type key struct{ workload, tool string }
	var order []key
	samples := map[key][]sample{}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		fs := strings.Split(t, "\t")
		if len(fs) != 9 {
			return fmt.Errorf("line %d: %d fields, want 9", line, len(fs))
		}
		var v [5]float64
		for i, s := range fs[3:8] {
			x, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return fmt.Errorf("line %d: %w", line, err)
			}
			v[i] = x
		}
		b, err := strconv.ParseInt(fs[7], 10, 64)
		if err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		k := key{fs[0], fs[1]}
		if _, seen := samples[k]; !seen {
			order = append(order, k)
		}
		samples[k] = append(samples[k], sample{wall: v[0], cpu: v[1] + v[2], rssMiB: v[3] / 1024, bytes: b, ok: fs[8] == "ok"})
	}
	if err := sc.Err(); err != nil {
		return err
	}

	rows := map[key]row{}
	for _, k := range order {
		var walls, cpus, rss []float64
		rw := row{workload: k.workload, tool: k.tool}
		var bytes int64
		for _, s := range samples[k] {
			if !s.ok {
				rw.failed++
				continue
			}
			walls, cpus, rss = append(walls, s.wall), append(cpus, s.cpu), append(rss, s.rssMiB)
			bytes = s.bytes
		}
		rw.n = len(walls)
		if rw.n > 0 {
			rw.wall = median(walls)
			gib := float64(bytes) / (1 << 30)
			rw.mibps = float64(bytes) / (1 << 20) / rw.wall
			rw.cpuPerGiB = median(cpus) / gib
			rw.rssMiB = median(rss)
		}
		rows[k] = rw
	}

	fmt.Fprintln(w, "| workload | tool | runs ok | median wall (s) | MiB/s | CPU s/GiB | peak RSS (MiB) | wall / wcdl | CPU / wcdl | RSS / wcdl |")
	fmt.Fprintln(w, "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, k := range order {
		rw := rows[k]
		base, ok := rows[key{k.workload, "wcdl"}]
		ratio := func(a, b float64) string {
			if !ok || b == 0 || rw.n == 0 {
				return "–"
			}
			return fmt.Sprintf("%.2f", a/b)
		}
		runs := fmt.Sprintf("%d/%d", rw.n, rw.n+rw.failed)
		if rw.n == 0 {
			fmt.Fprintf(w, "| %s | %s | %s | – | – | – | – | – | – | – |\n", k.workload, k.tool, runs)
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %s | %.2f | %.0f | %.2f | %.1f | %s | %s | %s |\n",
			k.workload, k.tool, runs, rw.wall, rw.mibps, rw.cpuPerGiB, rw.rssMiB,
			ratio(rw.wall, base.wall), ratio(rw.cpuPerGiB, base.cpuPerGiB), ratio(rw.rssMiB, base.rssMiB))
	}
	return nil
}

// median returns the median of xs (the mean of the middle two for an even
// count).
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
