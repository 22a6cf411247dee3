package storage

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the engine's Prometheus instruments. With a nil Registerer they are
// still updated, just not exported.
type metrics struct {
	reg           prometheus.Registerer
	collectors    []prometheus.Collector
	pointsWritten prometheus.Counter
	writeDuration prometheus.Histogram
	flushDuration prometheus.Histogram
	writeStalls   prometheus.Counter
	stallSeconds  prometheus.Counter
	replayOrphans prometheus.Counter
	indexErrors   prometheus.Counter

	blockSeeksSkipped prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, e *Engine) *metrics {
	m := &metrics{
		reg: reg,
		pointsWritten: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_storage_points_written_total",
			Help: "Points stored (acknowledged writes).",
		}),
		writeDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "strata_storage_write_duration_seconds",
			Help:    "Time from a batch entering the engine to it being durable.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		flushDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "strata_storage_flush_duration_seconds",
			Help:    "Time to write the head out as blocks.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14),
		}),
		writeStalls: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_storage_write_stalls_total",
			Help: "Writes that waited for a flush because the head was full.",
		}),
		stallSeconds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_storage_write_stall_seconds_total",
			Help: "Time writers waited for a flush because the head was full (twice --head-max-bytes while a flush runs).",
		}),
		replayOrphans: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_storage_replay_orphan_values_total",
			Help: "Values WAL replay dropped because the record defining their series was lost to damage.",
		}),
		indexErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_storage_index_background_errors_total",
			Help: "Pebble flushes and compactions of the index that failed (Pebble retries them at once; a full disk makes this climb fast).",
		}),
		blockSeeksSkipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_storage_block_seeks_skipped_total",
			Help: "Cursors read from the head alone because their range starts after the latest time any block holds.",
		}),
	}
	headBytes := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "strata_storage_head_bytes",
		Help: "Estimated memory held by the in-memory head (active and flushing).",
	}, func() float64 {
		e.headsMu.RLock()
		a, f := e.active, e.flushing
		e.headsMu.RUnlock()
		n := headSize(a)
		if f != nil {
			n += headSize(f)
		}
		return float64(n)
	})
	series := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "strata_storage_series",
		Help: "Series in all databases.",
	}, func() float64 {
		e.catMu.RLock()
		defer e.catMu.RUnlock()
		return float64(e.cat.seriesCount())
	})
	caches := newLRUCollector(e.idx.keys, e.idx.ids, e.idx.postings, e.marks)
	m.collectors = []prometheus.Collector{m.pointsWritten, m.writeDuration, m.flushDuration, m.writeStalls, m.stallSeconds, m.replayOrphans, m.indexErrors, m.blockSeeksSkipped, headBytes, series, caches}
	if reg != nil {
		for _, c := range m.collectors {
			reg.MustRegister(c)
		}
	}
	return m
}

func headSize(h *head) int64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.bytes
}

func (m *metrics) unregister() {
	if m.reg == nil {
		return
	}
	for _, c := range m.collectors {
		m.reg.Unregister(c)
	}
}
