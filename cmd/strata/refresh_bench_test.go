package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/strata-db/strata/bench"
)

// BenchmarkDashboardRefresh is TestGrafanaRefresh's panel query, answered by
// the server's whole handler stack but without a socket or a client: what
// the server itself spends on a refresh, steady enough to compare changes to
// the cached path (TestGrafanaRefresh's wall times swing by half on this
// shared machine). 100 hosts, the day up to now at 10 s; each iteration asks
// for the 6 hours up to the present, as Grafana does (epoch=ms), so the
// range moves on between iterations as a refresh's does. cached is the
// server with the result cache, cold the one without; the ratio of their
// ns/op is the refresh's speed-up less the fixed cost of HTTP on loopback.
//
// The -live pair is a dashboard over live ingest: the day ends 6 hours
// ago, and each iteration moves a clock of its own on by 10 s, writes a
// point per host at it (untimed) and asks for the 6 hours up to it, both
// ends given as Grafana's $timeFilter gives them. So each refresh finds
// its open window written since the last and its first window cut at a
// new place, as a refresh every 10 s of 10 s data does; without writes,
// the open window of the plain pair soon holds no point at all.
//
//	go test ./cmd/strata -run X -bench DashboardRefresh
func BenchmarkDashboardRefresh(b *testing.B) {
	end := time.Now().Truncate(10 * time.Second)
	cfg := bench.DefaultGenConfig()
	cfg.Hosts, cfg.Duration, cfg.Start = 100, 24*time.Hour, end.Add(-24*time.Hour)
	d, err := bench.Generate(cfg)
	if err != nil {
		b.Fatal(err)
	}
	cfg.Start = end.Add(-30 * time.Hour)
	lagged, err := bench.Generate(cfg) // the same day, ending 6 hours ago
	if err != nil {
		b.Fatal(err)
	}
	for _, run := range []struct {
		name  string
		cache int64
		live  bool
	}{{"cached", 64 << 20, false}, {"cold", 0, false}, {"cached-live", 64 << 20, true}, {"cold-live", 0, true}} {
		b.Run(run.name, func(b *testing.B) {
			sc := testConfig(b.TempDir())
			sc.queryCache = run.cache
			s, err := startServer(sc, quietLogger())
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.shutdown(10 * time.Second) })
			base := "http://" + s.Addr()
			post := func(u string, body []byte) {
				resp, err := http.Post(u, "text/plain", bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					b.Fatalf("%s: %d", u, resp.StatusCode)
				}
			}
			post(base+"/query?q="+url.QueryEscape(`CREATE DATABASE "benchmark"`), nil)
			data := d
			if run.live {
				data = lagged
			}
			for _, body := range data.Bodies {
				post(base+"/write?db=benchmark", body)
			}
			h := s.http.Handler
			w := &discardResponse{header: http.Header{}}
			clock := end.Add(-6 * time.Hour) // the live runs' now
			// 10 s a refresh, less when b.N would run the clock past the
			// present (where windows are not cached yet).
			step := min(10*time.Second, 5*time.Hour/time.Duration(max(b.N, 1)))
			refresh := func() {
				var q string
				if !run.live {
					q = fmt.Sprintf("SELECT mean(usage_user) FROM cpu WHERE time > %d GROUP BY time(1m), hostname", time.Now().Add(-6*time.Hour).UnixNano())
				} else {
					clock = clock.Add(step)
					var lines bytes.Buffer
					for h := 0; h < cfg.Hosts; h++ {
						fmt.Fprintf(&lines, "cpu,hostname=host_%d usage_user=%d %d\n", h, h, clock.UnixNano())
					}
					b.StopTimer()
					post(base+"/write?db=benchmark", lines.Bytes())
					b.StartTimer()
					q = fmt.Sprintf("SELECT mean(usage_user) FROM cpu WHERE time >= %dms and time <= %dms GROUP BY time(1m), hostname",
						clock.Add(-6*time.Hour).UnixMilli(), clock.UnixMilli())
				}
				req, err := http.NewRequest("GET", "/query?db=benchmark&epoch=ms&q="+url.QueryEscape(q), nil)
				if err != nil {
					b.Fatal(err)
				}
				req.RemoteAddr, req.Host = "127.0.0.1:1", s.Addr()
				w.reset()
				h.ServeHTTP(w, req)
				if w.status != 200 || w.n < 1<<19 || bytes.Contains(w.head, []byte(`"error"`)) {
					b.Fatalf("%d, %d bytes: %.300s", w.status, w.n, w.head)
				}
			}
			refresh() // the first sight runs uncached,
			refresh() // the second fills the cache
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				refresh()
			}
		})
	}
}

// discardResponse is an http.ResponseWriter that keeps only the status, the
// byte count and the first bytes of the body.
type discardResponse struct {
	header http.Header
	status int
	n      int
	head   []byte
}

func (w *discardResponse) reset() {
	clear(w.header)
	w.status, w.n, w.head = 0, 0, w.head[:0]
}

func (w *discardResponse) Header() http.Header { return w.header }

func (w *discardResponse) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *discardResponse) Write(p []byte) (int, error) {
	w.WriteHeader(200)
	if len(w.head) < 512 {
		w.head = append(w.head, p[:min(len(p), 512-len(w.head))]...)
	}
	w.n += len(p)
	return len(p), nil
}

func (w *discardResponse) Flush() {}
