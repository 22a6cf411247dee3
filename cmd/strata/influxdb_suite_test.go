package main

import (
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The replay of InfluxDB 1.6's own HTTP test suite (testdata/influxdb-tests,
// see its README): every case group gets a fresh server, its setup, writes and
// queries run in upstream order, and each answer must equal the expected JSON
// (object key order ignored), as the shared runner run.py checks them.

// suiteSkips are the case groups not replayed, with the reason. Everything else
// must pass.
var suiteSkips = map[string]string{
	"TestServer_Query_ShowStats": "SHOW STATS works, but the case first runs CREATE SUBSCRIPTION and looks for the subscriber module; Strata has no subscriptions",
}

// suiteDifferences are the answers where Strata deliberately differs from 1.6.7,
// keyed "group :: query name": the value replaces the expected answer.
var suiteDifferences = map[string]struct{ exp, why string }{
	"TestServer_Query_DropSeriesFromRegex :: Drop series with WHERE field should error": {
		`{"results":[{"statement_id":0,"error":"fields not supported in WHERE clause during deletion"}]}`,
		`1.x prefixes the shard the check failed in ("shard 1: "); Strata has no shards`},
}

// suiteFlags maps a case's server setting to `strata serve` flags.
var suiteFlags = map[string]func(v string) []string{
	"coordinator.max-select-series":  func(v string) []string { return []string{"--max-select-series", v} },
	"coordinator.max-select-buckets": func(v string) []string { return []string{"--max-select-buckets", v} },
	"coordinator.max-select-point":   func(v string) []string { return []string{"--max-select-points", v} },
	"meta.retention-autocreate":      func(v string) []string { return []string{"--retention-autocreate=" + v} },
	"http.auth-enabled": func(v string) []string {
		if v == "true" {
			return []string{"--auth-enabled"}
		}
		return nil
	},
}

type suiteCase struct {
	Name         string            `json:"name"`
	Config       map[string]string `json:"config"`
	UpstreamSkip string            `json:"upstream_skip"`
	Writes       []struct {
		Params map[string][]string `json:"params"`
		Body   string              `json:"body"`
		Expect struct {
			Error         bool    `json:"error"`
			Status        int     `json:"status"`
			ErrorContains *string `json:"error_contains"`
			Body          string  `json:"body"`
		} `json:"expect"`
	} `json:"writes"`
	Queries []struct {
		Name       string              `json:"name"`
		Command    string              `json:"command"`
		Params     map[string][]string `json:"params"`
		Exp        string              `json:"exp"`
		Pattern    bool                `json:"pattern"`
		Skip       bool                `json:"skip"`
		SkipReason string              `json:"skip_reason"`
		Repeat     int                 `json:"repeat"`
	} `json:"queries"`
	Steps []suiteStep `json:"steps"`
}

type suiteStep struct {
	Op              string   `json:"op"`
	I               int      `json:"i"`
	DB              string   `json:"db"`
	RP              string   `json:"rp"`
	DurationNS      int64    `json:"duration_ns"`
	ShardDurationNS int64    `json:"shard_duration_ns"`
	ReplicaN        int      `json:"replica_n"`
	Default         bool     `json:"default"`
	Name            string   `json:"name"`
	Mode            string   `json:"mode"`
	Destinations    []string `json:"destinations"`
}

func loadSuite(t *testing.T) []suiteCase {
	return readJSONL[suiteCase](t, "../../testdata/influxdb-tests/cases.jsonl")
}

// TestInfluxDBSuite replays the upstream suite. Groups run in parallel (go
// test's -parallel, GOMAXPROCS by default), each on its own server.
func TestInfluxDBSuite(t *testing.T) {
	cases := loadSuite(t)
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	var passed, skipped atomic.Int64
	t.Cleanup(func() { t.Logf("%d queries passed, %d skipped", passed.Load(), skipped.Load()) })
	for _, c := range cases {
		t.Run(strings.TrimPrefix(c.Name, "TestServer_"), func(t *testing.T) {
			reason := suiteSkips[c.Name]
			if c.UpstreamSkip != "" {
				reason = "skipped upstream: " + c.UpstreamSkip
			}
			if reason != "" {
				skipped.Add(int64(len(c.Queries)))
				t.Skip(reason)
			}
			t.Parallel()
			p, s := runSuiteCase(t, c)
			passed.Add(p)
			skipped.Add(s)
		})
	}
}

func runSuiteCase(t *testing.T, c suiteCase) (passed, skipped int64) {
	cfg := testConfig(t.TempDir())
	var args []string
	for k, v := range c.Config {
		flags, ok := suiteFlags[k]
		if !ok {
			t.Fatalf("case setting %s=%s has no flag", k, v)
		}
		args = append(args, flags(v)...)
	}
	if err := serveFlags(&cfg, cfg, io.Discard).Parse(args); err != nil {
		t.Fatalf("flags %v: %v", args, err)
	}
	srv, base := startTestServer(t, cfg)
	defer srv.shutdown(10 * time.Second)
	cl := &suiteClient{base: base, http: &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{DisableCompression: true}}}
	now := time.Now().UnixNano()
	for _, st := range c.Steps {
		switch st.Op {
		case "write":
			w := c.Writes[st.I]
			params := renderParams(w.Params, now)
			code, body := cl.write(t, params, renderNow(w.Body, now))
			ok, why := false, ""
			if w.Expect.Error {
				ok, why = code != 200 && code != 204, "expected an error"
				if ok && w.Expect.Status != 0 && code != w.Expect.Status {
					ok, why = false, fmt.Sprintf("expected status %d", w.Expect.Status)
				}
				if ok && w.Expect.ErrorContains != nil && !strings.Contains(fmt.Sprintf("invalid status code: code=%d, body=%s", code, body), *w.Expect.ErrorContains) {
					ok, why = false, fmt.Sprintf("expected an error containing %q", *w.Expect.ErrorContains)
				}
			} else {
				ok, why = (code == 200 || code == 204) && body == w.Expect.Body, fmt.Sprintf("expected 2xx and body %q", w.Expect.Body)
			}
			if !ok {
				t.Errorf("write #%d (%s): got %d %s", st.I, why, code, clip(body))
			}
		case "query":
			q := c.Queries[st.I]
			label := q.Name
			if label == "" {
				label = q.Command
			}
			if q.Skip {
				skipped++
				continue
			}
			cmd := renderNow(q.Command, now)
			params := renderParams(q.Params, now)
			exp, pattern := renderNow(q.Exp, now), q.Pattern
			if d, ok := suiteDifferences[c.Name+" :: "+label]; ok {
				exp, pattern = d.exp, false
			}
			ok := true
			for range max(q.Repeat, 1) {
				got, err := cl.query(t, cmd, params)
				if err != "" {
					t.Errorf("%s\n  query %s\n  %s", label, cmd, err)
					ok = false
					break
				}
				if diff := suiteCompare(exp, got, pattern); diff != "" {
					t.Errorf("%s\n  query %s  params=%v\n  diff %s\n  exp %s\n  got %s", label, cmd, params, diff, clip(exp), clip(got))
					ok = false
					break
				}
			}
			if ok {
				passed++
			}
		default:
			for _, stmt := range suiteSetup(t, st) {
				got, err := cl.query(t, stmt, nil)
				if err != "" || strings.Contains(got, `"error"`) {
					t.Errorf("setup %s: %s%s", stmt, err, got)
				}
			}
		}
	}
	return passed, skipped
}

