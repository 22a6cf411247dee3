package influxql

import (
	"testing"
	"time"
)

func mustParseExpr(t *testing.T, s string) Expr {
	t.Helper()
	e, err := ParseExpr(s)
	if err != nil {
		t.Fatalf("ParseExpr(%q): %v", s, err)
	}
	return e
}

func ts(s string) int64 {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UnixNano()
}

func TestTimeCondition(t *testing.T) {
	now := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cond string
		loc  *time.Location
		rest string // remaining condition, "" for none
		min  int64
		max  int64
		err  string
	}{
		{name: "none", cond: `host = 'a'`, rest: `host = 'a'`, min: MinTime, max: MaxTime},
		{name: "closed_open", cond: `time >= '2024-01-01T00:00:00Z' AND time < '2024-01-01T02:00:00Z'`,
			min: ts("2024-01-01T00:00:00Z"), max: ts("2024-01-01T02:00:00Z") - 1},
		{name: "gt_is_plus_one", cond: `time > '2024-01-01 01:00:00' AND time <= '2024-01-01T01:30:00.000000000Z'`,
			min: ts("2024-01-01T01:00:00Z") + 1, max: ts("2024-01-01T01:30:00Z")},
		{name: "date_only", cond: `time >= '2024-01-01'`, min: ts("2024-01-01T00:00:00Z"), max: MaxTime},
		{name: "zoneless_in_tz", cond: `time >= '2024-01-01 00:00:00'`, loc: berlin, min: ts("2023-12-31T23:00:00Z"), max: MaxTime},
		{name: "rfc3339_offset", cond: `time = '2024-01-01T01:00:00+01:00'`, min: ts("2024-01-01T00:00:00Z"), max: ts("2024-01-01T00:00:00Z")},
		{name: "epoch_ns", cond: `time >= 1704070800000000000 AND time < 1704074400000000000`,
			min: 1704070800000000000, max: 1704074400000000000 - 1},
		{name: "epoch_ms_duration", cond: `time >= 1704067200000ms and time <= 1704074399000ms`,
			min: 1704067200000000000, max: 1704074399000000000},
		{name: "now_minus", cond: `time > now() - 1h`, min: now.Add(-time.Hour).UnixNano() + 1, max: MaxTime},
		{name: "now_plus_paren", cond: `time < (now() + 10m)`, min: MinTime, max: now.Add(10*time.Minute).UnixNano() - 1},
		{name: "string_plus_duration", cond: `time <= '2024-01-01T00:00:00Z' + 1h`, min: MinTime, max: ts("2024-01-01T01:00:00Z")},
		{name: "reversed", cond: `'2024-01-01T00:00:00Z' <= time`, min: ts("2024-01-01T00:00:00Z"), max: MaxTime},
		{name: "float_epoch", cond: `time >= 1.5`, min: 1, max: MaxTime},
		{name: "mixed_with_tags", cond: `host = 'a' AND time > 0 AND (region = 'x' OR time < 100)`,
			rest: `host = 'a' AND (region = 'x')`, min: 1, max: 99},
		{name: "or_intersects", cond: `time < '2024-01-01T00:10:00Z' OR time > '2024-01-01T01:50:00Z'`,
			min: ts("2024-01-01T01:50:00Z") + 1, max: ts("2024-01-01T00:10:00Z") - 1},
		{name: "upper_case_time", cond: `TIME = 5`, min: 5, max: 5},
		{name: "saturating_is_empty", cond: `time > 9223372036854775807`, min: 9223372036854775807, max: MaxTime},
		{name: "clamped_low", cond: `time >= -9223372036854775808`, min: MinTime, max: MaxTime},
		{name: "bad_string", cond: `time > 'garbage'`, err: "invalid operation: time and *influxql.StringLiteral are not compatible"},
		{name: "bool", cond: `time > true`, err: "invalid operation: time and *influxql.BooleanLiteral are not compatible"},
		{name: "field_ref", cond: `time > x`, err: "invalid operation: time and *influxql.VarRef are not compatible"},
		{name: "neq", cond: `time != 5`, err: "invalid operation: time != 5 is not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rest, tr, err := TimeCondition(mustParseExpr(t, tt.cond), now, tt.loc)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if rest != nil {
				got = rest.String()
			}
			if got != tt.rest {
				t.Errorf("rest = %q, want %q", got, tt.rest)
			}
			if tr.Min != tt.min || tr.Max != tt.max {
				t.Errorf("range = [%d, %d], want [%d, %d]", tr.Min, tr.Max, tt.min, tt.max)
			}
		})
	}
	if _, tr, err := TimeCondition(nil, now, nil); err != nil || tr != Unbounded || tr.HasMin() || tr.HasMax() || tr.Empty() {
		t.Fatalf("nil condition: %v %v", tr, err)
	}
	_, tr, _ := TimeCondition(mustParseExpr(t, `time < 1 OR time > 2`), now, nil)
	if !tr.Empty() {
		t.Fatalf("time OR time should be empty, got %+v", tr)
	}
}

