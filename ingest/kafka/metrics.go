package kafka

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	records, bytes, points, rejected prometheus.Counter
	duplicates, rebalances, pauses   prometheus.Counter
	errors, conflicts                prometheus.Counter
	lag                              *prometheus.GaugeVec
}

// newMetrics registers the consumer's metrics, labelled with its name so several
// consumers of one server stay apart.
func newMetrics(reg prometheus.Registerer, name string) *metrics {
	l := prometheus.Labels{"consumer": name}
	counter := func(n, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: n, Help: help, ConstLabels: l})
	}
	m := &metrics{
		records:    counter("strata_kafka_records_total", "Kafka records consumed and stored (with their offsets)."),
		bytes:      counter("strata_kafka_bytes_total", "Bytes of Kafka record values consumed."),
		points:     counter("strata_kafka_points_total", "Points written from Kafka records."),
		rejected:   counter("strata_kafka_points_rejected_total", "Points of Kafka records refused by storage (type conflicts, limits); kept as dead letters."),
		duplicates: counter("strata_kafka_duplicates_skipped_total", "Records delivered again below the stored offset, skipped."),
		rebalances: counter("strata_kafka_rebalances_total", "Partition assignments received from the consumer group."),
		pauses:     counter("strata_kafka_pauses_total", "Times fetching paused: storage over its memory budget, or a batch that could not be stored."),
		errors:     counter("strata_kafka_errors_total", "Fetch and write errors of the consumer."),
		conflicts:  counter("strata_kafka_offset_conflicts_total", "Batches refused because another member had stored the partition meanwhile; consumed again from its offset."),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "strata_kafka_lag_records", ConstLabels: l,
			Help: "Records of an owned partition not yet stored (high watermark minus stored offset)."}, []string{"topic", "partition"}),
	}
	if reg != nil {
		reg.MustRegister(m.records, m.bytes, m.points, m.rejected, m.duplicates, m.rebalances, m.pauses, m.errors, m.conflicts, m.lag)
	}
	return m
}
