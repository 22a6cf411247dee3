package ingest

import "github.com/prometheus/client_golang/prometheus"

type writeMetrics struct {
	duration prometheus.Histogram
	bytes    prometheus.Counter
	points   prometheus.Counter
	dropped  prometheus.Counter
}

func newWriteMetrics(reg prometheus.Registerer) *writeMetrics {
	m := &writeMetrics{
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "strata_write_request_duration_seconds",
			Help:    "Time to answer a write request, from first byte to acknowledgement.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_write_bytes_total",
			Help: "Line-protocol bytes received (after decompression).",
		}),
		points: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_write_points_total",
			Help: "Points written and acknowledged.",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_write_points_dropped_total",
			Help: "Points rejected: unparsable lines, type conflicts, limits.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.duration, m.bytes, m.points, m.dropped)
	}
	return m
}
