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