func TestSplitPredicates(t *testing.T) {
	isTag := func(name string) bool { return name == "host" || name == "region" }
	tests := []struct {
		cond, tags, fields string
	}{
		{`host = 'a'`, `host = 'a'`, ``},
		{`usage > 5`, ``, `usage > 5`},
		{`host = 'a' AND usage > 5 AND region =~ /us/`, `host = 'a' AND region =~ /us/`, `usage > 5`},
		{`(host = 'a' AND (region = 'b')) AND usage > 5`, `host = 'a' AND (region = 'b')`, `usage > 5`},
		{`host = 'a' OR usage > 5`, ``, `host = 'a' OR usage > 5`},
		{`host = 'a' OR region = 'b'`, `host = 'a' OR region = 'b'`, ``},
		{`x::tag = 'a' AND host::field = 1`, `x::tag = 'a'`, `host::field = 1`},
		{`true`, ``, `true`},
	}
	for _, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			tags, fields := SplitPredicates(mustParseExpr(t, tt.cond), isTag)
			str := func(e Expr) string {
				if e == nil {
					return ""
				}
				return e.String()
			}
			if str(tags) != tt.tags || str(fields) != tt.fields {
				t.Fatalf("tags = %q, fields = %q; want %q, %q", str(tags), str(fields), tt.tags, tt.fields)
			}
		})
	}
	if tags, fields := SplitPredicates(nil, isTag); tags != nil || fields != nil {
		t.Fatal("nil condition should split into nothing")
	}
}

func TestGroupByTime(t *testing.T) {
	now := time.Unix(0, int64(25*time.Minute))
	tests := []struct {
		q                string
		interval, offset time.Duration
		err              string
	}{
		{q: `SELECT mean(x) FROM m`},
		{q: `SELECT mean(x) FROM m GROUP BY host`},
		{q: `SELECT mean(x) FROM m GROUP BY time(1h)`, interval: time.Hour},
		{q: `SELECT mean(x) FROM m GROUP BY time(1h, 10m)`, interval: time.Hour, offset: 10 * time.Minute},
		{q: `SELECT mean(x) FROM m GROUP BY time(1h, -10m)`, interval: time.Hour, offset: 50 * time.Minute},
		{q: `SELECT mean(x) FROM m GROUP BY time(1h, 70m)`, interval: time.Hour, offset: 10 * time.Minute},
		{q: `SELECT mean(x) FROM m GROUP BY time(10m, now())`, interval: 10 * time.Minute, offset: 5 * time.Minute},
		{q: `SELECT mean(x) FROM m GROUP BY time()`, err: "time dimension expected 1 or 2 arguments"},
		{q: `SELECT mean(x) FROM m GROUP BY time(x)`, err: "time dimension must have duration argument"},
		{q: `SELECT mean(x) FROM m GROUP BY time(1m, x)`, interval: time.Minute, err: "time dimension offset must be duration or now()"},
		{q: `SELECT mean(x) FROM m GROUP BY time(1m), time(2m)`, err: "multiple time dimensions not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			st, err := ParseStatement(tt.q)
			if err != nil {
				t.Fatal(err)
			}
			iv, off, err := st.(*SelectStatement).GroupByTime(now)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || iv != tt.interval || off != tt.offset {
				t.Fatalf("GroupByTime = %v, %v, %v; want %v, %v", iv, off, err, tt.interval, tt.offset)
			}
		})
	}
}

func TestSelectHelpers(t *testing.T) {
	st, err := ParseStatement(`SELECT x FROM m GROUP BY *, host, /^r/ fill(previous)`)
	if err != nil {
		t.Fatal(err)
	}
	s := st.(*SelectStatement)
	g := s.GroupByTags()
	if !g.All || len(g.Keys) != 1 || g.Keys[0] != "host" || len(g.Regexes) != 1 || g.Regexes[0].String() != "^r" {
		t.Fatalf("GroupByTags = %+v", g)
	}
	if f := s.FillSpec(); f.Option != PreviousFill || f.Value != nil {
		t.Fatalf("FillSpec = %+v", f)
	}
	if s.TimeZone() != time.UTC || !s.TimeAscending() || !s.IsRawQuery() {
		t.Fatalf("defaults: tz %v asc %v raw %v", s.TimeZone(), s.TimeAscending(), s.IsRawQuery())
	}
	if ms := s.Sources.Measurements(); len(ms) != 1 || ms[0].Name != "m" {
		t.Fatalf("Measurements = %v", ms)
	}
}
