package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/strata-db/strata/bench"
)

// metricValue reads one unlabelled (or fully spelled) sample from /metrics.
func metricValue(t *testing.T, base, name string) float64 {
	t.Helper()
	r := do(t, "GET", base+"/metrics", nil, nil)
	sc := bufio.NewScanner(strings.NewReader(r.body))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("no %s in /metrics", name)
	return 0
}

// waitMetric polls /metrics until cond holds for the sample name (5 s at most).
func waitMetric(t *testing.T, base, name string, cond func(float64) bool) float64 {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		v := metricValue(t, base, name)
		if cond(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v: condition not reached", name, v)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// openPartialWrite opens a raw connection and sends the head of a /write request
// declaring contentLength, then the first bytes of its body, and leaves it there.
func openPartialWrite(t *testing.T, base string, contentLength int, first []byte) net.Conn {
	t.Helper()
	addr := strings.TrimPrefix(base, "http://")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "POST /write?db=db HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n", addr, contentLength)
	if _, err := c.Write(first); err != nil {
		t.Fatal(err)
	}
	return c
}

// rss is the resident memory of process pid, in bytes.
func rss(t *testing.T, pid int) int64 {
	t.Helper()
	_, r, err := bench.ProcMemory(pid)
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	return r
}

// TestPreallocationAttack: 200 connections each declare a body of 24,999,999 bytes
// (just under --max-body-size) and send one byte. Before bodies were read by what
// had arrived, 100 of them held 2.5 GB; now each holds one small read step, the
// server answers /ping and ordinary writes throughout, and its RSS stays small.
func TestPreallocationAttack(t *testing.T) {
	c := startChild(t, t.TempDir())
	defer c.stop(t, 15)
	if r := runQuery(t, c.base, "CREATE DATABASE db"); r.status != 200 {
		t.Fatal(r.body)
	}
	pid := c.cmd.Process.Pid
	before := rss(t, pid)
	const conns = 200
	start := time.Now()
	attackers := make([]net.Conn, conns)
	for i := range attackers {
		attackers[i] = openPartialWrite(t, c.base, 24_999_999, []byte("m"))
	}
	defer func() { // before stop: shutdown waits for in-flight requests
		for _, a := range attackers {
			a.Close()
		}
	}()
	// Every attacker's byte has been read once each holds its first read step.
	waitMetric(t, c.base, "strata_write_inflight_bytes", func(v float64) bool { return v >= conns*firstReadStepForTest })
	if r := do(t, "GET", c.base+"/ping", nil, nil); r.status != 204 {
		t.Fatalf("/ping under attack: %d", r.status)
	}
	if r := do(t, "POST", c.base+"/write?db=db", []byte("cpu v=1 1\n"), nil); r.status != 204 {
		t.Fatalf("write under attack: %d %s", r.status, r.body)
	}
	after := rss(t, pid)
	t.Logf("%d connections declaring 25 MB: RSS %d MB -> %d MB in %v", conns, before>>20, after>>20, time.Since(start))
	// 200 × 25 MB would be 5 GB; 200 read steps are 3 MB. 100 MB of headroom
	// covers the goroutines, the runtime and the noise of a shared machine.
	if after-before > 100<<20 {
		t.Fatalf("RSS grew by %d MB under the pre-allocation attack", (after-before)>>20)
	}
}

// firstReadStepForTest mirrors ingest's first read step (16 KiB): what one
// connection that has sent a byte reserves.
const firstReadStepForTest = 16 << 10

// TestInflightWriteBudget fills a small --max-inflight-write-bytes with two
// bodies still arriving and checks that further writes, plain or gzip (whose
// inflated bytes count), get 429 with Retry-After and InfluxDB's JSON, that a
// gzip body which could never fit gets 413, and that the budget, once freed,
// admits writes again.
func TestInflightWriteBudget(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.maxInflight = 1 << 20
	s, base := startTestServer(t, cfg)
	defer s.shutdown(5 * time.Second)
	if r := runQuery(t, base, "CREATE DATABASE db"); r.status != 200 {
		t.Fatal(r.body)
	}
	lines := func(n int) []byte {
		var b strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "cpu,host=h%d usage=%d.5 %d\n", i%10, i, i+1)
		}
		return []byte(b.String())
	}
	gz700k := gzipped(t, lines(700_000/30)) // inflates to ~700 KB: a 1 MiB buffer
	gzBig := gzipped(t, lines(2_500_000/30))

	// Alone, a body inflating to 700 KB fits the 1 MiB budget.
	if r := do(t, "POST", base+"/write?db=db", gz700k, map[string]string{"Content-Encoding": "gzip"}); r.status != 204 {
		t.Fatalf("gzip within budget: %d %s", r.status, r.body)
	}
	// One that needs more than the whole budget can never fit: 413, not 429.
	r := do(t, "POST", base+"/write?db=db", gzBig, map[string]string{"Content-Encoding": "gzip"})
	if r.status != 413 || r.header.Get("Retry-After") != "" || !strings.Contains(r.body, "max-inflight-write-bytes") {
		t.Fatalf("gzip larger than the budget: %d %v %s", r.status, r.header, r.body)
	}

	// Two clients send 300 KB of a 600 KB body and stall: each holds 512 KiB.
	first := lines(300_000 / 30)
	holders := []net.Conn{
		openPartialWrite(t, base, 600_000, first),
		openPartialWrite(t, base, 600_000, first),
	}
	waitMetric(t, base, "strata_write_inflight_bytes", func(v float64) bool { return v >= 1<<20 })

	for _, tc := range []struct {
		name   string
		path   string
		body   []byte
		header map[string]string
		want   string
	}{
		{"plain v1", "/write?db=db", lines(10), nil, `{"error":"too many write bytes in flight: retry later"}` + "\n"},
		{"gzip v1", "/write?db=db", gz700k, map[string]string{"Content-Encoding": "gzip"}, `{"error":"too many write bytes in flight: retry later"}` + "\n"},
		{"plain v2", "/api/v2/write?bucket=db", lines(10), nil, `{"code":"too many requests","message":"too many write bytes in flight: retry later"}` + "\n"},
	} {
		r := do(t, "POST", base+tc.path, tc.body, tc.header)
		if r.status != 429 || r.header.Get("Retry-After") != "1" || r.body != tc.want || r.header.Get("X-Influxdb-Error") == "" && tc.path == "/write?db=db" {
			t.Errorf("%s over budget: %d %v %q", tc.name, r.status, r.header, r.body)
		}
	}
	if got := metricValue(t, base, "strata_write_requests_throttled_total"); got != 3 {
		t.Errorf("throttled = %v, want 3", got)
	}

	// One holder gives up; the other finishes its body (growing to 1 MiB, which
	// now fits): its write is stored and the budget is freed.
	holders[1].Close()
	waitMetric(t, base, "strata_write_inflight_bytes", func(v float64) bool { return v <= 512<<10 })
	holders[0].Write([]byte(strings.Repeat("\n", 600_000-len(first))))
	resp, err := http.ReadResponse(bufio.NewReader(holders[0]), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 {
		t.Fatalf("held write completed: %d", resp.StatusCode)
	}
	waitMetric(t, base, "strata_write_inflight_bytes", func(v float64) bool { return v == 0 })
	if r := do(t, "POST", base+"/write?db=db", gz700k, map[string]string{"Content-Encoding": "gzip"}); r.status != 204 {
		t.Fatalf("after the budget was freed: %d %s", r.status, r.body)
	}
	if got := metricValue(t, base, "strata_write_requests_admitted_total"); got != 3 {
		t.Errorf("admitted = %v, want 3", got)
	}
	q := runQuery(t, base, "SELECT count(usage) FROM db..cpu")
	if want := fmt.Sprintf(`,%d]]`, 700_000/30); !strings.Contains(q.body, want) {
		t.Fatalf("count: %s, want %s", q.body, want)
	}
}