type suiteClient struct {
	base string
	http *http.Client
}

// query sends q as the upstream test client does (POST, parameters in the URL,
// empty body) and returns the answer, or what upstream reports as an error.
func (c *suiteClient) query(t *testing.T, q string, params url.Values) (string, string) {
	t.Helper()
	p := url.Values{}
	for k, v := range params {
		p[k] = v
	}
	p.Set("q", q)
	req, err := http.NewRequest("POST", c.base+"/query?"+p.Encode(), strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	code, body := c.do(t, req)
	body = strings.TrimSpace(body)
	switch {
	case code == 400 && strings.Contains(body, "error parsing quer"):
		return body, ""
	case code == 200 || code == 204:
		return body, ""
	}
	return "", fmt.Sprintf("unexpected status code: code=%d, body=%s", code, body)
}

func (c *suiteClient) write(t *testing.T, params url.Values, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", c.base+"/write?"+params.Encode(), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return c.do(t, req)
}

func (c *suiteClient) do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	return resp.StatusCode, string(b)
}

// suiteSetup turns a setup step into the InfluxQL the upstream server helpers
// amount to.
func suiteSetup(t *testing.T, st suiteStep) []string {
	qi := func(s string) string {
		return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
	}
	switch st.Op {
	case "create_database":
		return []string{"CREATE DATABASE " + qi(st.DB)}
	case "create_database_and_rp":
		rp := fmt.Sprintf("CREATE RETENTION POLICY %s ON %s DURATION %s REPLICATION %d", qi(st.RP), qi(st.DB), suiteDuration(st.DurationNS), st.ReplicaN)
		if st.ShardDurationNS != 0 {
			rp += " SHARD DURATION " + suiteDuration(st.ShardDurationNS)
		}
		if st.Default {
			rp += " DEFAULT"
		}
		return []string{"CREATE DATABASE " + qi(st.DB), rp}
	case "drop_database":
		return []string{"DROP DATABASE " + qi(st.DB)}
	case "create_subscription":
		dests := make([]string, len(st.Destinations))
		for i, d := range st.Destinations {
			dests[i] = "'" + d + "'"
		}
		return []string{fmt.Sprintf("CREATE SUBSCRIPTION %s ON %s.%s DESTINATIONS %s %s", qi(st.Name), qi(st.DB), qi(st.RP), st.Mode, strings.Join(dests, ", "))}
	}
	t.Fatalf("unknown setup step %q", st.Op)
	return nil
}

