package wal

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	fsyncDuration prometheus.Histogram
	batchRecords  prometheus.Histogram
	batchBytes    prometheus.Histogram
	bytesWritten  prometheus.Counter
	segments      prometheus.Gauge
	corruptions   prometheus.Counter
	writeFailures prometheus.Counter
	unavailable   prometheus.Gauge
	quarantined   prometheus.Counter
}

func newMetrics() *metrics {
	return &metrics{
		fsyncDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "strata_wal_fsync_duration_seconds",
			Help: "Duration of WAL fsync calls.",
			// 50µs (NVMe with a write cache) to ~1.6s (a stalled disk).
			Buckets: prometheus.ExponentialBuckets(50e-6, 2, 16),
		}),
		batchRecords: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "strata_wal_fsync_batch_records",
			Help: "Records made durable by one WAL fsync.",
			// 1 (idle) to 4096 (many writers behind a slow fsync).
			Buckets: prometheus.ExponentialBuckets(1, 2, 13),
		}),
		batchBytes: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "strata_wal_fsync_batch_bytes",
			Help: "Bytes made durable by one WAL fsync.",
			// 1 KiB to 1 GiB in factors of 4: one small record up to a full
			// backlog of the largest records.
			Buckets: prometheus.ExponentialBuckets(1024, 4, 11),
		}),
		bytesWritten: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_wal_bytes_written_total",
			Help: "Bytes written to WAL segment files, framing included.",
		}),
		segments: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "strata_wal_segments",
			Help: "Number of WAL segment files on disk.",
		}),
		corruptions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_wal_corruptions_total",
			Help: "Corruptions found in the WAL: torn tails repaired at open and damage skipped or reported by replay.",
		}),
		writeFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_wal_write_failures_total",
			Help: "WAL write or fsync failures (a full disk, an I/O error); each abandons the active segment.",
		}),
		unavailable: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "strata_wal_unavailable",
			Help: "1 while the WAL refuses records after a failure and retries starting a fresh segment.",
		}),
		quarantined: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_wal_quarantined_bytes_total",
			Help: "Damaged WAL bytes skipped by recovery and copied to the quarantine directory.",
		}),
	}
}

// register adds the collectors to reg, all or none. Errors are returned
// rather than panicking, so two open logs on one registry fail loudly at Open;
// Close unregisters, so a log can be reopened on the same registry.
func (m *metrics) register(reg prometheus.Registerer) error {
	if reg == nil {
		return nil
	}
	cs := m.collectors()
	for i, c := range cs {
		if err := reg.Register(c); err != nil {
			for _, done := range cs[:i] {
				reg.Unregister(done)
			}
			return fmt.Errorf("wal: register metrics: %w", err)
		}
	}
	return nil
}

func (m *metrics) unregister(reg prometheus.Registerer) {
	if reg == nil {
		return
	}
	for _, c := range m.collectors() {
		reg.Unregister(c)
	}
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.fsyncDuration, m.batchRecords, m.batchBytes, m.bytesWritten, m.segments, m.corruptions, m.writeFailures, m.unavailable, m.quarantined}
}
