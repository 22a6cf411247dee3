package main

import (
	"encoding/json"
	"net/http"

	"github.com/strata-db/strata/storage"
)

// healthHandler serves /health in InfluxDB's shape. While the engine cannot make
// writes durable (a full disk, a failing flush) it answers 503 with status "fail"
// and the reason, so a load balancer or operator sees the degraded state; queries
// keep working meanwhile.
func healthHandler(eng *storage.Engine) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		status, message, code := "pass", "ready for queries and writes", http.StatusOK
		checks := []any{}
		if err := eng.Health(); err != nil {
			status, code = "fail", http.StatusServiceUnavailable
			message = "writes unavailable, queries served: " + err.Error()
			checks = append(checks, map[string]string{"name": "storage", "status": "fail", "message": err.Error()})
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(map[string]any{
			"name":    "strata",
			"message": message,
			"status":  status,
			"checks":  checks,
			"version": version,
		})
	}
}

// defaultReadyMaxLag: 10,000 records is one poll of the consumer
// (--kafka-max-poll-records), under a second of catch-up on this machine's
// measured Kafka ingest, so a ready node answers with at most about a second
// of its partitions missing.
const defaultReadyMaxLag = 10_000

// readyHandler serves /ready, the Kubernetes readiness probe: 200 when this
// server can answer for its share of the data. Without Kafka ingest that is
// as soon as it listens. With it, every consumer must have been assigned
// partitions by the group and every owned partition must have a known lag of
// at most maxLag records (a partition no fetch has reported a high watermark
// for yet is not caught up). /health stays the liveness probe: a node
// catching up is alive, not ready.
func readyHandler(k *kafkaStatus, maxLag int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		reasons := k.notReady(maxLag)
		code, status := http.StatusOK, "ready"
		if len(reasons) > 0 {
			code, status = http.StatusServiceUnavailable, "not ready"
		} else {
			reasons = []string{}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(map[string]any{"status": status, "reasons": reasons, "max_lag": maxLag})
	}
}
