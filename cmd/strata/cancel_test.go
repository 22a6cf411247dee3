package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// loadSlowData writes points whose every row a field condition of many ORs has to
// evaluate: a query over them runs for seconds.
func loadSlowData(t *testing.T, base string, hosts, perHost int) {
	t.Helper()
	if r := runQuery(t, base, "CREATE DATABASE slow"); r.status != 200 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var b strings.Builder
	for h := 0; h < hosts; h++ {
		b.Reset()
		for i := 0; i < perHost; i++ {
			fmt.Fprintf(&b, "cpu,host=h%d usage=%d.5 %d\n", h, i%1000, int64(1_600_000_000_000_000_000)+int64(i)*int64(time.Second))
		}
		r := do(t, "POST", base+"/write?db=slow", []byte(b.String()), nil)
		if r.status != 204 {
			t.Fatalf("write: %d %s", r.status, r.body)
		}
	}
}

// slowQuery is an aggregate whose 2,000-way OR filter is evaluated on every row and
// matches none of them.
func slowQuery() string {
	var b strings.Builder
	b.WriteString("SELECT count(usage) FROM cpu WHERE ")
	for i := 0; i < 2000; i++ {
		if i > 0 {
			b.WriteString(" OR ")
		}
		fmt.Fprintf(&b, "usage = -%d", i+1)
	}
	b.WriteString(" GROUP BY host")
	return b.String()
}

// rowsExamined reads the engine's progress counter from /metrics.
func rowsExamined(t *testing.T, base string) int64 {
	t.Helper()
	r := do(t, "GET", base+"/metrics", nil, nil)
	sc := bufio.NewScanner(strings.NewReader(r.body))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "strata_query_rows_examined_total "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return int64(f)
		}
	}
	t.Fatal("no strata_query_rows_examined_total in /metrics")
	return 0
}

// cpuTime is the CPU time this process (which runs the server) has used.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuOver is the CPU time the process burns during d.
func cpuOver(t *testing.T, d time.Duration) time.Duration {
	c0 := cpuTime(t)
	time.Sleep(d)
	return cpuTime(t) - c0
}

