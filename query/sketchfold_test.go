package query

import (
	"fmt"
	"math/rand"
	"testing"
)

// TestSketchFoldStoredEqualsHead: the sketches over stored blocks (each
// lying in one window folded by its values alone, sketchfold.go; a tag's
// rows counted from times decoded without values, tagarg.go) are byte for
// byte those over the same points in the head, read as whole columns. The
// sketch_ functions return the sketch itself, so any difference in a
// register or counter shows. Twenty series let the group split across
// cores where there are two.
func TestSketchFoldStoredEqualsHead(t *testing.T) {
	env := newSelEnv(t, Limits{})
	rng := rand.New(rand.NewSource(9))
	var pts []selPt
	for h := 0; h < 20; h++ {
		tags := map[string]string{"hostname": fmt.Sprintf("host_%d", h%7), "rack": fmt.Sprint(h)}
		walk := rng.Intn(10001)
		for ts := t0; ts < t0+24*selHour; ts += 60 * int64(1e9) {
			walk = min(max(walk+rng.Intn(201)-100, 0), 10000)
			fields := map[string]any{
				"dec": float64(walk) / 100, // decimal floats
				// decimals past an HLL's memo of mantissas (hll_decimal.go)
				"wide": float64(rng.Intn(1_000_000)-500_000) / 1000,
				"xor":  rng.NormFloat64(),     // XOR floats
				"n":    int64(rng.Intn(5000)), // integers
				// TSBS's own integer percentages: blocks skipped on their
				// headers once the first ones are folded
				"pct": int64(rng.Intn(101)),
				// and their decimal likes, skipped on their headers' range
				"frac": float64(rng.Intn(201)) / 100,
			}
			if ts%(7*60*int64(1e9)) == 0 {
				delete(fields, "xor") // the tag's rows: fields with different times
			}
			pts = append(pts, selPt{m: "m", tags: tags, t: ts, fields: fields})
		}
	}
	env.write(t, pts...)
	day := fmt.Sprintf(" FROM m WHERE time >= %d AND time < %d", t0, t0+24*selHour)
	var queries []string
	for _, f := range []string{"dec", "wide", "xor", "n", "pct", "frac"} {
		for _, call := range []string{"sketch_count_distinct(%s)", "sketch_percentile(%s)", "sketch_count(%s)", "approx_count_distinct(%s)", "approx_percentile(%s, 99)"} {
			queries = append(queries, "SELECT "+fmt.Sprintf(call, f)+day)
		}
	}
	queries = append(queries,
		"SELECT sketch_count_distinct(dec)"+day+" GROUP BY time(1d)",
		"SELECT sketch_count_distinct(dec), sketch_count_distinct(wide)"+day+" GROUP BY time(1h)",
		"SELECT sketch_count_distinct(n)"+day+" GROUP BY time(6h), hostname",
		"SELECT sketch_count_distinct(hostname), sketch_count(hostname)"+day,
		"SELECT sketch_count_distinct(hostname), sketch_count(hostname)"+day+" GROUP BY time(1h)",
	)
	render := func(q string) string {
		res := env.runResult(t, q)
		if res.Err != "" || len(res.Series) == 0 {
			t.Fatalf("%s: %q, %d series", q, res.Err, len(res.Series))
		}
		return renderJSON(t, res)
	}
	head := map[string]string{}
	for _, q := range queries {
		head[q] = render(q)
	}
	if err := env.eng.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, q := range queries {
		if got := render(q); got != head[q] {
			t.Errorf("%s\nstored: %.300s\nhead:   %.300s", q, got, head[q])
		}
	}
}
