package bench

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestDecodeResponse(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    Result
		qerr    string // a *QueryError with this text
		badResp bool   // wraps ErrBadResponse
	}{
		{
			name: "rfc3339 times, null and strings",
			body: `{"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"hostname":"host_1"},"columns":["time","max","team"],"values":[["2016-01-01T00:01:00Z",90.5,"SF"],["2016-01-01T00:02:00Z",null,"SF"]]}]}]}`,
			want: Result{Series: []Series{{Name: "cpu", Tags: map[string]string{"hostname": "host_1"}, Columns: []string{"time", "max", "team"},
				Values: [][]any{{at(1, 0), 90.5, "SF"}, {at(2, 0), nil, "SF"}}}}},
		},
		{
			name: "epoch times and integral floats",
			body: `{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","max"],"values":[[1451606460000000000,91]]}]}]}`,
			want: Result{Series: []Series{{Name: "cpu", Columns: []string{"time", "max"}, Values: [][]any{{at(1, 0), 91.0}}}}},
		},
		{name: "empty result", body: `{"results":[{"statement_id":0}]}`, want: Result{}},
		{name: "statement error", body: `{"results":[{"statement_id":0,"error":"statement not supported yet"}]}`, qerr: "statement not supported yet"},
		{name: "top-level error", body: `{"error":"error parsing query: found EOF"}`, qerr: "error parsing query: found EOF"},
		{name: "not json", body: `404 page not found`, badResp: true},
		{name: "two results", body: `{"results":[{},{}]}`, badResp: true},
		{name: "short row", body: `{"results":[{"series":[{"name":"cpu","columns":["time","max"],"values":[["2016-01-01T00:00:00Z"]]}]}]}`, badResp: true},
		{name: "bad time", body: `{"results":[{"series":[{"name":"cpu","columns":["time"],"values":[["yesterday"]]}]}]}`, badResp: true},
		{name: "object cell", body: `{"results":[{"series":[{"name":"cpu","columns":["time","x"],"values":[[0,{}]]}]}]}`, badResp: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeResponse([]byte(tt.body))
			var qe *QueryError
			switch {
			case tt.qerr != "":
				if !errors.As(err, &qe) || qe.Msg != tt.qerr {
					t.Fatalf("err = %v, want query error %q", err, tt.qerr)
				}
			case tt.badResp:
				if !errors.Is(err, ErrBadResponse) {
					t.Fatalf("err = %v, want ErrBadResponse", err)
				}
			case err != nil:
				t.Fatal(err)
			default:
				if err := Check(Query{Type: "single-groupby-1-1-1"}, tt.want, got); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestCheck(t *testing.T) {
	row := func(tm int64, host string, v any) []any { return []any{tm, host, v} }
	base := func() Result {
		return Result{Series: []Series{{Name: "cpu", Tags: map[string]string{"hostname": "host_0"}, Columns: []string{"time", "hostname", "usage_user"},
			Values: [][]any{row(at(0, 0), "host_0", 91.0), row(at(0, 0), "host_1", 92.5), row(at(1, 0), "host_0", nil)}}}}
	}
	tests := []struct {
		name   string
		typ    string
		mutate func(r *Result)
		ok     bool
	}{
		{"equal", "single-groupby-1-1-1", func(*Result) {}, true},
		{"mean within tolerance", "double-groupby-1", func(r *Result) { r.Series[0].Values[0][2] = 91.0 * (1 + 1e-12) }, true},
		{"value off by a hundredth of a cent", "double-groupby-1", func(r *Result) { r.Series[0].Values[0][2] = 91.0001 }, false},
		{"null for a value", "single-groupby-1-1-1", func(r *Result) { r.Series[0].Values[0][2] = nil }, false},
		{"value for a null", "single-groupby-1-1-1", func(r *Result) { r.Series[0].Values[2][2] = 0.0 }, false},
		{"NaN", "single-groupby-1-1-1", func(r *Result) { r.Series[0].Values[0][2] = math.NaN() }, false},
		{"time", "single-groupby-1-1-1", func(r *Result) { r.Series[0].Values[1][0] = at(0, 1) }, false},
		{"string for a float", "single-groupby-1-1-1", func(r *Result) { r.Series[0].Values[0][2] = "91" }, false},
		{"missing row", "single-groupby-1-1-1", func(r *Result) { r.Series[0].Values = r.Series[0].Values[:2] }, false},
		{"missing series", "single-groupby-1-1-1", func(r *Result) { r.Series = nil }, false},
		{"name", "single-groupby-1-1-1", func(r *Result) { r.Series[0].Name = "mem" }, false},
		{"tags", "single-groupby-1-1-1", func(r *Result) { r.Series[0].Tags = map[string]string{"hostname": "host_1"} }, false},
		{"columns", "single-groupby-1-1-1", func(r *Result) { r.Series[0].Columns = []string{"time", "hostname", "max"} }, false},
		{"rows swapped in a grouped query", "single-groupby-1-1-1", swapFirstRows, false},
		{"rows of equal time swapped in high-cpu", "high-cpu-all", swapFirstRows, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := base()
			tt.mutate(&got)
			err := Check(Query{Type: tt.typ}, base(), got)
			if (err == nil) != tt.ok {
				t.Fatalf("Check = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func swapFirstRows(r *Result) {
	v := r.Series[0].Values
	v[0], v[1] = v[1], v[0]
}

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var d []time.Duration
		for _, x := range v {
			d = append(d, time.Duration(x)*time.Millisecond)
		}
		return d
	}
	tests := []struct {
		in       []time.Duration
		p50, p99 time.Duration
	}{
		{nil, 0, 0},
		{ms(7), 7 * time.Millisecond, 7 * time.Millisecond},
		{ms(5, 1, 3, 2, 4), 3 * time.Millisecond, 5 * time.Millisecond},
		{ms(4, 1, 3, 2), 2 * time.Millisecond, 4 * time.Millisecond},
	}
	for _, tt := range tests {
		if p50, p99 := percentile(tt.in, 0.5), percentile(tt.in, 0.99); p50 != tt.p50 || p99 != tt.p99 {
			t.Errorf("percentile(%v) = %v, %v; want %v, %v", tt.in, p50, p99, tt.p50, tt.p99)
		}
	}
}

func FuzzDecodeResponse(f *testing.F) {
	f.Add([]byte(`{"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"hostname":"host_1"},"columns":["time","max"],"values":[["2016-01-01T00:01:00Z",90.5],["2016-01-01T00:02:00Z",null]]}]}]}`))
	f.Add([]byte(`{"results":[{"series":[{"name":"cpu","columns":["time","max"],"values":[[1451606460000000000,91]]}]}]}`))
	f.Add([]byte(`{"results":[{"statement_id":0,"error":"x"}]}`))
	f.Add([]byte(`{"error":"y"}`))
	f.Add([]byte(`{"results":[{"series":[{"columns":["time","a","b"],"values":[[0,"s",true]]}]}]}`))
	f.Add([]byte(`{"results":[{"series":[{"columns":["time"],"values":[[1e400]]}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := DecodeResponse(body)
		if err != nil {
			var qe *QueryError
			if !errors.Is(err, ErrBadResponse) && !errors.As(err, &qe) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		for _, s := range res.Series {
			for _, row := range s.Values {
				if len(row) != len(s.Columns) {
					t.Fatalf("row %v for columns %v", row, s.Columns)
				}
				for i, c := range s.Columns {
					if _, ok := row[i].(int64); c == "time" && !ok {
						t.Fatalf("time cell %T", row[i])
					}
				}
			}
		}
		// An answer always equals itself.
		if err := Check(Query{Type: "high-cpu-all"}, res, res); err != nil && !hasNaN(res) {
			t.Fatalf("Check(res, res) = %v", err)
		}
	})
}

func hasNaN(r Result) bool {
	for _, s := range r.Series {
		for _, row := range s.Values {
			for _, v := range row {
				if f, ok := v.(float64); ok && math.IsNaN(f) {
					return true
				}
			}
		}
	}
	return false
}
