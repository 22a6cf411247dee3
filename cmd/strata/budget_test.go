package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
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
