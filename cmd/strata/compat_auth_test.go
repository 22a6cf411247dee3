package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// authCompatEntry is one line of testdata/compat/auth.jsonl: a queryCompatEntry
// with the response headers 1.6.7 sent.
type authCompatEntry struct {
	queryCompatEntry
	ResponseHeaders map[string]string `json:"response_headers"`
}

// TestCompatAuth replays InfluxDB 1.6.7's answers on a fresh auth-enabled server
// (testdata/compat/auth.jsonl) in order: status, body, and the two headers that
// carry meaning for clients (the 401 challenge, the error header).
func TestCompatAuth(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.authEnabled = true
	s, base := startTestServer(t, cfg)
	defer s.shutdown(10 * time.Second)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableCompression: true}}

	f, err := os.Open("../../testdata/compat/auth.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	matched, total := 0, 0
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var e authCompatEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		total++
		status, body, hdr := sendAuthCompat(t, client, base, e)
		problems := compareCompat(e.queryCompatEntry, status, body)
		for _, h := range []string{"www-authenticate", "x-influxdb-error"} {
			if want, got := e.ResponseHeaders[h], hdr.Get(h); want != got {
				problems = append(problems, h+": "+clip(got)+" != "+clip(want))
			}
		}
		if len(problems) > 0 {
			t.Errorf("%s [%s %s %v]:\n  %s", e.Name, e.Method, e.Path, e.Params, strings.Join(problems, "\n  "))
			continue
		}
		matched++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if total != 26 {
		t.Errorf("corpus has %d entries, want 26", total)
	}
	t.Logf("%d of %d auth entries match InfluxDB 1.6.7", matched, total)
}

func sendAuthCompat(t *testing.T, client *http.Client, base string, e authCompatEntry) (int, string, http.Header) {
	t.Helper()
	q := url.Values{}
	for k, v := range e.Params {
		q.Set(k, v)
	}
	u := base + e.Path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var body *strings.Reader
	if e.Body != nil {
		body = strings.NewReader(*e.Body)
	} else {
		body = strings.NewReader("")
	}
	req, err := http.NewRequest(e.Method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range e.Headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", e.Name, err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String(), resp.Header
}
