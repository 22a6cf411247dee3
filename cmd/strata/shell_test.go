package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestShellExecute(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.authEnabled = true
	s, base := startTestServer(t, cfg)
	defer s.shutdown(5 * time.Second)
	runQuery(t, base, "CREATE USER admin WITH PASSWORD 'pw' WITH ALL PRIVILEGES")
	do(t, "POST", base+"/query?u=admin&p=pw", []byte("q=CREATE+DATABASE+db"), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	do(t, "POST", base+"/write?db=db&u=admin&p=pw", []byte("cpu,host=a usage=0.5 1000000000\ncpu,host=b usage=1.5 2000000000"), nil)
	port := base[strings.LastIndex(base, ":")+1:]
	auth := []string{"shell", "-host", "127.0.0.1", "-port", port, "-username", "admin", "-password", "pw", "-database", "db"}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"column", []string{"-execute", "SELECT usage FROM cpu GROUP BY host"},
			"name: cpu\ntags: host=a\ntime                 usage\n----                 -----\n1970-01-01T00:00:01Z 0.5\n\nname: cpu\ntags: host=b\ntime                 usage\n----                 -----\n1970-01-01T00:00:02Z 1.5\n\n"},
		{"csv", []string{"-format", "csv", "-precision", "s", "-execute", "SELECT usage FROM cpu"},
			"name,tags,time,usage\ncpu,,1,0.5\ncpu,,2,1.5\n"},
		{"json", []string{"-format", "json", "-precision", "ns", "-execute", "SELECT usage FROM cpu WHERE host='a'"},
			`{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","usage"],"values":[[1000000000,0.5]]}]}]}` + "\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, stderr := runCmd(t, append(append([]string{}, auth...), c.args...)...)
			if code != 0 || out != c.want {
				t.Fatalf("exit %d\n%s\nwant:\n%s\nstderr: %s", code, out, c.want, stderr)
			}
		})
	}
	if code, _, stderr := runCmd(t, append(auth, "-execute", "SELECT nope FROM")...); code != 1 || !strings.Contains(stderr, "ERR:") {
		t.Fatalf("bad statement: %d %s", code, stderr)
	}
	if code, _, stderr := runCmd(t, "shell", "-url", base, "-execute", "SHOW DATABASES"); code != 1 || !strings.Contains(stderr, "ERR:") {
		t.Fatalf("no credentials: %d %s", code, stderr)
	}
}

// TestShellInteractive drives a session through readline on a pipe: use,
// settings, a statement over several lines, insert, history across sessions.
func TestShellInteractive(t *testing.T) {
	dir := t.TempDir()
	s, base := startTestServer(t, testConfig(filepath.Join(dir, "data")))
	defer s.shutdown(5 * time.Second)
	runQuery(t, base, "CREATE DATABASE db")
	runQuery(t, base, `CREATE RETENTION POLICY "short" ON "db" DURATION 0s REPLICATION 1`)
	do(t, "POST", base+"/write?db=db", []byte("cpu,host=a usage=0.5 1000000000\ncpu,host=b usage=1.5 2000000000"), nil)

	history := filepath.Join(dir, "history")
	session := func(script string) string {
		c, err := (&clientFlags{url: base}).client(nil)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		sh := &shell{c: c, out: &out, format: "column", precision: "rfc3339", names: &completionNames{}}
		if code := sh.interactive(io.NopCloser(strings.NewReader(script)), &out, &out, history); code != 0 {
			t.Fatalf("exit %d: %s", code, out.String())
		}
		return out.String()
	}
	out := session("use nope\nuse db\nformat csv\nprecision s\ntiming\nSELECT usage \\\nFROM cpu \\\nWHERE host = 'a'\n" +
		"SELECT max(usage\n) FROM cpu WHERE host = 'b'\n" +
		"insert mem,host=a used=7i 5\nSELECT used FROM mem\nuse db.short\ninsert mem,host=z used=1i 6\nSELECT used FROM mem\nexit\nSELECT never\n")
	for _, want := range []string{
		"Connected to " + base,
		"ERR: database nope doesn't exist",
		"Using database db\n",
		"name,tags,time,usage\ncpu,,1,0.5\n",
		"Timing enabled\n",
		"name,tags,time,max\ncpu,,2,1.5\n",
		"Elapsed: ",
		"name,tags,time,used\nmem,,5,7\n",
		"Using database db and retention policy short\n",
		"name,tags,time,used\nmem,,6,1\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("session output lacks %q:\n%s", want, out)
		}
	}
	// History persists across sessions.
	h, _ := os.ReadFile(history)
	if !strings.Contains(string(h), "use db.short") || strings.Contains(string(h), "SELECT never") {
		t.Fatalf("history:\n%s", h)
	}
	session("SHOW DATABASES\n")
	h2, _ := os.ReadFile(history)
	if !strings.HasPrefix(string(h2), string(h)) || !strings.Contains(string(h2), "SHOW DATABASES") {
		t.Fatalf("history of the second session:\n%s", h2)
	}

	// Completion: keywords in the case typed, functions, measurement names.
	c, _ := (&clientFlags{url: base}).client(nil)
	sh := &shell{c: c, out: io.Discard, format: "column", precision: "rfc3339", names: &completionNames{}}
	if err := sh.use(context.Background(), "db"); err != nil {
		t.Fatal(err)
	}
	comp := &completer{names: sh.names}
	for _, tc := range []struct {
		line string
		want []string
	}{
		{"SEL", []string{"ECT"}},
		{"sel", []string{"ect"}},
		{"SELECT mea", []string{"n("}},
		{"SELECT * FROM c", []string{"pu"}},
		{"SELECT * FROM m", []string{"em", "ean(", "edian(", "in(", "ode(", "ax("}},
	} {
		got, n := comp.Do([]rune(tc.line), len([]rune(tc.line)))
		var gs []string
		for _, g := range got {
			gs = append(gs, string(g))
		}
		for _, w := range tc.want {
			if !strings.Contains(strings.Join(gs, "|"), w) {
				t.Errorf("%q: completions %v (len %d) lack %q", tc.line, gs, n, w)
			}
		}
	}
}
