package main

import (
	"io"
	"testing"
)

// TestMemoryPlan: --memory-limit derives the budgets not set explicitly, keeps
// the ones given, and changes nothing without a limit.
func TestMemoryPlan(t *testing.T) {
	parse := func(args ...string) serveConfig {
		var cfg serveConfig
		fs := serveFlags(&cfg, defaultServeConfig(), io.Discard)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		applyMemoryPlan(&cfg, fs)
		return cfg
	}
	d := defaultServeConfig()
	if got := parse(); got.maxInflight != d.maxInflight || got.headMaxBytes != d.headMaxBytes || got.maxQueryMem != d.maxQueryMem {
		t.Fatalf("no limit changed the defaults: %+v", got)
	}

	const gib = 1 << 30
	cfg := parse("--memory-limit", "1073741824", "--max-concurrent-queries", "4", "--head-max-bytes", "1048576")
	goBudget := int64(gib - 192<<20)
	for _, c := range []struct {
		name      string
		got, want int64
	}{
		{"in-flight writes", cfg.maxInflight, goBudget / 8},
		{"head (explicit)", cfg.headMaxBytes, 1 << 20},
		{"per query", cfg.maxQueryMem, goBudget / 4 / 4},
		{"series cache", cfg.seriesCache, goBudget / 32},
		{"postings cache", cfg.postingsCache, goBudget / 32},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.name, c.got, c.want)
		}
	}
	p := planMemory(gib, 4)
	held := 2*p.inflight + 3*p.headMax + 4*p.queryMem + p.seriesCache + p.postings + pebbleFixedBytes
	if held > gib {
		t.Fatalf("the planned consumers hold %d MB of a %d MB limit", held>>20, gib>>20)
	}
	if p := planMemory(1<<20, 4); p.goLimit != minGoBudget || p.inflight <= 0 {
		t.Fatalf("a tiny limit: %+v", p)
	}
}