// TestErrorAmplification: 100 lines whose 240 KB tag values exceed the key
// limit once made a 24 MB X-Influxdb-Error and took 120 s. Each offending line
// is now quoted by a prefix with its line number, the header is short, and the
// answer is quick; the good line of the batch is kept.
func TestErrorAmplification(t *testing.T) {
	s, base := startTestServer(t, testConfig(t.TempDir()))
	defer s.shutdown(5 * time.Second)
	runQuery(t, base, "CREATE DATABASE db")
	long := strings.Repeat("x", 240_000)
	var b strings.Builder
	b.WriteString("ok v=1 1\n")
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&b, "m,host=%s%d v=1 1\n", long, i)
	}
	start := time.Now()
	r := do(t, "POST", base+"/write?db=db", []byte(b.String()), nil)
	took := time.Since(start)
	hdr := r.header.Get("X-Influxdb-Error")
	t.Logf("24 MB of oversized keys: %d in %v, body %d bytes, X-Influxdb-Error %d bytes", r.status, took, len(r.body), len(hdr))
	if r.status != 400 || !strings.Contains(r.body, `unable to parse 'm,host=xxxx`) ||
		!strings.Contains(r.body, `...' (line 2, 240014 bytes): max key length exceeded: 240008 \u003e 65535`) ||
		!strings.Contains(r.body, "(line 101, ") || !strings.HasSuffix(r.body, ` dropped=100"}`+"\n") {
		t.Fatalf("answer: %d %.600s", r.status, r.body)
	}
	if len(hdr) > 4096 || len(r.body) > 100*1024 || took > 5*time.Second {
		t.Fatalf("answer too large or slow: header %d, body %d, %v", len(hdr), len(r.body), took)
	}
	if q := runQuery(t, base, "SELECT v FROM db..ok"); !strings.Contains(q.body, `"values":[["1970-01-01T00:00:00.000000001Z",1]]`) {
		t.Fatalf("good line of the batch: %s", q.body)
	}
	// A line that does not parse at all is quoted the same way.
	r = do(t, "POST", base+"/write?db=db", []byte("garbage"+long+"\n"), nil)
	if r.status != 400 || len(r.header.Get("X-Influxdb-Error")) > 4096 ||
		!strings.Contains(r.body, "...' (line 1, 240007 bytes): missing fields") {
		t.Fatalf("unparsable long line: %d %.400s", r.status, r.body)
	}
}

