package main

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

// TestSketchSplitAcrossCores: a group's series folded on several cores
// (query/sketchsplit.go) give the sketches of one core byte for byte, for
// every exactly merging sketch, stored and in the head, with GROUP BY time
// and over a tag; Space-Saving, which does not split, too.
func TestSketchSplitAcrossCores(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.queryCache = 0 // the result cache's path folds on one core
	s, base := startTestServer(t, cfg)
	if r := runQuery(t, base, `CREATE DATABASE "web"`); r.status != 200 {
		t.Fatalf("create database: %d %s", r.status, r.body)
	}
	write := func(from, to int) {
		rng := rand.New(rand.NewPCG(uint64(from), 5))
		var b strings.Builder
		for i := from; i < to; i++ {
			for h := 0; h < 40; h++ {
				fmt.Fprintf(&b, "m,host=h%d,dc=d%d v=%d,f=%.2f %d\n", h, h%3, rng.IntN(5000), rng.Float64()*100, int64(i)*1e9)
			}
		}
		if r := do(t, "POST", base+"/write?db=web", []byte(b.String()), nil); r.status != 204 {
			t.Fatalf("write: %d %s", r.status, r.body)
		}
	}
	write(0, 600)
	if err := s.eng.Flush(); err != nil {
		t.Fatal(err)
	}
	write(600, 700) // and some in the head
	const r = ` WHERE time >= 0 AND time < 700s`
	queries := []string{
		"SELECT sketch_count_distinct(v), sketch_count_distinct(f), sketch_percentile(f), sketch_count(v) FROM m" + r,
		"SELECT approx_count_distinct(f), approx_percentile(f, 99), approx_median(v), approx_count(v, 7) FROM m" + r,
		"SELECT sketch_count_distinct(f) FROM m" + r + " GROUP BY time(100s)",
		"SELECT sketch_count_distinct(host), sketch_count(host) FROM m" + r + " GROUP BY time(100s)",
		"SELECT sketch_top_k(v, 3) FROM m" + r,
	}
	answers := func() []string {
		var out []string
		for _, q := range queries {
			out = append(out, answer(t, base, strings.ReplaceAll(q, "FROM m", "FROM web.autogen.m")))
		}
		return out
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	one := answers()
	runtime.GOMAXPROCS(4) // one group, 40 series: four shares of ten
	split := answers()
	for i, q := range queries {
		if strings.HasPrefix(one[i], "error") || one[i] == "null" {
			t.Fatalf("%s: %s", q, one[i])
		}
		if split[i] != one[i] {
			t.Errorf("%s: on four cores\n%.300s\non one\n%.300s", q, split[i], one[i])
		}
	}
}
