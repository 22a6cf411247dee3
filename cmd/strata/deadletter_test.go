package main

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestDeadLettersOfHTTPWrites: every refusal of /write and /api/v2/write (a
// line that does not parse, a type conflict) lands one letter with its reason,
// raw line and source; a write the server could not take lands none.
func TestDeadLettersOfHTTPWrites(t *testing.T) {
	s, base := startTestServer(t, testConfig(t.TempDir()))
	defer s.shutdown(10 * time.Second)
	runQuery(t, base, "CREATE DATABASE db")
	cases := []struct {
		path, body string
		status     int
	}{
		{"/write?db=db", "cpu v=1i 1\ncpu v=oops 2\ncpu v=2.5 3\ncpu v=3i 4", 400},
		{"/api/v2/write?bucket=db", "mem free=", 400},
		{"/write?db=missing", "cpu v=oops", 404},
	}
	for _, c := range cases {
		if r := do(t, "POST", base+c.path, []byte(c.body), nil); r.status != c.status {
			t.Fatalf("%s: status %d %s", c.path, r.status, r.body)
		}
	}
	r := runQuery(t, base, `SELECT "raw", "reason", "source", "size" FROM "_deadletter"."autogen"."rejected"`)
	for _, want := range []string{
		`"cpu v=oops 2","invalid boolean","http:/write",12]`,
		`"cpu v=2.5 3","field type conflict: input field \"v\" on measurement \"cpu\" is type float, already exists as type integer","http:/write",11]`,
		`"mem free=","missing field value","http:/api/v2/write",9]`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("dead letters lack %s\n%s", want, r.body)
		}
	}
	if strings.Count(r.body, `"http:`) != 3 {
		t.Errorf("want exactly three letters: %s", r.body)
	}
}

// TestDeadLetterReplay: lines refused for a type conflict are replayed after
// the conflicting measurement is dropped; a second replay stores nothing twice,
// including a line that had no timestamp.
func TestDeadLetterReplay(t *testing.T) {
	s, base := startTestServer(t, testConfig(t.TempDir()))
	defer s.shutdown(10 * time.Second)
	runQuery(t, base, "CREATE DATABASE db")
	do(t, "POST", base+"/write?db=db", []byte("cpu v=1i 1\nmem x=1i 1"), nil)
	do(t, "POST", base+"/write?db=db", []byte("cpu v=2.5 2\nmem x=7.5\ncpu v=oops 3"), nil)
	for _, m := range []string{"cpu", "mem"} {
		r := do(t, "POST", base+"/query?db=db", []byte("q="+url.QueryEscape(`DROP MEASUREMENT "`+m+`"`)),
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
		if r.status != 200 || strings.Contains(r.body, "error") {
			t.Fatalf("drop %s: %s", m, r.body)
		}
	}
	for round := range 2 {
		var out, errs strings.Builder
		if rc := run([]string{"deadletter", "replay", "--url", base, "--since", "1h"}, &out, &errs); rc != 0 {
			t.Fatalf("replay: %d %s %s", rc, out.String(), errs.String())
		}
		if want := "letters 3: replayed 2 lines (0 refused again), skipped 1 unparsable"; !strings.Contains(out.String(), want) {
			t.Fatalf("round %d: %q, want %q", round, out.String(), want)
		}
	}
	got := append(dump(t, s.eng, "db", "cpu"), dump(t, s.eng, "db", "mem")...)
	if len(got) != 2 || got[0] != "cpu v=2.5@2" || !strings.HasPrefix(got[1], "mem x=7.5@") {
		t.Fatalf("after two replays: %q", got)
	}
}
