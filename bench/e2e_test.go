package bench

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/strata-db/strata/httpapi"
	"github.com/strata-db/strata/ingest"
	"github.com/strata-db/strata/query"
	"github.com/strata-db/strata/storage"
)

// embeddedStrata starts the real write and query handlers on a real engine in dir,
// as cmd/strata's serve does, and stops them the same way: no new requests, then
// Close, which flushes.
func embeddedStrata(t *testing.T, dir string) *Embedded {
	return &Embedded{DataDir: dir, Start: func() (string, func() error, error) {
		log := slog.New(slog.DiscardHandler)
		eng, err := storage.Open(storage.Options{Dir: dir, NoSync: true, Logger: log})
		if err != nil {
			return "", nil, err
		}
		mux := http.NewServeMux()
		w := ingest.NewHandler(eng, ingest.Options{Logger: log})
		mux.HandleFunc("/write", w.ServeV1)
		mux.Handle("/query", httpapi.NewQueryHandler(query.NewExecutor(eng, log, query.Limits{}), log))
		srv := httptest.NewServer(mux)
		return srv.URL, func() error { srv.Close(); return eng.Close() }, nil
	}}
}

func tinyOptions() Options {
	g := DefaultGenConfig()
	g.Hosts, g.Duration, g.BatchLines = 2, 10*time.Minute, 50
	return Options{Gen: g, DB: "benchmark", Workers: 2, QueryRuns: 1}
}

// TestRun_Embedded is the write path's smoke test: strata bench with tiny
// parameters against an embedded Strata.
func TestRun_Embedded(t *testing.T) {
	for _, gz := range []bool{false, true} {
		opts := tinyOptions()
		opts.Gen.Gzip = gz
		opts.Embedded = embeddedStrata(t, t.TempDir())
		rep, err := Run(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Load.Failed != 0 || rep.Load.Requests != 3 || rep.Load.LinesAccepted != 120 {
			t.Fatalf("gzip=%v: load %+v", gz, rep.Load)
		}
		if rep.ValuesPerSec <= 0 || rep.BytesPerValue <= 0 || rep.BytesPerValueDU <= 0 || rep.Values != 1200 {
			t.Fatalf("gzip=%v: values/s %v, bytes/value %v, values %d", gz, rep.ValuesPerSec, rep.BytesPerValue, rep.Values)
		}
		var table strings.Builder
		if err := rep.WriteTable(&table); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"values/s", "failed requests   0 of 3", "bytes/value", "peak RSS"} {
			if !strings.Contains(table.String(), want) {
				t.Errorf("table lacks %q:\n%s", want, table.String())
			}
		}
		if _, err := json.Marshal(rep); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRun_EmbeddedQueries: every query type runs and is accounted for, whatever
// the server answers; a failing query never aborts the run.
func TestRun_EmbeddedQueries(t *testing.T) {
	opts := tinyOptions()
	opts.Queries = true
	opts.Embedded = embeddedStrata(t, t.TempDir())
	rep, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Queries) != len(QueryTypes) {
		t.Fatalf("%d query stats", len(rep.Queries))
	}
	for _, q := range rep.Queries {
		if q.OK+q.Failed+q.Wrong != 1 || q.Example == "" {
			t.Errorf("%+v", q)
		}
		if q.OK != 1 && q.FirstError == "" {
			t.Errorf("%s: not ok and no error", q.Type)
		}
	}
}

// fakeInflux answers /query with the expected answer of each planned query, in
// InfluxDB's JSON, broken as mode says.
func fakeInflux(t *testing.T, d *Dataset, plan [][]Query, mode string) *httptest.Server {
	answers := map[string]Result{}
	for _, qs := range plan {
		for _, q := range qs {
			r, err := Expected(d, q)
			if err != nil {
				t.Fatal(err)
			}
			answers[q.Text] = r
		}
	}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/query" || r.URL.Query().Get("db") != "benchmark" {
			http.NotFound(w, r)
			return
		}
		res, ok := answers[r.URL.Query().Get("q")]
		if !ok || mode == "error" {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error": "error parsing query: nope"})
			return
		}
		var series []map[string]any
		for i, s := range res.Series {
			var rows [][]any
			for j, row := range s.Values {
				out := make([]any, len(row))
				for k, v := range row {
					if k == 0 {
						v = time.Unix(0, v.(int64)).UTC().Format(time.RFC3339Nano)
					}
					if f, ok := v.(float64); ok && mode == "wrong" && i == 0 && j == 0 {
						v = f + 0.01
					}
					out[k] = v
				}
				rows = append(rows, out)
			}
			series = append(series, map[string]any{"name": s.Name, "tags": s.Tags, "columns": s.Columns, "values": rows})
		}
		json.NewEncoder(w).Encode(map[string]any{"results": []any{map[string]any{"statement_id": 0, "series": series}}})
	}))
}

func TestRunQueries_Fake(t *testing.T) {
	c := DefaultGenConfig()
	c.Hosts, c.Duration = 10, 13*time.Hour
	d := mustGenerate(t, c)
	const runs = 3
	plan, err := PlanQueries(c.Seed, d, QueryTypes, runs)
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"right", "wrong", "error"} {
		t.Run(mode, func(t *testing.T) {
			srv := fakeInflux(t, d, plan, mode)
			defer srv.Close()
			stats, err := RunQueries(context.Background(), QueryConfig{URL: srv.URL, DB: "benchmark", Runs: runs, Seed: c.Seed}, d)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range stats {
				var want int
				switch mode {
				case "right":
					want = s.OK
				case "wrong":
					want = s.Wrong + s.OK // an answer without floats (no match) cannot be made wrong
					if s.Wrong == 0 {
						t.Errorf("%s: no wrong answer detected", s.Type)
					}
				case "error":
					want = s.Failed
				}
				if want != runs || s.Median <= 0 || s.P99 < s.Median {
					t.Errorf("%s: %+v", s.Type, s)
				}
			}
		})
	}
}