// waitRunning waits until the engine is visibly working on a query.
func waitRunning(t *testing.T, base string, since int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for rowsExamined(t, base) == since {
		if time.Now().After(deadline) {
			t.Fatal("the query never started examining rows")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// assertStopped checks that the engine let go: its row counter stands still and
// the process burns far less CPU than while the query ran (a relative test, so a
// loaded machine does not make it flaky; a loop that does not stop keeps the
// ratio near 1).
func assertStopped(t *testing.T, base string, busy time.Duration) {
	t.Helper()
	// 300 ms of grace before the counter must stand still: the engine checks
	// every 1,024 rows (milliseconds), but on a machine loaded with parallel
	// test binaries a stopped goroutine was seen to run its last check 150 ms
	// late. The answer-time assertions of the callers hold the latency bound.
	time.Sleep(300 * time.Millisecond)
	r0 := rowsExamined(t, base)
	idle := cpuOver(t, 500*time.Millisecond)
	if r1 := rowsExamined(t, base); r1 != r0 {
		t.Errorf("rows examined went on after the query was stopped: %d -> %d", r0, r1)
	}
	if idle*3 > busy {
		t.Errorf("process still busy after the query was stopped: %v CPU in 500ms, %v while running", idle, busy)
	}
}

// queryStatementError runs q with a client context and returns the first
// statement's error text.
func queryStatementError(ctx context.Context, base, q string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/query?db=slow",
		strings.NewReader("q="+url.QueryEscape(q)))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	var doc struct {
		Results []struct {
			Error string `json:"error"`
		} `json:"results"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || len(doc.Results) == 0 {
		return "", fmt.Errorf("answer %s: %v", body, err)
	}
	return doc.Results[0].Error, nil
}

// TestQueryStops starts a query that would run for many seconds and stops it by
// each way a query can end early: the answer comes at once and the work stops.
func TestQueryStops(t *testing.T) {
	if testing.Short() {
		t.Skip("loads data and runs slow queries")
	}
	cfg := testConfig(t.TempDir())
	cfg.queryTimeout = 0
	s, base := startTestServer(t, cfg)
	defer s.shutdown(5 * time.Second)
	loadSlowData(t, base, 4, 200_000)
	q := slowQuery()

	type outcome struct {
		msg string
		err error
	}
	start := func(ctx context.Context) (<-chan outcome, time.Duration) {
		since := rowsExamined(t, base)
		ch := make(chan outcome, 1)
		go func() {
			msg, err := queryStatementError(ctx, base, q)
			ch <- outcome{msg, err}
		}()
		waitRunning(t, base, since)
		return ch, cpuOver(t, 500*time.Millisecond)
	}

	t.Run("kill", func(t *testing.T) {
		ch, busy := start(context.Background())
		r := runQuery(t, base, "SHOW QUERIES")
		var doc struct {
			Results []struct {
				Series []struct {
					Values [][]any `json:"values"`
				} `json:"series"`
			} `json:"results"`
		}
		if err := json.Unmarshal([]byte(r.body), &doc); err != nil {
			t.Fatal(err)
		}
		qid := ""
		for _, row := range doc.Results[0].Series[0].Values {
			if strings.HasPrefix(row[1].(string), "SELECT count(usage)") {
				qid = fmt.Sprint(row[0])
			}
		}
		if qid == "" {
			t.Fatalf("running query not in SHOW QUERIES: %s", r.body)
		}
		killed := time.Now()
		if r := runQuery(t, base, "KILL QUERY "+qid); r.status != 200 || strings.Contains(r.body, "error") {
			t.Fatalf("kill: %d %s", r.status, r.body)
		}
		select {
		case o := <-ch:
			if o.err != nil || o.msg != "query interrupted" {
				t.Fatalf("killed query answered %q, %v", o.msg, o.err)
			}
			// The answer leaves once the executor has returned, after its
			// workers stopped: d bounds how long the CPU stayed busy.
			d := time.Since(killed)
			t.Logf("answer %v after KILL QUERY", d)
			if d > time.Second {
				t.Errorf("answer came %v after KILL", d)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no answer 5s after KILL QUERY")
		}
		assertStopped(t, base, busy)
	})

	t.Run("disconnect", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		ch, busy := start(ctx)
		cancel()
		if o := <-ch; o.err == nil {
			t.Fatalf("request not cancelled: %q", o.msg)
		}
		assertStopped(t, base, busy)
	})

	t.Run("chunked streams", func(t *testing.T) {
		// The first chunk arrives while the scan has most of the way to go, and a
		// client that stops reading holds the scan back (TCP fills, the writer
		// blocks, the engine's queues fill): the engine has examined a fraction of
		// the rows when the client resumes.
		r0 := rowsExamined(t, base)
		resp, err := http.Get(base + "/query?db=slow&chunked=true&chunk_size=1000&q=" + url.QueryEscape("SELECT usage FROM cpu GROUP BY host"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		br := bufio.NewReaderSize(resp.Body, 1<<16)
		if _, err := br.ReadSlice('\n'); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond) // the server runs as far as the buffers let it
		held := rowsExamined(t, base) - r0
		rows := 0
		for {
			line, err := br.ReadBytes('\n')
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			rows += strings.Count(string(line), "],[") + 1
		}
		full := rowsExamined(t, base) - r0
		t.Logf("examined %d of %d while the client held the first chunk", held, full)
		if held*2 > full {
			t.Errorf("examined %d of %d while the client read nothing: not streaming", held, full)
		}
		if rows < 4*200_000-10_000 {
			t.Errorf("about %d rows, want 800000", rows)
		}
	})

	t.Run("async", func(t *testing.T) {
		// async=true runs detached from the request: still working after the 204,
		// until KILL QUERY stops it.
		since := rowsExamined(t, base)
		r := do(t, "POST", base+"/query?db=slow&async=true", []byte("q="+url.QueryEscape(q)),
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
		if r.status != http.StatusNoContent {
			t.Fatalf("async: %d %s", r.status, r.body)
		}
		waitRunning(t, base, since)
		time.Sleep(200 * time.Millisecond)
		r0 := rowsExamined(t, base)
		busy := cpuOver(t, 500*time.Millisecond)
		if r1 := rowsExamined(t, base); r1 == r0 {
			t.Fatal("the async query stopped when its request ended")
		}
		show := runQuery(t, base, "SHOW QUERIES")
		var doc struct {
			Results []struct {
				Series []struct {
					Values [][]any `json:"values"`
				} `json:"series"`
			} `json:"results"`
		}
		json.Unmarshal([]byte(show.body), &doc)
		for _, row := range doc.Results[0].Series[0].Values {
			if strings.HasPrefix(row[1].(string), "SELECT count(usage)") {
				runQuery(t, base, "KILL QUERY "+fmt.Sprint(row[0]))
			}
		}
		assertStopped(t, base, busy)
	})
}

// TestQueryTimeoutStops checks --query-timeout ends a long statement with
// InfluxDB's error text and stops its work.
func TestQueryTimeoutStops(t *testing.T) {
	if testing.Short() {
		t.Skip("loads data and runs slow queries")
	}
	cfg := testConfig(t.TempDir())
	cfg.queryTimeout = 1500 * time.Millisecond
	s, base := startTestServer(t, cfg)
	defer s.shutdown(5 * time.Second)
	loadSlowData(t, base, 4, 200_000)

	since := rowsExamined(t, base)
	began := time.Now()
	ch := make(chan string, 1)
	go func() {
		msg, err := queryStatementError(context.Background(), base, slowQuery())
		if err != nil {
			msg = err.Error()
		}
		ch <- msg
	}()
	waitRunning(t, base, since)
	busy := cpuOver(t, 500*time.Millisecond)
	select {
	case msg := <-ch:
		if msg != "query-timeout limit exceeded" {
			t.Fatalf("answer %q", msg)
		}
		if d := time.Since(began); d > 1500*time.Millisecond+time.Second {
			t.Errorf("answer came %v after the start, timeout 1.5s", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no answer 10s after the start, timeout 1.5s")
	}
	assertStopped(t, base, busy)
}

// TestAsyncSelectInto checks that async=true runs its statements past the end of
// the request: a SELECT INTO sent so writes all its points.
func TestAsyncSelectInto(t *testing.T) {
	s, base := startTestServer(t, testConfig(t.TempDir()))
	defer s.shutdown(5 * time.Second)
	loadSlowData(t, base, 2, 20_000)
	r := do(t, "POST", base+"/query?db=slow&async=true",
		[]byte("q="+url.QueryEscape("SELECT usage INTO copied FROM cpu GROUP BY *")),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if r.status != http.StatusNoContent || r.body != "" {
		t.Fatalf("async: %d %q", r.status, r.body)
	}
	want := `{"results":[{"statement_id":0,"series":[{"name":"copied","columns":["time","count"],"values":[["1970-01-01T00:00:00Z",40000]]}]}]}`
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := do(t, "GET", base+"/query?db=slow&q="+url.QueryEscape("SELECT count(usage) FROM copied"), nil, nil).body
		if strings.TrimSpace(got) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20s: %s", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
