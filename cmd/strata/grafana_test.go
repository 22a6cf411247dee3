package main

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestGrafanaDashboard checks docs/grafana/strata-dashboard.json against a
// running server: valid JSON, and every metric a panel queries is exported by
// /metrics, so the dashboard cannot drift from the code.
func TestGrafanaDashboard(t *testing.T) {
	b, err := os.ReadFile("../../docs/grafana/strata-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatal(err)
	}
	s, base := startTestServer(t, testConfig(t.TempDir()))
	defer s.shutdown(5 * time.Second)
	runQuery(t, base, "CREATE DATABASE db")
	do(t, "POST", base+"/write?db=db", []byte("m v=1"), nil)
	runQuery(t, base, "SELECT * FROM db..m")
	metrics := do(t, "GET", base+"/metrics", nil, nil).body
	exported := map[string]bool{}
	for _, line := range strings.Split(metrics, "\n") {
		if strings.HasPrefix(line, "# TYPE ") {
			exported[strings.Fields(line)[2]] = true
		}
	}
	// Label vectors appear in /metrics only once a child exists: a service
	// failure does not happen in this test.
	exported["strata_service_failures_total"] = true
	name := regexp.MustCompile(`\b((?:strata|process|go)_[a-z_]+)\b`)
	queried := 0
	for _, p := range dash.Panels {
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			for _, m := range name.FindAllString(tg.Expr, -1) {
				base := m
				for _, suf := range []string{"_bucket", "_sum", "_count"} {
					if !exported[base] {
						base = strings.TrimSuffix(base, suf)
					}
				}
				if !exported[base] {
					t.Errorf("panel %q queries %s, which /metrics does not export", p.Title, m)
				}
				queried++
			}
		}
	}
	if queried < 20 {
		t.Fatalf("only %d metric references found", queried)
	}
}
