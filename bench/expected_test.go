package bench

import (
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)

// handData is 2 hosts × 6 points, 30 s apart (00:00:00 … 00:02:30). usage_user is
// given below in hundredths; field f is usage_user + f.00, so the k-th column of a
// max or mean is the first column plus k.
//
//	time      host_0  host_1
//	00:00:00   10.00   40.00
//	00:00:30   90.50   41.00
//	00:01:00   20.00   95.00
//	00:01:30   91.00    1.00
//	00:02:00   30.00   90.01
//	00:02:30    5.00   90.00
func handData() *Dataset {
	user := [2][6]uint16{
		{10_00, 90_50, 20_00, 91_00, 30_00, 5_00},
		{40_00, 41_00, 95_00, 1_00, 90_01, 90_00},
	}
	d := &Dataset{
		Config: GenConfig{Hosts: 2, Start: t0, Interval: 30 * time.Second, Duration: 3 * time.Minute, Seed: 1, BatchLines: 10},
		Hosts: []Host{
			{Name: "host_0", Region: "eu-west-1", Datacenter: "eu-west-1b", Rack: "7", OS: "Ubuntu16.10", Arch: "x64", Team: "LON", Service: "3", ServiceVersion: "0", ServiceEnvironment: "test"},
			{Name: "host_1", Region: "us-east-1", Datacenter: "us-east-1e", Rack: "42", OS: "Ubuntu15.10", Arch: "x86", Team: "SF", Service: "19", ServiceVersion: "1", ServiceEnvironment: "production"},
		},
		NumPoints: 6,
		Lines:     12,
	}
	for p := range 6 {
		for h := range 2 {
			for f := range NumFields {
				d.centi = append(d.centi, user[h][p]+uint16(f*100))
			}
		}
	}
	return d
}

func at(minutes, seconds int) int64 {
	return t0.Add(time.Duration(minutes)*time.Minute + time.Duration(seconds)*time.Second).UnixNano()
}

// plus returns a row whose k-th value column is v+k, for the multi-metric types.
func plus(t int64, v any, metrics int) []any {
	row := []any{t}
	for k := range metrics {
		if v == nil {
			row = append(row, nil)
		} else {
			row = append(row, v.(float64)+float64(k))
		}
	}
	return row
}

