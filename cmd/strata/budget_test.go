package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestQueryMemoryBudget checks --max-query-memory over HTTP: an unchunked answer
// larger than the budget ends with the limit error in results[0].error, while the
// same SELECT chunked streams in full, its first chunk leaving at once.
func TestQueryMemoryBudget(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.maxQueryMem = 4 << 20
	s, base := startTestServer(t, cfg)
	defer s.shutdown(5 * time.Second)
	if r := runQuery(t, base, "CREATE DATABASE big"); r.status != 200 {
		t.Fatal(r.body)
	}
	const hosts, n = 4, 25_000
	var b strings.Builder
	for h := 0; h < hosts; h++ {
		b.Reset()
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "cpu,host=h%d a=%d.25,b=%di %d\n", h, i, i, int64(1_600_000_000)*1e9+int64(i)*1e9)
		}
		if r := do(t, "POST", base+"/write?db=big", []byte(b.String()), nil); r.status != 204 {
			t.Fatal(r.body)
		}
	}
	q := url.QueryEscape("SELECT * FROM cpu")

	// Unchunked: about 6 MB of JSON held until the statement ends.
	r := do(t, "GET", base+"/query?db=big&q="+q, nil, nil)
	var doc struct {
		Results []struct {
			Series []json.RawMessage `json:"series"`
			Error  string            `json:"error"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(r.body), &doc); err != nil {
		t.Fatalf("%v: %.200s", err, r.body)
	}
	if r.status != 200 || len(doc.Results) != 1 || !strings.HasPrefix(doc.Results[0].Error, "max-query-memory limit exceeded: (") ||
		len(doc.Results[0].Series) != 0 {
		t.Fatalf("unchunked over budget: %d %.300s", r.status, r.body)
	}

	// Chunked: every row arrives; the first chunk comes before the rest is read.
	start := time.Now()
	resp, err := http.Get(base + "/query?db=big&chunked=true&chunk_size=1000&q=" + q)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	rows, chunks := 0, 0
	for sc.Scan() {
		var chunk struct {
			Results []struct {
				Series []struct {
					Values [][]any `json:"values"`
				} `json:"series"`
				Error string `json:"error"`
			} `json:"results"`
		}
		if err := json.Unmarshal(sc.Bytes(), &chunk); err != nil {
			t.Fatalf("chunk %d: %v", chunks, err)
		}
		if chunks == 0 {
			t.Logf("first chunk after %v", time.Since(start))
		}
		chunks++
		for _, res := range chunk.Results {
			if res.Error != "" {
				t.Fatalf("chunk %d: %s", chunks, res.Error)
			}
			for _, s := range res.Series {
				rows += len(s.Values)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if rows != hosts*n || chunks != hosts*n/1000 {
		t.Fatalf("chunked: %d rows in %d chunks, want %d in %d", rows, chunks, hosts*n, hosts*n/1000)
	}
}

// TestMemoryPressureAdmission: with --memory-limit set, a live heap past 3/4
// of the Go budget makes writes answer 429 and queries 503, both with
// Retry-After, while /ping and SHOW QUERIES still answer; once the heap is
// given back, both are admitted again. The test process is the server, so a
// 400 MB ballast it holds is the server's live heap.
func TestMemoryPressureAdmission(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.memoryLimit = pebbleFixedBytes + 256<<20 // a Go budget of 256 MiB: refusals past 192 MiB live
	s, base := startTestServer(t, cfg)
	defer s.shutdown(5 * time.Second)
	if r := runQuery(t, base, "CREATE DATABASE db"); r.status != 200 {
		t.Fatal(r.body)
	}
	settle := func() { runtime.GC(); time.Sleep(2 * heapSampleEvery) }

	ballast := make([]byte, 400<<20)
	settle()
	w := do(t, "POST", base+"/write?db=db", []byte("cpu v=1 1\n"), nil)
	if w.status != 429 || w.header.Get("Retry-After") == "" || !strings.Contains(w.body, "near its memory limit") {
		t.Errorf("write near the limit: %d %v %s", w.status, w.header, w.body)
	}
	q := runQuery(t, base, "SELECT v FROM db..cpu")
	if q.status != 503 || q.header.Get("Retry-After") == "" || !strings.Contains(q.body, "near its memory limit") {
		t.Errorf("query near the limit: %d %v %s", q.status, q.header, q.body)
	}
	if r := do(t, "GET", base+"/ping", nil, nil); r.status != 204 {
		t.Errorf("/ping near the limit: %d", r.status)
	}
	if r := runQuery(t, base, "SHOW QUERIES"); r.status != 200 {
		t.Errorf("SHOW QUERIES near the limit: %d %s", r.status, r.body)
	}
	runtime.KeepAlive(ballast)

	ballast = nil
	settle()
	if w := do(t, "POST", base+"/write?db=db", []byte("cpu v=1 1\n"), nil); w.status != 204 {
		t.Fatalf("write after the heap was given back: %d %s", w.status, w.body)
	}
	if q := runQuery(t, base, "SELECT v FROM db..cpu"); q.status != 200 || !strings.Contains(q.body, `"values"`) {
		t.Fatalf("query after the heap was given back: %d %s", q.status, q.body)
	}
}
