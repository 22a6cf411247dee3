package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/strata-db/strata/storage"
	"github.com/strata-db/strata/storage/block"
)

// TestMain lets a test run this package's binary as a real server child process (see
// startChild): with STRATA_TEST_MAIN set, the test binary is strata itself.
func TestMain(m *testing.M) {
	if args := os.Getenv("STRATA_TEST_MAIN"); args != "" {
		os.Exit(run(strings.Split(args, "\x1f"), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func quietLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func testConfig(dir string) serveConfig {
	cfg := defaultServeConfig()
	cfg.dataDir, cfg.httpAddr, cfg.shutdownWait = dir, "127.0.0.1:0", 10*time.Second
	cfg.retentionTick = time.Hour
	cfg.bcryptCost = bcrypt.MinCost // users' hashes need not be slow in tests
	return cfg
}

// startTestServer runs the real server in-process on a loopback port.
func startTestServer(t *testing.T, cfg serveConfig) (*server, string) {
	t.Helper()
	s, err := startServer(cfg, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	return s, "http://" + s.Addr()
}

type response struct {
	status int
	body   string
	header http.Header
}

func do(t *testing.T, method, u string, body []byte, header map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, string(b), resp.Header}
}

func runQuery(t *testing.T, base, q string) response {
	t.Helper()
	return do(t, "POST", base+"/query", []byte("q="+url.QueryEscape(q)),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
}

func gzipped(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// dump reads every series of measurement m through the storage read API as
// "series-key field=value@time" lines, sorted.
func dump(t *testing.T, eng *storage.Engine, db, m string) []string {
	t.Helper()
	var out []string
	bk, err := eng.Bucket(db, "")
	if err != nil {
		t.Fatal(err)
	}
	err = eng.ReadSeries(bk, m, nil, math.MinInt64, math.MaxInt64, func(s *storage.SeriesData) error {
		key := s.Measurement
		for _, tg := range s.Tags {
			key += "," + string(tg.Key) + "=" + string(tg.Value)
		}
		for name, col := range s.Fields {
			for i, ts := range col.Times {
				out = append(out, fmt.Sprintf("%s %s=%s@%d", key, name, formatCell(col, i), ts))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sortStrings(out)
	return out
}

func formatCell(c *block.Column, i int) string {
	switch c.Type {
	case block.Float:
		return fmt.Sprintf("%v", c.Floats[i])
	case block.Integer:
		return fmt.Sprintf("%di", c.Ints[i])
	case block.Unsigned:
		return fmt.Sprintf("%du", c.Uints[i])
	case block.Boolean:
		return fmt.Sprintf("%v", c.Bools[i])
	case block.String:
		return fmt.Sprintf("%q", c.Strings[i])
	}
	return "?"
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// TestWriteRestartReadBack writes over HTTP in every way a client may (1.x and 2.x
// endpoints, gzip, precisions, all field types), reads back through the storage read
// API, restarts the server and reads again.
func TestWriteRestartReadBack(t *testing.T) {
	dir := t.TempDir()
	s, base := startTestServer(t, testConfig(dir))
	if r := runQuery(t, base, `CREATE DATABASE "db"`); r.status != 200 || r.body != "{\"results\":[{\"statement_id\":0}]}\n" {
		t.Fatalf("create database: %d %s", r.status, r.body)
	}
	writes := []struct {
		path   string
		body   string
		header map[string]string
		gzip   bool
	}{
		{"/write?db=db", "cpu,host=a,region=eu usage=0.5,count=3i,ok=true,note=\"a \\\"q\\\"\" 1000000000\n", nil, false},
		{"/write?db=db&precision=s", "cpu,region=eu,host=a usage=0.75 2\n\n# comment\ncpu,host=b usage=1e3,big=18446744073709551615u 2\n", nil, false},
		{"/write?db=db&precision=ms", "cpu,host=b usage=-2 3000\r\n", nil, true},
		{"/api/v2/write?bucket=db&org=x&precision=us", "cpu,host=c usage=4 4000000", nil, false},
		{"/api/v2/write?bucket=db/autogen&precision=s", "cpu,host=c usage=5 5", nil, true},
	}
	for _, w := range writes {
		body := []byte(w.body)
		h := map[string]string{}
		if w.gzip {
			body = gzipped(t, body)
			h["Content-Encoding"] = "gzip"
		}
		if r := do(t, "POST", base+w.path, body, h); r.status != 204 {
			t.Fatalf("%s: %d %s", w.path, r.status, r.body)
		}
	}
	want := []string{
		`cpu,host=a,region=eu count=3i@1000000000`,
		`cpu,host=a,region=eu note="a \"q\""@1000000000`,
		`cpu,host=a,region=eu ok=true@1000000000`,
		`cpu,host=a,region=eu usage=0.75@2000000000`,
		`cpu,host=a,region=eu usage=0.5@1000000000`,
		`cpu,host=b big=18446744073709551615u@2000000000`,
		`cpu,host=b usage=-2@3000000000`,
		`cpu,host=b usage=1000@2000000000`,
		`cpu,host=c usage=4@4000000000`,
		`cpu,host=c usage=5@5000000000`,
	}
	check := func(stage string, eng *storage.Engine) {
		t.Helper()
		got := dump(t, eng, "db", "cpu")
		sortStrings(want)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("%s:\ngot:\n%s\nwant:\n%s", stage, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	check("live", s.eng)
	if err := s.shutdown(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	s, base = startTestServer(t, testConfig(dir))
	check("restarted", s.eng)
	// A write after restart lands next to the old data.
	if r := do(t, "POST", base+"/write?db=db", []byte("cpu,host=a,region=eu usage=9 9000000000"), nil); r.status != 204 {
		t.Fatalf("write after restart: %d %s", r.status, r.body)
	}
	want = append(want, `cpu,host=a,region=eu usage=9@9000000000`)
	check("after second write", s.eng)
	if err := s.shutdown(5 * time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestHTTPSurface(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.maxBodySize = 1000
	s, base := startTestServer(t, cfg)
	defer s.shutdown(5 * time.Second)
	runQuery(t, base, "CREATE DATABASE db")

	for _, m := range []string{"GET", "HEAD"} {
		r := do(t, m, base+"/ping", nil, nil)
		if r.status != 204 || r.header.Get("X-Influxdb-Version") == "" {
			t.Fatalf("%s /ping: %d %v", m, r.status, r.header)
		}
	}
	if r := do(t, "GET", base+"/health", nil, nil); r.status != 200 || !strings.Contains(r.body, `"status":"pass"`) {
		t.Fatalf("/health: %d %s", r.status, r.body)
	}
	cases := []struct {
		name, method, path, body string
		header                   map[string]string
		status                   int
		response                 string
	}{
		{"get write", "GET", "/write?db=db", "", nil, 405, "Method Not Allowed\n"},
		{"no db", "POST", "/write", "m v=1", nil, 400, `{"error":"database is required"}` + "\n"},
		{"unknown db", "POST", "/write?db=x", "m v=1", nil, 404, `{"error":"database not found: \"x\""}` + "\n"},
		{"unknown rp", "POST", "/write?db=db&rp=nope", "m v=1", nil, 500, `{"error":"retention policy not found: nope"}` + "\n"},
		{"bad consistency", "POST", "/write?db=db&consistency=x", "m v=1", nil, 400, `{"error":"invalid consistency level"}` + "\n"},
		{"too large", "POST", "/write?db=db", strings.Repeat("m v=1 1\n", 200), nil, 413, `{"error":"Request Entity Too Large"}` + "\n"},
		{"not gzip", "POST", "/write?db=db", "m v=1", map[string]string{"Content-Encoding": "gzip"}, 400, `{"error":"unexpected EOF"}` + "\n"},
		{"v2 unknown bucket", "POST", "/api/v2/write?bucket=x", "m v=1", nil, 404, `{"code":"not found","message":"bucket \"x\" not found"}` + "\n"},
		{"v2 bad precision", "POST", "/api/v2/write?bucket=db&precision=h", "m v=1", nil, 400, `{"code":"invalid","message":"invalid precision \"h\": use ns, us, ms or s"}` + "\n"},
		{"all lines bad", "POST", "/write?db=db", "garbage\nm v=\n", nil, 400, `{"error":"unable to parse 'garbage': missing fields\nunable to parse 'm v=': missing field value"}` + "\n"},
		{"partial", "POST", "/write?db=db", "m v=1 1\nbad\nm v=2 2", nil, 400, `{"error":"partial write: unable to parse 'bad': missing fields dropped=1"}` + "\n"},
		{"missing q", "GET", "/query", "", nil, 400, `{"error":"missing required parameter \"q\""}` + "\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := do(t, c.method, base+c.path, []byte(c.body), c.header)
			if r.status != c.status || r.body != c.response {
				t.Fatalf("got %d %q, want %d %q", r.status, r.body, c.status, c.response)
			}
			if c.status >= 400 && c.method != "GET" && r.header.Get("X-Influxdb-Error") == "" && !strings.HasPrefix(c.path, "/api/v2") {
				t.Fatalf("no X-Influxdb-Error header")
			}
		})
	}
	// The body limit applies to the compressed bytes: a gzip body inflating past it
	// is accepted.
	big := gzipped(t, []byte(strings.Repeat("g v=1 1\n", 500)))
	if r := do(t, "POST", base+"/write?db=db", big, map[string]string{"Content-Encoding": "gzip"}); r.status != 204 {
		t.Fatalf("gzip over raw limit: %d %s", r.status, r.body)
	}
	// Metrics name what the server did.
	r := do(t, "GET", base+"/metrics", nil, nil)
	for _, name := range []string{
		"strata_write_points_total", "strata_storage_write_duration_seconds", "strata_wal_fsync_duration_seconds",
		"strata_storage_head_bytes", "strata_storage_series", `strata_http_responses_total{code="413",path="/write"}`,
	} {
		if !strings.Contains(r.body, name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}
