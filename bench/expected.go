package bench

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
)

// Result is one statement's answer in the shape of InfluxDB 1.x's JSON. Cells are
// int64 nanoseconds in the "time" column, float64 for fields, string for tags and
// nil for a missing value (fill(null)).
type Result struct {
	Series []Series
}

// Series is one series of a Result.
type Series struct {
	Name    string
	Tags    map[string]string
	Columns []string
	Values  [][]any
}

// Expected computes the answer InfluxDB 1.x gives to q on data set d, from the
// generated values alone.
func Expected(d *Dataset, q Query) (Result, error) {
	spec, ok := querySpecs[q.Type]
	if !ok {
		return Result{}, fmt.Errorf("unknown query type %q", q.Type)
	}
	switch spec.fam {
	case singleGroupby, maxAll:
		return groupByTime(d, q, spec.metrics, time.Minute, false, "max", 0), nil
	case doubleGroupby:
		return groupByTime(d, q, spec.metrics, time.Hour, true, "mean", 0), nil
	case groupbyOrderbyLimit:
		return groupByTime(d, q, spec.metrics, time.Minute, false, "max", orderbyLimit), nil
	case highCPU:
		return highCPURows(d, q), nil
	case lastpoint:
		return lastPoints(d), nil
	}
	return Result{}, fmt.Errorf("query type %q has no expected-answer function", q.Type)
}

// pointRange returns the points [lo, hi) whose times lie in [start, end).
func pointRange(d *Dataset, start, end int64) (int, int) {
	t0, iv := d.Config.Start.UnixNano(), int64(d.Config.Interval)
	idx := func(t int64) int { // first point at or after t
		switch {
		case t == math.MinInt64 || t <= t0:
			return 0
		case t == math.MaxInt64 || t-t0 >= int64(d.NumPoints)*iv:
			return d.NumPoints
		}
		return int((t - t0 + iv - 1) / iv)
	}
	return idx(start), idx(end)
}

func floorTo(t, unit int64) int64 {
	r := t % unit
	if r < 0 {
		r += unit
	}
	return t - r
}

// hostSet returns the hosts a query filters on, all when it has no filter.
func hostSet(d *Dataset, q Query) []int {
	if q.Hosts != nil {
		return q.Hosts
	}
	all := make([]int, len(d.Hosts))
	for i := range all {
		all[i] = i
	}
	return all
}

// aggColumns names the columns as InfluxDB does for repeated function names:
// max, max_1, max_2, …
func aggColumns(agg string, n int) []string {
	cols := []string{"time"}
	for i := range n {
		if i == 0 {
			cols = append(cols, agg)
		} else {
			cols = append(cols, agg+"_"+strconv.Itoa(i))
		}
	}
	return cols
}

