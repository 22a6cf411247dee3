package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// runCmd runs one strata subcommand in-process, as the binary would.
func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, path, content string, gz bool) string {
	t.Helper()
	b := []byte(content)
	if gz {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		b = buf.Bytes()
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// importInput covers every field type, escapes, a string value spanning lines,
// a line without a timestamp and precision-free nanoseconds. The type
// conflict (line 3) is in the same two-line batch as the line that gives
// count its type: in different batches, the parallel writers decided which
// of the two came first, and the test failed one run in five.
const importInput1 = `# a comment
cpu,host=a,region=eu usage=0.5,count=3i,big=18446744073709551615u,ok=true,note="say \"hi\"" 1000000000
cpu,host=a count=1.5 5000000000
cpu,host=b usage=1e-3 2000000000

weird\ name,tag\,k=v\ 1 f=1.5 3000000000
cpu,host=a note="two
lines" 4000000000
this is not line protocol
`

func TestImportExportRoundTrip(t *testing.T) {
	dir := t.TempDir()
	sA, baseA := startTestServer(t, testConfig(filepath.Join(dir, "a")))
	defer sA.shutdown(5 * time.Second)
	runQuery(t, baseA, "CREATE DATABASE db")

	lp := writeFile(t, filepath.Join(dir, "in.lp"), importInput1, false)
	gz := writeFile(t, filepath.Join(dir, "in2.lp.gz"), "mem,host=a used=10i 1000000000\nmem,host=b used=20i 1000000000\n", true)
	rejects := filepath.Join(dir, "rejects")
	code, stdout, stderr := runCmd(t, "import", "--url", baseA, "--db", "db", "--rejects", rejects,
		"--state", filepath.Join(dir, "state"), "--batch-size", "2", "--writers", "3", lp, gz)
	if code != 1 {
		t.Fatalf("import with bad lines: exit %d, want 1\n%s\n%s", code, stdout, stderr)
	}
	if rej, _ := os.ReadFile(rejects); !strings.Contains(stdout, "imported 6 lines (2 rejected) from 2 files") {
		t.Log(string(rej))
		t.Fatalf("summary: %q", stdout)
	}
	for _, want := range []string{"lines/s", "rejected"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("progress bar lacks %q: %q", want, stderr)
		}
	}
	rej, _ := os.ReadFile(rejects)
	for _, want := range []string{
		"# " + lp + ":9: invalid field format\nthis is not line protocol\n",
		"# " + lp + ":3: field type conflict",
		"\ncpu,host=a count=1.5 5000000000\n",
	} {
		if !strings.Contains(string(rej), want) {
			t.Errorf("rejects file lacks %q:\n%s", want, rej)
		}
	}

	exportA := filepath.Join(dir, "a.lp")
	if code, _, stderr := runCmd(t, "export", "--url", baseA, "--db", "db", "--out", exportA); code != 0 {
		t.Fatalf("export: %d %s", code, stderr)
	}
	got, _ := os.ReadFile(exportA)
	want := `cpu,host=a note="two
lines" 4000000000
cpu,host=a,region=eu big=18446744073709551615u,count=3i,note="say \"hi\"",ok=true,usage=0.5 1000000000
cpu,host=b usage=0.001 2000000000
mem,host=a used=10i 1000000000
mem,host=b used=20i 1000000000
weird\ name,tag\,k=v\ 1 f=1.5 3000000000
`
	if string(got) != want {
		t.Fatalf("export:\n%s\nwant:\n%s", got, want)
	}

	// The export imports into a fresh server to the same data, and exports the same
	// bytes again; gzip on both ends.
	sB, baseB := startTestServer(t, testConfig(filepath.Join(dir, "b")))
	defer sB.shutdown(5 * time.Second)
	runQuery(t, baseB, "CREATE DATABASE db")
	exportGz := filepath.Join(dir, "a.lp.gz")
	if code, _, stderr := runCmd(t, "export", "--url", baseA, "--db", "db", "--out", exportGz); code != 0 {
		t.Fatalf("export gz: %d %s", code, stderr)
	}
	if code, stdout, stderr := runCmd(t, "import", "--url", baseB, "--db", "db", "--quiet", "--rejects", rejects, "--state", filepath.Join(dir, "state"), exportGz); code != 0 {
		t.Fatalf("reimport: %d %s %s", code, stdout, stderr)
	}
	exportB := filepath.Join(dir, "b.lp")
	if code, _, stderr := runCmd(t, "export", "--url", baseB, "--db", "db", "--out", exportB); code != 0 {
		t.Fatalf("export b: %d %s", code, stderr)
	}
	if gotB, _ := os.ReadFile(exportB); string(gotB) != want {
		t.Fatalf("round trip differs:\n%s\nwant:\n%s", gotB, want)
	}
	if _, err := os.Stat(rejects); err == nil {
		t.Fatalf("a clean import left a rejects file")
	}
	// Time range and measurement filters.
	code, stdout, _ = runCmd(t, "export", "--url", baseB, "--db", "db", "--measurement", "cpu", "--start", "2000000000", "--end", "1970-01-01T00:00:04Z")
	if code != 0 || stdout != "cpu,host=b usage=0.001 2000000000\n" {
		t.Fatalf("filtered export: %d %q", code, stdout)
	}
}

func TestImportCSV(t *testing.T) {
	dir := t.TempDir()
	s, base := startTestServer(t, testConfig(dir))
	defer s.shutdown(5 * time.Second)
	runQuery(t, base, "CREATE DATABASE db")
	csvFile := writeFile(t, filepath.Join(dir, "in.csv"), "time,host,usage,count,up\n"+
		"1970-01-01T00:00:01Z,a,0.5,1,true\n"+
		"2,b,0.25,,false\n"+
		"3,c,notanumber,2,true\n"+
		"\"4\",\"d, quoted\",1,3,true\n", false)
	args := []string{"import", "--url", base, "--db", "db", "--quiet", "--precision", "s", "--state", filepath.Join(dir, "st"),
		"--rejects", filepath.Join(dir, "rej"), "--csv-measurement", "cpu", "--csv-tags", "host", "--csv-types", "count=integer,up=boolean"}
	if code, stdout, stderr := runCmd(t, append(args, csvFile)...); code != 1 || !strings.Contains(stdout, "imported 3 lines (1 rejected)") {
		t.Fatalf("csv import: %d %s %s", code, stdout, stderr)
	}
	rej, _ := os.ReadFile(filepath.Join(dir, "rej"))
	if !strings.Contains(string(rej), `in.csv:4: column "usage": "notanumber" is not a valid float`) {
		t.Fatalf("rejects: %s", rej)
	}
	_, out, _ := runCmd(t, "export", "--url", base, "--db", "db")
	want := "cpu,host=a count=1i,up=true,usage=0.5 1000000000\ncpu,host=b up=false,usage=0.25 2000000000\ncpu,host=d\\,\\ quoted count=3i,up=true,usage=1 4000000000\n"
	if out != want {
		t.Fatalf("csv data:\n%s\nwant:\n%s", out, want)
	}

	// A header that does not fit the mapping fails before anything is written,
	// even when an earlier file is fine.
	runQuery(t, base, "CREATE DATABASE empty")
	good := writeFile(t, filepath.Join(dir, "good.csv"), "time,v\n1,1\n", false)
	for _, c := range []struct{ header, flag, msg string }{
		{"time,host,host\n1,a,b\n", "", `column "host" appears twice`},
		{"time,v\n1,1\n", "--csv-tags=nohost", `tag column "nohost" is not in the header`},
		{"time,v\n1,1\n", "--csv-types=w=integer", `--csv-types names "w"`},
		{"time,v\n1,1\n", "--csv-types=v=decimal", `type must be float`},
	} {
		bad := writeFile(t, filepath.Join(dir, "bad.csv"), c.header, false)
		a := []string{"import", "--url", base, "--db", "empty", "--quiet", "--csv-measurement", "m", "--state", filepath.Join(dir, "st2")}
		if c.flag != "" {
			a = append(a, c.flag)
		}
		code, _, stderr := runCmd(t, append(a, good, bad)...)
		if code != 2 || !strings.Contains(stderr, c.msg) {
			t.Errorf("%s: exit %d %q, want 2 and %q", c.header, code, stderr, c.msg)
		}
	}
	if r := runQuery(t, base, "SHOW MEASUREMENTS ON empty"); strings.Contains(r.body, "values") {
		t.Fatalf("a failed header wrote data: %s", r.body)
	}
}

func TestImportInfluxFormatAndResume(t *testing.T) {
	dir := t.TempDir()
	s, base := startTestServer(t, testConfig(dir))
	defer s.shutdown(5 * time.Second)
	file := writeFile(t, filepath.Join(dir, "dump.txt"), `# DDL
CREATE DATABASE dumped
CREATE RETENTION POLICY "short" ON "dumped" DURATION 0s REPLICATION 1
# DML
# CONTEXT-DATABASE: dumped
# CONTEXT-RETENTION-POLICY: short
m v=1 1
m v=2 2
# CONTEXT-RETENTION-POLICY: autogen
m v=3 3
`, false)
	st := filepath.Join(dir, "state")
	if code, stdout, stderr := runCmd(t, "import", "--url", base, "--quiet", "--state", st, "--batch-size", "1", file); code != 0 {
		t.Fatalf("influx format: %d %s %s", code, stdout, stderr)
	}
	if _, out, _ := runCmd(t, "export", "--url", base, "--db", "dumped", "--rp", "short"); out != "m v=1 1\nm v=2 2\n" {
		t.Fatalf("short rp: %q", out)
	}
	if _, out, _ := runCmd(t, "export", "--url", base, "--db", "dumped"); out != "m v=3 3\n" {
		t.Fatalf("autogen rp: %q", out)
	}

	// --resume skips what the state file says was written: lines 1-2 carry values
	// the server must not see again, lines 3-4 are new.
	runQuery(t, base, "CREATE DATABASE r")
	in := writeFile(t, filepath.Join(dir, "r.lp"), "m v=100 1\nm v=200 2\nm v=3 3\nm v=4 4\n", false)
	do(t, "POST", base+"/write?db=r", []byte("m v=1 1\nm v=2 2"), nil)
	abs, _ := filepath.Abs(in)
	writeFile(t, st, `{"version":1,"files":{"`+abs+`":{"size":36,"lines":2}}}`, false)
	if code, stdout, stderr := runCmd(t, "import", "--url", base, "--db", "r", "--quiet", "--state", st, "--resume", in); code != 0 || !strings.Contains(stdout, "imported 2 lines") {
		t.Fatalf("resume: %d %s %s", code, stdout, stderr)
	}
	if _, out, _ := runCmd(t, "export", "--url", base, "--db", "r"); out != "m v=1 1\nm v=2 2\nm v=3 3\nm v=4 4\n" {
		t.Fatalf("resumed data: %q", out)
	}
	// The state now marks the file done: resuming again writes nothing.
	if code, stdout, _ := runCmd(t, "import", "--url", base, "--db", "r", "--quiet", "--state", st, "--resume", in); code != 0 || !strings.Contains(stdout, "imported 0 lines") {
		t.Fatalf("second resume: %d %s", code, stdout)
	}
	// A file that changed since cannot be resumed.
	writeFile(t, in, "m v=5 5\n", false)
	if code, _, stderr := runCmd(t, "import", "--url", base, "--db", "r", "--quiet", "--state", st, "--resume", in); code != 1 || !strings.Contains(stderr, "start over without --resume") {
		t.Fatalf("changed file: %d %s", code, stderr)
	}
	// An unknown database stops the import with an error.
	if code, _, stderr := runCmd(t, "import", "--url", base, "--db", "nope", "--quiet", "--state", st, in); code != 1 || !strings.Contains(stderr, "database not found") {
		t.Fatalf("unknown db: %d %s", code, stderr)
	}
}

// TestImportStateGoldenV1 decodes the version-1 state file of
// docs/format/import-state.md and resumes from it.
func TestImportStateGoldenV1(t *testing.T) {
	tr, err := openResumeTracker("../../testdata/import/state-v1.json", true)
	if err != nil {
		t.Fatal(err)
	}
	cpu := &importInput{name: "cpu.lp.gz", key: "/data/in/cpu.lp.gz", size: 1048576}
	if skip, done, err := tr.start(cpu); err != nil || skip != 120000 || done {
		t.Fatalf("cpu: skip %d done %v err %v", skip, done, err)
	}
	mem := &importInput{name: "mem.lp", key: "/data/in/mem.lp", size: 2048}
	if _, done, err := tr.start(mem); err != nil || !done {
		t.Fatalf("mem: done %v err %v", done, err)
	}
	changed := &importInput{name: "mem.lp", key: "/data/in/mem.lp", size: 10}
	if _, _, err := tr.start(changed); err == nil {
		t.Fatal("a changed file resumed")
	}
	bad := filepath.Join(t.TempDir(), "v2.json")
	writeFile(t, bad, `{"version":2,"files":{}}`, false)
	if _, err := openResumeTracker(bad, true); err == nil || !strings.Contains(err.Error(), "state version 2") {
		t.Fatalf("version 2: %v", err)
	}
}

// TestImportInterruptedResume cancels a real import mid-way (as Ctrl-C does),
// then --resume finishes it: every line is there once, and the resumed run
// skips what the first wrote.
func TestImportInterruptedResume(t *testing.T) {
	dir := t.TempDir()
	s, base := startTestServer(t, testConfig(filepath.Join(dir, "data")))
	defer s.shutdown(5 * time.Second)
	runQuery(t, base, "CREATE DATABASE db")
	const lines = 100000
	var b strings.Builder
	for i := range lines {
		fmt.Fprintf(&b, "m,h=%d v=%di %d\n", i%10, i, i)
	}
	in := writeFile(t, filepath.Join(dir, "in.lp"), b.String(), false)
	st := filepath.Join(dir, "state")
	cfg := importConfig{db: "db", precision: "ns", format: "auto", batchLines: 500, batchBytes: defaultBatchBytes, writers: 1,
		rejects: filepath.Join(dir, "rej"), state: st, quiet: true, files: []string{in}}
	cfg.conn.url = base
	// A proxy in front of the server cancels the import (as Ctrl-C does) once
	// 20 batches were answered.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	target, _ := url.Parse(base)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var writes atomic.Int64
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxy.ServeHTTP(w, r)
		if r.URL.Path == "/write" && writes.Add(1) == 20 {
			cancel()
		}
	}))
	defer front.Close()
	cfg.conn.url = front.URL
	sum, err := runImport(ctx, cfg, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "interrupted; continue with --resume") {
		t.Fatalf("interrupted import: %v %v", sum, err)
	}
	first := sum.lines
	if first == 0 || first >= lines {
		t.Fatalf("the first run wrote %d lines: not an interruption mid-way", first)
	}
	code, stdout, stderr := runCmd(t, "import", "--url", base, "--db", "db", "--quiet", "--state", st, "--resume", in)
	if code != 0 {
		t.Fatalf("resume: %d %s %s", code, stdout, stderr)
	}
	var second int64
	fmt.Sscanf(stdout, "imported %d lines", &second)
	if second <= 0 || first+second > lines+int64(cfg.batchLines) {
		t.Fatalf("first run %d lines, resumed run %d: the resume did not skip the written prefix", first, second)
	}
	r := runQuery(t, base, "SELECT count(v), sum(v) FROM db..m")
	if !strings.Contains(r.body, fmt.Sprintf(`"1970-01-01T00:00:00Z",%d,%d]`, lines, lines*(lines-1)/2)) {
		t.Fatalf("after resume: %s", r.body)
	}
}
