package query

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/query/partial"
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

// TestAggregatePartialStates checks that every mergeable function gives the same
// answer, bit for bit, on one core and on several (groups in parallel), and
// the answer of its window function.
func TestAggregatePartialStates(t *testing.T) {
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

// TestFloatMeanFromHeaders checks the float sum and mean header path: a
// block that starts its series' share of a window answers from its header
// sum, which must give InfluxDB's per-series arithmetic bit for bit (each
// series' sum in time order, the series then added in key order); a second
// block of the same series in the window is decoded.
func TestFloatMeanFromHeaders(t *testing.T) {
	env := newSelEnv(t, Limits{})
	rng := rand.New(rand.NewSource(5))
	sec := int64(time.Second)
	hosts := []string{"a", "b", "c"}
	vals := map[string][]float64{} // per host, in time order
	// Two flushes per hour: each series has two blocks in every 1h window.
	for half := int64(0); half < 4; half++ {
		var pts []selPt
		for _, h := range hosts {
			for ts := t0 + half*selHour/2; ts < t0+(half+1)*selHour/2; ts += 30 * sec {
				x := rng.NormFloat64() * math.Pow(10, float64(rng.Intn(10)-3))
				vals[h] = append(vals[h], x)
				pts = append(pts, selPt{m: "cpu", tags: map[string]string{"host": h}, t: ts, fields: map[string]any{"x": x}})
			}
		}
		env.write(t, pts...)
		if err := env.eng.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	perWindow := len(vals["a"]) / 2
	for _, c := range []struct {
		q     string
		fresh int // blocks answered from headers
	}{
		// By hour each series' first block of a window answers from its
		// header, its second block is decoded.
		{"GROUP BY time(1h)", 2 * len(hosts)},
		// By half hour every block starts its series' share of its window.
		{"GROUP BY time(30m)", 4 * len(hosts)},
	} {
		for _, fn := range []string{"sum", "mean"} {
			q := fmt.Sprintf("SELECT %s(x) FROM cpu WHERE time >= %d AND time < %d %s", fn, t0, t0+2*selHour, c.q)
			if n := explainCount(t, env, q, "BLOCKS ANSWERED FROM HEADERS"); n != c.fresh {
				t.Errorf("%s: %d blocks from headers, want %d", q, n, c.fresh)
			}
			per := perWindow
			if strings.Contains(c.q, "30m") {
				per /= 2
			}
			var want []Row
			for w := 0; w < len(vals["a"])/per; w++ {
				var tot, wsum float64
				n := 0
				for i, h := range hosts {
					s, m := 0.0, 0.0
					for k, x := range vals[h][w*per : (w+1)*per] {
						if k == 0 {
							s = x
						} else {
							s += x
						}
						m += x
					}
					if i == 0 {
						tot = s
					} else {
						tot += s
					}
					wsum += m / float64(per) * float64(per)
					n += per
				}
				v := tot
				if fn == "mean" {
					v = wsum / float64(n)
				}
				want = append(want, Row{Time: t0 + int64(w*per)*30*sec, Values: []any{v}})
			}
			ss := env.mustRun(t, q)
			if len(ss) != 1 || len(ss[0].Rows) != len(want) {
				t.Fatalf("%s: %v", q, ss)
			}
			for i, r := range ss[0].Rows {
				if r.Time != want[i].Time || r.Values[0] != want[i].Values[0] {
					t.Errorf("%s: row %d = %v %v, want %v %v", q, i, r.Time, r.Values[0], want[i].Time, want[i].Values[0])
				}
			}
		}
	}
}

// runJSON runs q on ex over env's database and renders its first result.
func runJSON(t *testing.T, env *selEnv, ex *Executor, q string) string {
	t.Helper()
	parsed, err := influxql.ParseQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	var c Collector
	if err := ex.Execute(context.Background(), parsed, ExecOptions{Database: "db", Now: env.now}, &c); err != nil {
		t.Fatal(err)
	}
	return renderJSON(t, c.Results[0])
}

// TestWindowRowsAsGeneral checks the one-walk rows of GROUP BY time
// (windowRows, over dense window states whose arrays and states are reused
// from call to call) against the general path (assembleCall, mergeCallRows,
// fresh states): every fill, empty windows at both ends of the range, one
// call and several, the queries run in one order on one executor and in
// another on a second, so that a state or array left over from an earlier
// query would show.
func TestWindowRowsAsGeneral(t *testing.T) {
	env := newSelEnv(t, Limits{})
	workersData(t, env)
	rng := fmt.Sprintf("time >= %d AND time < %d", t0-30*int64(time.Minute), t0+4*selHour)
	var queries []string
	for _, sel := range []string{
		"count(i)", "sum(x)", "mean(x)", "mean(i)", "min(i)", "max(x)", "first(x)", "last(i)", "spread(i)",
		"stddev(x)", "median(i)", "max(i), min(x), count(x)", "mean(x) * 2, sum(i)", "count(s), first(s)", "last(b)",
	} {
		for _, fill := range []string{"", " fill(none)", " fill(null)", " fill(previous)", " fill(7)", " fill(linear)"} {
			for _, by := range []string{"time(25m)", "time(1h)", "time(7m), rack", "time(1h), host"} {
				queries = append(queries, "SELECT "+sel+" FROM cpu WHERE "+rng+" GROUP BY "+by+fill)
			}
		}
	}
	general := NewExecutor(env.eng, nil, Limits{})
	general.generalRows = true
	second := NewExecutor(env.eng, nil, Limits{})
	run := func(ex *Executor, q string) string { return runJSON(t, env, ex, q) }
	want := make([]string, len(queries))
	for i, q := range queries {
		want[i] = run(general, q)
	}
	rows := 0
	for i, q := range queries {
		if got := run(env.ex, q); got != want[i] {
			t.Errorf("%s:\nwindowRows: %s\ngeneral:    %s", q, got, want[i])
		}
		if !containsErr(want[i]) && strings.Count(want[i], "],[") >= 3 {
			rows++
		}
	}
	for _, i := range rand.New(rand.NewSource(3)).Perm(len(queries)) {
		if got := run(second, queries[i]); got != want[i] {
			t.Errorf("%s (shuffled):\nwindowRows: %s\ngeneral:    %s", queries[i], got, want[i])
		}
	}
	if rows < len(queries)*3/4 {
		t.Fatalf("only %d of %d queries answered with rows", rows, len(queries))
	}
}

// TestDenseBufsComeBackClean: the dense states' arrays are cleared only up
// to their length when put back (putDenseBufs), which is sound only while
// everything beyond it is clean already. Queries of many windows, then of a
// few with a wide range (the arrays' capacity kept, little of it used), then
// many again on one executor must answer as a fresh executor does, and every
// array the pool holds must be clean to its capacity.
func TestDenseBufsComeBackClean(t *testing.T) {
	env := newSelEnv(t, Limits{})
	workersData(t, env)
	wide := fmt.Sprintf("time >= %d AND time < %d", t0, t0+3*selHour)
	narrow := fmt.Sprintf("time >= %d AND time < %d", t0+selHour, t0+selHour+10*int64(time.Minute))
	queries := []string{
		"SELECT max(x), count(i) FROM cpu WHERE " + wide + " GROUP BY time(1m), host",
		"SELECT mean(x) FROM cpu WHERE " + narrow + " GROUP BY time(5m), host fill(none)",
		"SELECT median(i) FROM cpu WHERE " + narrow + " GROUP BY time(1m) fill(none)",
		"SELECT max(x), count(i) FROM cpu WHERE " + wide + " AND host = 'h03' GROUP BY time(1m) fill(none)",
		"SELECT median(i), first(s) FROM cpu WHERE " + wide + " GROUP BY time(2m), rack",
	}
	run := func(ex *Executor, q string) string { return runJSON(t, env, ex, q) }
	for round := 0; round < 3; round++ {
		for _, q := range queries {
			if got, want := run(env.ex, q), run(NewExecutor(env.eng, nil, Limits{}), q); got != want {
				t.Fatalf("round %d, %s:\nreused arrays: %.300s\nfresh:         %.300s", round, q, got, want)
			}
		}
	}
	checked := 0
	for k := 0; k < 16; k++ { // the pool's arrays, as many as it gives
		b, ok := env.ex.denseBufs.Get().(*denseBufs)
		if !ok {
			break
		}
		checked++
		for i, s := range b.slot[:cap(b.slot)] {
			if s != 0 {
				t.Fatalf("slot %d of %d holds %d", i, cap(b.slot), s)
			}
		}
		for i, e := range b.states[:cap(b.states)] {
			if _, resettable := e.st.(partial.Resetter); e.ws != 0 || e.series != 0 || (e.st != nil && !resettable) {
				t.Fatalf("state %d of %d not clean: %+v", i, cap(b.states), e)
			}
		}
		for i, p := range b.pts[:cap(b.pts)] {
			if p.Value != nil || p.Aux != nil || p.Time != 0 {
				t.Fatalf("point %d of %d not clean: %+v", i, cap(b.pts), p)
			}
		}
	}
	if checked == 0 {
		t.Fatal("the pool gave back no arrays to check")
	}
}