// TestWideLine: one line of 100,000 new fields took 51 s; past
// --max-fields-per-line it is refused at once with a clear 400, the rest of
// the batch is stored, and a line at the limit is accepted.
func TestWideLine(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.maxFields = 1000
	s, base := startTestServer(t, cfg)
	defer s.shutdown(5 * time.Second)
	runQuery(t, base, "CREATE DATABASE db")
	wide := func(m string, n int) string {
		var b strings.Builder
		b.WriteString(m + " ")
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "field_%d=%d", i, i)
		}
		b.WriteString(" 1\n")
		return b.String()
	}
	start := time.Now()
	r := do(t, "POST", base+"/write?db=db", []byte("ok v=1 1\n"+wide("wide", 100_000)), nil)
	took := time.Since(start)
	t.Logf("100,000 fields: %d in %v", r.status, took)
	if r.status != 400 || !strings.Contains(r.body, "(line 2, 1777786 bytes): max fields per line exceeded: 100000 \\u003e 1000 (--max-fields-per-line) dropped=1") {
		t.Fatalf("wide line: %d %.500s", r.status, r.body)
	}
	if took > 3*time.Second {
		t.Fatalf("wide line took %v", took)
	}
	if r := do(t, "POST", base+"/write?db=db", []byte(wide("atlimit", 1000)), nil); r.status != 204 {
		t.Fatalf("line at the limit: %d %s", r.status, r.body)
	}
	if q := runQuery(t, base, "SELECT count(field_999) FROM db..atlimit"); !strings.Contains(q.body, `,1]]`) {
		t.Fatalf("line at the limit not stored: %s", q.body)
	}
}

