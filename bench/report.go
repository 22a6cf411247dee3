package bench

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// WriteTable prints the report for people.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, a ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, a...)...) }
	target := r.Target
	if r.DataDir != "" {
		target += " (data dir " + r.DataDir + ")"
	}
	body := "plain"
	if r.Gzip {
		body = "gzip"
	}
	fmt.Fprintf(tw, "TSBS cpu-only: %d hosts, %s every %s from %s, seed %d\n", r.Hosts, r.Duration, r.Interval, r.Start, r.Seed)
	row("target", "%s", target)
	row("generated", "%s lines, %s values, %s MB line protocol, %.2f s", group(r.Lines), group(r.Values), mb(r.RawBytes), r.GenSeconds)
	row("requests", "%d × %d lines, %s bodies (%s MB sent), %d workers", r.Load.Requests, r.BatchLines, body, mb(r.SentBytes), r.Workers)
	row("load time", "%.2f s", r.Load.Seconds)
	row("values/s", "%s", group(int64(r.ValuesPerSec+0.5)))
	row("lines/s", "%s", group(int64(r.LinesPerSec+0.5)))
	row("MB/s", "%.1f", r.MBPerSec)
	row("failed requests", "%d of %d", r.Load.Failed, r.Load.Requests)
	if r.Load.FirstError != "" {
		row("first failure", "%s", r.Load.FirstError)
	}
	if r.Disk != nil {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(r.Disk.ByEntry)) {
			parts = append(parts, k+" "+mb(r.Disk.ByEntry[k]))
		}
		row("disk after flush", "%s MB in files, %s MB allocated (du: %s)", mb(r.Disk.Apparent), mb(r.Disk.Allocated), strings.Join(parts, ", "))
		row("bytes/value", "%.3f (file sizes); %.3f (du)", r.BytesPerValue, r.BytesPerValueDU)
	} else {
		row("bytes/value", "n/a")
	}
	if r.PeakRSS > 0 {
		extra := r.PeakRSSOf
		if r.RSSBeforeLoad > 0 {
			extra += fmt.Sprintf("; %s MB before the load", mb(r.RSSBeforeLoad))
		}
		row("peak RSS", "%s MB (%s)", mb(r.PeakRSS), extra)
	} else {
		row("peak RSS", "n/a")
	}
	if len(r.Queries) > 0 {
		fmt.Fprintln(tw)
		fmt.Fprintln(tw, "query\truns\tok\tfailed\twrong\tmedian ms\tp99 ms")
		for _, q := range r.Queries {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\n", q.Type, q.Runs, q.OK, q.Failed, q.Wrong, msCell(q.MedianMs, q.OK+q.Wrong+q.Failed), msCell(q.P99Ms, q.OK+q.Wrong+q.Failed))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var errs []string
	for _, q := range r.Queries {
		if q.FirstError != "" {
			errs = append(errs, "  "+q.Type+": "+oneLine(q.FirstError))
		}
	}
	if len(errs) > 0 {
		_, err := fmt.Fprintf(w, "\nfirst error per query type:\n%s\n", strings.Join(errs, "\n"))
		return err
	}
	return nil
}

func msCell(v float64, n int) string {
	if n == 0 || v == 0 {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func mb(n int64) string { return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) }

// oneLine keeps a table error short: the first line, at most 200 bytes.
func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// group prints n with thousands separators.
func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