func suiteDuration(ns int64) string {
	if ns == 0 {
		return "INF"
	}
	for _, u := range []struct {
		name string
		n    int64
	}{{"h", int64(time.Hour)}, {"m", int64(time.Minute)}, {"s", int64(time.Second)}, {"ms", int64(time.Millisecond)}, {"u", int64(time.Microsecond)}} {
		if ns%u.n == 0 {
			return strconv.FormatInt(ns/u.n, 10) + u.name
		}
	}
	return strconv.FormatInt(ns, 10) + "ns"
}

// suiteCompare returns "" when got matches exp: a regular expression found in
// got when pattern is set, else the same text or the same JSON document.
func suiteCompare(exp, got string, pattern bool) string {
	if pattern {
		re, err := regexp.Compile(exp)
		if err != nil {
			return "bad pattern: " + err.Error()
		}
		if !re.MatchString(got) {
			return fmt.Sprintf("pattern %q not found", exp)
		}
		return ""
	}
	if exp == got {
		return ""
	}
	want, err := parseJSONDocs(exp)
	if err != nil || len(want) != 1 {
		return "expected text is not one JSON document and differs"
	}
	have, err := parseJSONDocs(got)
	if err != nil || len(have) != 1 {
		return "answer is not one JSON document"
	}
	var diffs []string
	diffJSON(want[0], have[0], "$", &diffs)
	return strings.Join(diffs, "; ")
}

var nowTemplate = regexp.MustCompile(`\{\{now\|(-?\d+)\|(\w+)(?:\|trunc=(\d+))?\}\}`)

var nowUnits = map[string]int64{"n": 1, "u": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9}

// renderNow fills the {{now|OFFSET|FORMAT[|trunc=N]}} templates from the clock
// reading now (ns), as run.py does.
func renderNow(s string, now int64) string {
	if !strings.Contains(s, "{{now|") {
		return s
	}
	return nowTemplate.ReplaceAllStringFunc(s, func(m string) string {
		g := nowTemplate.FindStringSubmatch(m)
		off, _ := strconv.ParseInt(g[1], 10, 64)
		v := now
		if g[3] != "" {
			tr, _ := strconv.ParseInt(g[3], 10, 64)
			v -= floorMod(v, tr)
		}
		v += off
		switch f := g[2]; {
		case f == "rfc3339":
			secs, frac := floorDivMod(v, 1e9)
			out := time.Unix(secs, 0).UTC().Format("2006-01-02T15:04:05")
			if frac != 0 {
				out += "." + strings.TrimRight(fmt.Sprintf("%09d", frac), "0")
			}
			return out + "Z"
		case nowUnits[f] != 0:
			q, _ := floorDivMod(v, nowUnits[f])
			return strconv.FormatInt(q, 10)
		case strings.HasPrefix(f, "b"):
			base, err := strconv.Atoi(f[1:])
			if err == nil && base >= 2 && base <= 36 {
				return big.NewInt(v).Text(base)
			}
		}
		panic("unknown time template format in " + m)
	})
}

func floorDivMod(a, b int64) (q, r int64) {
	q, r = a/b, a%b
	if r != 0 && (r < 0) != (b < 0) {
		q, r = q-1, r+b
	}
	return q, r
}

func floorMod(a, b int64) int64 { _, r := floorDivMod(a, b); return r }

func renderParams(p map[string][]string, now int64) url.Values {
	out := url.Values{}
	for k, vs := range p {
		for _, v := range vs {
			out.Add(k, renderNow(v, now))
		}
	}
	return out
}

func TestRenderNow(t *testing.T) {
	now := int64(1_700_000_123_456_789_012) // 2023-11-14T22:15:23.456789012Z
	cases := []struct{ in, want string }{
		{"{{now|0|rfc3339}}", "2023-11-14T22:15:23.456789012Z"},
		{"{{now|-1000000000|s}}", "1700000122"},
		{"{{now|0|ms}}", "1700000123456"},
		{"{{now|0|h|trunc=3600000000000}}", "472222"},
		{"{{now|0|rfc3339|trunc=1000000000}}", "2023-11-14T22:15:23Z"},
		{"{{now|-3600000000000|rfc3339|trunc=60000000000}}", "2023-11-14T21:15:00Z"},
		{"x={{now|0|b36}} y", "x=" + strconv.FormatInt(now, 36) + " y"},
		{"no template", "no template"},
	}
	for _, c := range cases {
		if got := renderNow(c.in, now); got != c.want {
			t.Errorf("renderNow(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