// showQueries returns SHOW QUERIES' rows as qid → status and query text.
func showQueries(t *testing.T, base string) map[string][2]string {
	t.Helper()
	r := runQuery(t, base, "SHOW QUERIES")
	var doc struct {
		Results []struct {
			Series []struct {
				Values [][]any `json:"values"`
			} `json:"series"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(r.body), &doc); err != nil || len(doc.Results) != 1 || len(doc.Results[0].Series) != 1 {
		t.Fatalf("SHOW QUERIES: %v %s", err, r.body)
	}
	out := map[string][2]string{}
	for _, row := range doc.Results[0].Series[0].Values {
		out[fmt.Sprint(row[0])] = [2]string{fmt.Sprint(row[4]), fmt.Sprint(row[1])}
	}
	return out
}

// waitQuery waits until SHOW QUERIES lists a query with the status whose text
// starts with prefix, and returns its qid.
func waitQuery(t *testing.T, base, status, prefix string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for qid, q := range showQueries(t, base) {
			if q[0] == status && strings.HasPrefix(q[1], prefix) {
				return qid
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %s query %q in SHOW QUERIES: %v", status, prefix, showQueries(t, base))
	return ""
}

// TestQueryAdmission: with one query running and one waiting (the limits at 1
// and 1), a third gets 503 with Retry-After at once; SHOW QUERIES shows the
// running and the queued one and, like KILL QUERY and /ping, still answers; a
// killed queued query leaves the queue; when the running one ends the next
// runs.
func TestQueryAdmission(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.maxQueries, cfg.maxQueued = 1, 1
	s, base := startTestServer(t, cfg)
	defer s.shutdown(5 * time.Second)
	loadSlowData(t, base, 1, 40_000) // slowQuery runs for many seconds over it

	type answer struct {
		r    response
		took time.Duration
	}
	post := func(q string) chan answer {
		ch := make(chan answer, 1)
		go func() {
			start := time.Now()
			req, _ := http.NewRequest("POST", base+"/query?db=slow", strings.NewReader("q="+url.QueryEscape(q)))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				ch <- answer{r: response{status: -1, body: err.Error()}}
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			ch <- answer{response{resp.StatusCode, string(b), resp.Header}, time.Since(start)}
		}()
		return ch
	}

	slow := post(slowQuery())
	slowID := waitQuery(t, base, "running", "SELECT count(usage)")
	queued := post(slowQuery())
	queuedID := waitQuery(t, base, "queued", "SELECT count(usage)")

	start := time.Now()
	r := runQuery(t, base, "SELECT count(usage) FROM slow..cpu")
	if took := time.Since(start); r.status != 503 || r.header.Get("Retry-After") != "1" || took > time.Second ||
		r.body != `{"error":"too many queries: 1 running and 1 waiting (--max-concurrent-queries, --max-queued-queries): retry later"}`+"\n" {
		t.Fatalf("query beyond the queue: %d %v %q after %v", r.status, r.header, r.body, took)
	}
	if r := do(t, "GET", base+"/ping", nil, nil); r.status != 204 {
		t.Fatalf("/ping while queries are full: %d", r.status)
	}
	if got := metricValue(t, base, "strata_query_queued"); got != 1 {
		t.Errorf("strata_query_queued = %v", got)
	}

	// KILL QUERY ends a wait in the queue: the client is told, as for a
	// killed running query.
	if r := runQuery(t, base, "KILL QUERY "+queuedID); r.status != 200 || strings.Contains(r.body, "error") {
		t.Fatalf("kill queued: %d %s", r.status, r.body)
	}
	a := <-queued
	if a.r.status != 200 || a.r.body != `{"results":[{"statement_id":0,"error":"query interrupted"}]}`+"\n" {
		t.Fatalf("killed queued query: %d %s", a.r.status, a.r.body)
	}

	// The place is free again: a quick query waits for the slow one, and
	// runs as soon as it is killed.
	quick := post("SELECT count(usage) FROM cpu")
	waitQuery(t, base, "queued", "SELECT count(usage) FROM cpu")
	if r := runQuery(t, base, "KILL QUERY "+slowID); r.status != 200 || strings.Contains(r.body, "error") {
		t.Fatalf("kill running: %d %s", r.status, r.body)
	}
	if a := <-slow; a.r.status != 200 || !strings.Contains(a.r.body, "query interrupted") {
		t.Fatalf("killed running query: %d %s", a.r.status, a.r.body)
	}
	select {
	case a := <-quick:
		if a.r.status != 200 || !strings.Contains(a.r.body, `"values":[["1970-01-01T00:00:00Z",40000]]`) {
			t.Fatalf("queued query after its turn: %d %s", a.r.status, a.r.body)
		}
		t.Logf("the queued query answered %v after it was sent", a.took)
	case <-time.After(10 * time.Second):
		t.Fatal("the queued query did not run once the slot was free")
	}
	if got := metricValue(t, base, "strata_query_rejected_total"); got != 1 {
		t.Errorf("strata_query_rejected_total = %v", got)
	}
}

// TestBatchLargerThanOneRecord: a body within --max-body-size whose points
// encode to more than one WAL record (3.3 M lines of "m v=1") got
// "500 wal: record too large"; it now gets a 413 that says what to do, stores
// nothing, and the server takes the same points in smaller requests.
func TestBatchLargerThanOneRecord(t *testing.T) {
	s, base := startTestServer(t, testConfig(t.TempDir()))
	defer s.shutdown(5 * time.Second)
	runQuery(t, base, "CREATE DATABASE db")
	body := []byte(strings.Repeat("m v=1\n", 3_300_000)) // 19.8 MB
	start := time.Now()
	r := do(t, "POST", base+"/write?db=db", body, nil)
	t.Logf("%d MB body of %d points: %d in %v", len(body)>>20, 3_300_000, r.status, time.Since(start))
	if r.status != 413 || !strings.Contains(r.body, "send it in smaller requests") {
		t.Fatalf("batch over one record: %d %s", r.status, r.body)
	}
	if q := runQuery(t, base, "SELECT count(v) FROM db..m"); strings.Contains(q.body, `"values"`) {
		t.Fatalf("a refused batch stored points: %s", q.body)
	}
	if r := do(t, "POST", base+"/write?db=db", body[:len(body)/4], nil); r.status != 204 {
		t.Fatalf("a quarter of it: %d %s", r.status, r.body)
	}
}
