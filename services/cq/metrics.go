package cq

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	runs          *prometheus.CounterVec
	windows       prometheus.Counter
	lateWindows   prometheus.Counter
	beyondHorizon prometheus.Counter
	duration      prometheus.Histogram
	lag           *prometheus.GaugeVec
	backoff       *prometheus.GaugeVec
	runner        prometheus.Gauge   // node sets: 1 while this node runs the queries
	peerMarks     prometheus.Counter // node sets: (query, group) marks taken from the other nodes
	takeErrors    prometheus.Counter // node sets: passes skipped, a node did not hand its marks
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_cq_runs_total",
			Help: "Runs of continuous queries (a query's due and dirty windows), by result (ok, error).",
		}, []string{"result"}),
		windows: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_cq_windows_computed_total",
			Help: "GROUP BY windows continuous queries computed (scheduled and late), counted once per group recomputed or once per scheduled run.",
		}),
		lateWindows: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_cq_late_windows_recomputed_total",
			Help: "(query, series group, window) units recomputed because a write, overwrite, DELETE or DROP SERIES changed them after they were computed.",
		}),
		beyondHorizon: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_cq_late_points_beyond_horizon_total",
			Help: "Late points older than --cq-late-horizon: stored, but the rollup is not recomputed for them.",
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "strata_cq_run_duration_seconds",
			Help:    "Duration of one continuous query run.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "strata_cq_lag_seconds",
			Help: "How far behind now the end of a continuous query's last scheduled window is (one interval when keeping up).",
		}, []string{"cq"}),
		backoff: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "strata_cq_backoff_seconds",
			Help: "Wait before a failing continuous query runs again; 0 while healthy.",
		}, []string{"cq"}),
		runner: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "strata_cq_runner",
			Help: "In a node set: 1 while this node runs the continuous queries (it owns partition 0 of the data topic), 0 otherwise.",
		}),
		peerMarks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_cq_peer_marks_taken_total",
			Help: "In a node set: dirty (query, series group) marks the runner took from the other nodes' late data.",
		}),
		takeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_cq_peer_take_errors_total",
			Help: "In a node set: runner passes that computed nothing because a node did not hand over its marks.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.runs, m.windows, m.lateWindows, m.beyondHorizon, m.duration, m.lag, m.backoff, m.runner, m.peerMarks, m.takeErrors)
	}
	return m
}

// forget drops the labelled series of a dropped query.
func (m *metrics) forget(d *definition) {
	m.lag.DeleteLabelValues(d.db + "." + d.name)
	m.backoff.DeleteLabelValues(d.db + "." + d.name)
}
