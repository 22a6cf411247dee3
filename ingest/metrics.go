package ingest

import "github.com/prometheus/client_golang/prometheus"

type writeMetrics struct {
	duration prometheus.Histogram
	bytes    prometheus.Counter
	points   prometheus.Counter
	dropped  prometheus.Counter

	admitted  prometheus.Counter // bodies read within the in-flight budget
	throttled prometheus.Counter // bodies refused with 429: budget spent
}

func newWriteMetrics(reg prometheus.Registerer, inflight *ByteBudget) *writeMetrics {
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
		admitted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_write_requests_admitted_total",
			Help: "Write requests whose body was read in full within the in-flight byte budget.",
		}),
		throttled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_write_requests_throttled_total",
			Help: "Write requests answered 429: the in-flight byte budget (--max-inflight-write-bytes) was spent by other requests.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.duration, m.bytes, m.points, m.dropped, m.admitted, m.throttled,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "strata_write_inflight_bytes",
				Help: "Bytes reserved now by write request bodies being read or parsed (limit: --max-inflight-write-bytes).",
			}, func() float64 { return float64(inflight.Used()) }))
	}
	return m
}