// groupByTime computes "SELECT agg(f1), …, agg(fm) … GROUP BY time(bucket)" and,
// with perHost, ", hostname". Buckets run from the bucket of the lower time bound
// (of the first point when the query has none) to the bucket of the upper bound,
// empty buckets filled with null, as InfluxDB's default fill(null) does. limit > 0
// keeps the first limit rows of each series.
func groupByTime(d *Dataset, q Query, metrics int, bucket time.Duration, perHost bool, agg string, limit int) Result {
	plo, phi := pointRange(d, q.Start, q.End)
	hosts := hostSet(d, q)
	if plo >= phi || len(hosts) == 0 {
		return Result{}
	}
	bw := int64(bucket)
	first := floorTo(d.Time(plo), bw)
	if q.Start != math.MinInt64 {
		first = floorTo(q.Start, bw)
	}
	last := floorTo(d.Time(phi-1), bw)
	if q.End != math.MaxInt64 {
		last = floorTo(q.End-1, bw)
	}
	nb := int((last-first)/bw) + 1

	type acc struct {
		n   int
		sum int64
		max int
	}
	groups := [][]int{hosts}
	if perHost {
		groups = groups[:0]
		for _, h := range hosts {
			groups = append(groups, []int{h})
		}
		slices.SortFunc(groups, func(a, b []int) int { return cmp.Compare(d.Hosts[a[0]].Name, d.Hosts[b[0]].Name) })
	}
	var res Result
	for _, g := range groups {
		accs := make([]acc, nb*metrics)
		for p := plo; p < phi; p++ {
			b := int((floorTo(d.Time(p), bw) - first) / bw)
			for _, h := range g {
				for f := range metrics {
					a := &accs[b*metrics+f]
					v := d.Centi(h, p, f)
					if a.n == 0 || v > a.max {
						a.max = v
					}
					a.n++
					a.sum += int64(v)
				}
			}
		}
		s := Series{Name: Measurement, Columns: aggColumns(agg, metrics)}
		if perHost {
			s.Tags = map[string]string{"hostname": d.Hosts[g[0]].Name}
		}
		for b := range nb {
			if limit > 0 && len(s.Values) == limit {
				break
			}
			row := []any{first + int64(b)*bw}
			for f := range metrics {
				a := accs[b*metrics+f]
				switch {
				case a.n == 0:
					row = append(row, nil)
				case agg == "mean":
					row = append(row, float64(a.sum)/float64(a.n)/100)
				default:
					row = append(row, float64(a.max)/100)
				}
			}
			s.Values = append(s.Values, row)
		}
		res.Series = append(res.Series, s)
	}
	return res
}

// wildcardColumns are the columns of "SELECT *": time, then every tag key and field
// key except the grouped-by ones, sorted by name as InfluxDB sorts them.
func wildcardColumns(except string) []string {
	var keys []string
	for _, k := range TagKeys {
		if k != except {
			keys = append(keys, k)
		}
	}
	keys = append(keys, FieldNames[:]...)
	slices.Sort(keys)
	return append([]string{"time"}, keys...)
}

// wildcardRow is the row of "SELECT *" for host h at point p.
func wildcardRow(d *Dataset, cols []string, h, p int) []any {
	row := []any{d.Time(p)}
	for _, c := range cols[1:] {
		if f := slices.Index(FieldNames[:], c); f >= 0 {
			row = append(row, d.Value(h, p, f))
		} else {
			row = append(row, d.Hosts[h].Tag(c))
		}
	}
	return row
}

// highCPURows computes high-cpu-N: every row with usage_user > 90.0 of the hosts in
// the time range, in one series ordered by time and then hostname.
func highCPURows(d *Dataset, q Query) Result {
	plo, phi := pointRange(d, q.Start, q.End)
	hosts := slices.Clone(hostSet(d, q))
	slices.SortFunc(hosts, func(a, b int) int { return cmp.Compare(d.Hosts[a].Name, d.Hosts[b].Name) })
	cols := wildcardColumns("")
	s := Series{Name: Measurement, Columns: cols}
	for p := plo; p < phi; p++ {
		for _, h := range hosts {
			if d.Centi(h, p, 0) > highCPUThreshold {
				s.Values = append(s.Values, wildcardRow(d, cols, h, p))
			}
		}
	}
	if len(s.Values) == 0 {
		return Result{}
	}
	return Result{Series: []Series{s}}
}

// lastPoints computes lastpoint: one series per hostname with the host's last row,
// the series in descending hostname order — ORDER BY time DESC reverses the series
// order too in InfluxDB 1.x (verified against 1.6.7 in the race, bench/race).
func lastPoints(d *Dataset) Result {
	if d.NumPoints == 0 {
		return Result{}
	}
	hosts := hostSet(d, Query{})
	slices.SortFunc(hosts, func(a, b int) int { return cmp.Compare(d.Hosts[b].Name, d.Hosts[a].Name) })
	cols := wildcardColumns("hostname")
	var res Result
	for _, h := range hosts {
		res.Series = append(res.Series, Series{
			Name:    Measurement,
			Tags:    map[string]string{"hostname": d.Hosts[h].Name},
			Columns: cols,
			Values:  [][]any{wildcardRow(d, cols, h, d.NumPoints-1)},
		})
	}
	return res
}
