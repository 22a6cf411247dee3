package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-db/strata/query/resultcache"
)

// registerCacheMetrics exports the result cache's counters (docs/cache.md).
func registerCacheMetrics(reg prometheus.Registerer, c *resultcache.Cache) {
	counter := func(name, help string, v func(resultcache.Stats) int64) {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(v(c.Stats())) }))
	}
	gauge := func(name, help string, v func(resultcache.Stats) int64) {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help},
			func() float64 { return float64(v(c.Stats())) }))
	}
	counter("strata_query_cache_hits_total", "Windows of GROUP BY time aggregates answered from the result cache.",
		func(s resultcache.Stats) int64 { return s.Hits })
	counter("strata_query_cache_misses_total", "Cacheable windows computed from storage (not cached, or invalidated).",
		func(s resultcache.Stats) int64 { return s.Misses })
	counter("strata_query_cache_invalidations_total", "Cached windows dropped because a write, DELETE or DROP touched them after they were computed.",
		func(s resultcache.Stats) int64 { return s.Invalidations })
	counter("strata_query_cache_evictions_total", "Cached windows dropped to keep the cache within --query-cache-size.",
		func(s resultcache.Stats) int64 { return s.Evictions })
	counter("strata_query_cache_unadmitted_total", "Group and call keys run without the result cache at their first sight (cached from the second).",
		func(s resultcache.Stats) int64 { return s.Unadmitted })
	gauge("strata_query_cache_bytes", "Bytes the result cache holds.", func(s resultcache.Stats) int64 { return s.Bytes })
	gauge("strata_query_cache_entries", "Statement, group and call entries the result cache holds.",
		func(s resultcache.Stats) int64 { return int64(s.Entries) })
}