func TestExpected(t *testing.T) {
	d := handData()
	const unbounded = math.MinInt64
	host0 := map[string]string{"hostname": "host_0"}
	host1 := map[string]string{"hostname": "host_1"}
	h0row := []any{at(2, 30), "x64", "eu-west-1b", "Ubuntu16.10", "7", "eu-west-1", "3", "test", "0", "LON", 13.0, 14.0, 7.0, 9.0, 10.0, 8.0, 11.0, 12.0, 6.0, 5.0}
	h1row := []any{at(2, 30), "x86", "us-east-1e", "Ubuntu15.10", "42", "us-east-1", "19", "production", "1", "SF", 98.0, 99.0, 92.0, 94.0, 95.0, 93.0, 96.0, 97.0, 91.0, 90.0}
	highRow := func(tm int64, h int, user float64) []any {
		host := d.Hosts[h]
		row := []any{tm, host.Arch, host.Datacenter, host.Name, host.OS, host.Rack, host.Region, host.Service, host.ServiceEnvironment, host.ServiceVersion, host.Team}
		// usage_guest, usage_guest_nice, usage_idle, usage_iowait, usage_irq,
		// usage_nice, usage_softirq, usage_steal, usage_system, usage_user
		for _, k := range []float64{8, 9, 2, 4, 5, 3, 6, 7, 1, 0} {
			row = append(row, user+k)
		}
		return row
	}
	tests := []struct {
		name string
		q    Query
		want Result
	}{
		{
			name: "single-groupby one host, window from mid-minute",
			q:    Query{Type: "single-groupby-1-1-1", Hosts: []int{0}, Start: at(0, 15), End: at(2, 15)},
			want: Result{Series: []Series{{Name: "cpu", Columns: []string{"time", "max"}, Values: [][]any{
				{at(0, 0), 90.5}, {at(1, 0), 91.0}, {at(2, 0), 30.0},
			}}}},
		},
		{
			name: "single-groupby two hosts",
			q:    Query{Type: "single-groupby-1-8-1", Hosts: []int{1, 0}, Start: at(0, 15), End: at(2, 15)},
			want: Result{Series: []Series{{Name: "cpu", Columns: []string{"time", "max"}, Values: [][]any{
				{at(0, 0), 90.5}, {at(1, 0), 95.0}, {at(2, 0), 90.01},
			}}}},
		},
		{
			name: "single-groupby fills a bucket past the data with null",
			q:    Query{Type: "single-groupby-1-1-12", Hosts: []int{0}, Start: at(2, 0), End: at(4, 0)},
			want: Result{Series: []Series{{Name: "cpu", Columns: []string{"time", "max"}, Values: [][]any{
				{at(2, 0), 30.0}, {at(3, 0), nil},
			}}}},
		},
		{
			name: "single-groupby without points has no series",
			q:    Query{Type: "single-groupby-1-1-1", Hosts: []int{0}, Start: at(3, 0), End: at(5, 0)},
			want: Result{},
		},
		{
			name: "single-groupby five metrics",
			q:    Query{Type: "single-groupby-5-8-1", Hosts: []int{0, 1}, Start: at(1, 0), End: at(2, 0)},
			want: Result{Series: []Series{{Name: "cpu", Columns: []string{"time", "max", "max_1", "max_2", "max_3", "max_4"}, Values: [][]any{
				plus(at(1, 0), 95.0, 5),
			}}}},
		},
		{
			name: "cpu-max-all names ten columns",
			q:    Query{Type: "cpu-max-all-8", Hosts: []int{0, 1}, Start: at(0, 0), End: at(1, 0)},
			want: Result{Series: []Series{{Name: "cpu", Columns: []string{"time", "max", "max_1", "max_2", "max_3", "max_4", "max_5", "max_6", "max_7", "max_8", "max_9"}, Values: [][]any{
				plus(at(0, 0), 90.5, 10),
			}}}},
		},
		{
			name: "double-groupby means per host and hour, window from before the data",
			q:    Query{Type: "double-groupby-1", Start: at(-30, 0), End: at(30, 0)},
			want: Result{Series: []Series{
				{Name: "cpu", Tags: host0, Columns: []string{"time", "mean"}, Values: [][]any{{at(-60, 0), nil}, {at(0, 0), 246.5 / 6}}},
				{Name: "cpu", Tags: host1, Columns: []string{"time", "mean"}, Values: [][]any{{at(-60, 0), nil}, {at(0, 0), 357.01 / 6}}},
			}},
		},
		{
			name: "double-groupby-5",
			q:    Query{Type: "double-groupby-5", Start: at(0, 0), End: at(60, 0)},
			want: Result{Series: []Series{
				{Name: "cpu", Tags: host0, Columns: []string{"time", "mean", "mean_1", "mean_2", "mean_3", "mean_4"}, Values: [][]any{plus(at(0, 0), 246.5/6, 5)}},
				{Name: "cpu", Tags: host1, Columns: []string{"time", "mean", "mean_1", "mean_2", "mean_3", "mean_4"}, Values: [][]any{plus(at(0, 0), 357.01/6, 5)}},
			}},
		},
		{
			name: "high-cpu-all: usage_user > 90 strictly, by time then host",
			q:    Query{Type: "high-cpu-all", Start: at(0, 0), End: at(720, 0)},
			want: Result{Series: []Series{{Name: "cpu", Columns: wildcardColumns(""), Values: [][]any{
				highRow(at(0, 30), 0, 90.5), highRow(at(1, 0), 1, 95), highRow(at(1, 30), 0, 91), highRow(at(2, 0), 1, 90.01),
			}}}},
		},
		{
			name: "high-cpu-1",
			q:    Query{Type: "high-cpu-1", Hosts: []int{1}, Start: at(0, 0), End: at(2, 0)},
			want: Result{Series: []Series{{Name: "cpu", Columns: wildcardColumns(""), Values: [][]any{
				highRow(at(1, 0), 1, 95),
			}}}},
		},
		{
			name: "high-cpu without a match has no series",
			q:    Query{Type: "high-cpu-1", Hosts: []int{0}, Start: at(1, 31), End: at(3, 0)},
			want: Result{},
		},
		{
			name: "lastpoint (series in descending order under ORDER BY time DESC)",
			q:    Query{Type: "lastpoint", Start: math.MinInt64, End: math.MaxInt64},
			want: Result{Series: []Series{
				{Name: "cpu", Tags: host1, Columns: wildcardColumns("hostname"), Values: [][]any{h1row}},
				{Name: "cpu", Tags: host0, Columns: wildcardColumns("hostname"), Values: [][]any{h0row}},
			}},
		},
		{
			name: "groupby-orderby-limit starts at the first point's minute",
			q:    Query{Type: "groupby-orderby-limit", Start: unbounded, End: at(2, 10)},
			want: Result{Series: []Series{{Name: "cpu", Columns: []string{"time", "max"}, Values: [][]any{
				{at(0, 0), 90.5}, {at(1, 0), 95.0}, {at(2, 0), 90.01},
			}}}},
		},
		{
			name: "groupby-orderby-limit keeps five rows, nulls included",
			q:    Query{Type: "groupby-orderby-limit", Start: unbounded, End: at(10, 0)},
			want: Result{Series: []Series{{Name: "cpu", Columns: []string{"time", "max"}, Values: [][]any{
				{at(0, 0), 90.5}, {at(1, 0), 95.0}, {at(2, 0), 90.01}, {at(3, 0), nil}, {at(4, 0), nil},
			}}}},
		},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			covered[tt.q.Type] = true
			got, err := Expected(d, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			// Exact comparison: the hand values must match to the last bit except
			// for means, where Check's tolerance covers summation order.
			if err := Check(tt.q, tt.want, got); err != nil {
				t.Fatal(err)
			}
			if err := Check(tt.q, got, tt.want); err != nil {
				t.Fatal(err)
			}
		})
	}
	if _, err := Expected(d, Query{Type: "no-such-query"}); err == nil {
		t.Error("unknown type: no error")
	}
	for _, typ := range QueryTypes {
		if !coveredFamily(covered, typ) {
			t.Errorf("query type %s has no hand-checked case", typ)
		}
	}
}

// coveredFamily reports whether some type of typ's family has a hand-checked case.
func coveredFamily(covered map[string]bool, typ string) bool {
	for c := range covered {
		if querySpecs[c].fam == querySpecs[typ].fam {
			return true
		}
	}
	return false
}
