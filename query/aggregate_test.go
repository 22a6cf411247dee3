package query

import (
	"fmt"
	"math"
	"math/rand"
	"runtime"
	"strings"
	"testing"
	"time"
)

// workersData writes 40 series of one measurement, three hours at 20s, in
// three flushes plus overwrites and new points left in the head, with float
// values of mixed magnitudes (so that the order of float additions shows in
// the last bits), integers, strings and booleans.
func workersData(t testing.TB, env *selEnv) {
	rng := rand.New(rand.NewSource(11))
	sec := int64(time.Second)
	pt := func(h int, ts int64) selPt {
		x := rng.NormFloat64() * math.Pow(10, float64(rng.Intn(12)-4))
		return selPt{m: "cpu", tags: map[string]string{"host": fmt.Sprintf("h%02d", h), "rack": fmt.Sprint(h % 2)}, t: ts,
			fields: map[string]any{"x": x, "i": int64(rng.Intn(2000) - 1000), "s": []string{"a", "b", "c"}[rng.Intn(3)],
				"b": rng.Intn(2) == 0}}
	}
	for slice := t0; slice < t0+3*selHour; slice += selHour {
		var pts []selPt
		for h := 0; h < 40; h++ {
			for ts := slice; ts < slice+selHour; ts += 20 * sec {
				pts = append(pts, pt(h, ts))
			}
		}
		env.write(t, pts...)
		if err := env.eng.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	var head []selPt
	for k := 0; k < 500; k++ {
		head = append(head, pt(rng.Intn(40), t0+int64(rng.Intn(3*3600))*sec))
	}
	env.write(t, head...)
}

// TestAggregateWorkers checks that every mergeable function gives the same
// answer, bit for bit, whether a group's series run on one core or are split
// across several and merged.
func TestAggregateWorkers(t *testing.T) {
	env := newSelEnv(t, Limits{})
	workersData(t, env)
	calls := []string{
		"count(%s)", "sum(%s)", "mean(%s)", "min(%s)", "max(%s)", "first(%s)", "last(%s)", "spread(%s)",
		"stddev(%s)", "median(%s)", "percentile(%s, 90)", "mode(%s)", "distinct(%s)", "count(distinct(%s))",
		"top(%s, 3)", "bottom(%s, 3)", "integral(%s, 1m)",
	}
	rng := fmt.Sprintf("time >= %d AND time < %d", t0, t0+3*selHour)
	var queries []string
	for _, field := range []string{"x", "i", "s", "b"} {
		for _, c := range calls {
			call := fmt.Sprintf(c, field)
			for _, tail := range []string{"", " GROUP BY time(1h)", " GROUP BY time(25m) ORDER BY time DESC", " GROUP BY rack", " GROUP BY host"} {
				queries = append(queries, "SELECT "+call+" FROM cpu WHERE "+rng+tail)
			}
		}
	}
	answers := func(procs int) []string {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		out := make([]string, len(queries))
		for i, q := range queries {
			out[i] = renderJSON(t, env.runResult(t, q))
		}
		return out
	}
	one, four := answers(1), answers(4)
	nonEmpty := 0
	for i, q := range queries {
		if one[i] != four[i] {
			t.Errorf("%s:\n1 core:  %s\n4 cores: %s", q, one[i], four[i])
		}
		if len(one[i]) > 40 && !containsErr(one[i]) {
			nonEmpty++
		}
	}
	if nonEmpty < len(queries)/2 {
		t.Fatalf("only %d of %d queries answered with rows", nonEmpty, len(queries))
	}

	// The partial states answer as the window functions do (a field filter
	// that every row passes sends a call to its window function), bit for
	// bit, but for sum and mean: InfluxDB sums per series, the window
	// function over the time-merged points.
	for i, q := range queries {
		if containsAny(q, "sum(", "mean(") || containsErr(one[i]) {
			continue
		}
		wq := strings.Replace(q, "WHERE ", "WHERE i > -5000 AND ", 1)
		if p := planOf(t, env, wq); p.calls[0].path != pathWindow {
			t.Fatalf("%s: path %s", wq, p.calls[0].path)
		}
		if w := renderJSON(t, env.runResult(t, wq)); w != one[i] {
			t.Errorf("%s:\npartial states:  %s\nwindow function: %s", q, one[i], w)
		}
	}

	// The split is taken: one group of 48 series on 4 cores uses 3 workers,
	// but not for mean and float sums.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	g := &group{series: make([]*seriesRef, 48)}
	for _, c := range []struct {
		q    string
		want int
	}{{"max(x)", 3}, {"sum(i)", 3}, {"median(i)", 3}, {"sum(x)", 1}, {"mean(i)", 1}} {
		p := planOf(t, env, "SELECT "+c.q+" FROM cpu WHERE "+rng)
		r := &selectRun{plan: p, groupCount: 1}
		if n := r.groupWorkers(g, p.calls[0]); n != c.want {
			t.Errorf("%s: groupWorkers = %d, want %d", c.q, n, c.want)
		}
		r.groupCount = 4
		if n := r.groupWorkers(g, p.calls[0]); n != 1 {
			t.Errorf("%s with 4 groups: groupWorkers = %d, want 1", c.q, n)
		}
	}
}

func containsErr(s string) bool { return strings.Contains(s, `"error"`) }

func containsAny(s string, subs ...string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}
