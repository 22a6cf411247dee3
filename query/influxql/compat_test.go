package influxql

import (
	"bufio"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/influxql")

const testdataDir = "../../testdata/influxql"

// compatCase is one query recorded from InfluxDB 1.6.7 (see
// testdata/influxql/README.md): it must parse, or fail with ParseError
// exactly; StatementError is what the server returned for a statement.
type compatCase struct {
	Name           string `json:"name"`
	Q              string `json:"q"`
	ParseError     string `json:"parse_error,omitempty"`
	StatementError string `json:"statement_error,omitempty"`
}

// frontendErrors are the recorded statement errors this package produces
// (from TimeCondition); the others need the function library (checked by
// query/funcs' TestValidateCompat), a schema or a server.
var frontendErrors = map[string]bool{
	"invalid operation: time and *influxql.StringLiteral are not compatible": true,
}

func readCompatCases(t testing.TB) []compatCase {
	t.Helper()
	f, err := os.Open(filepath.Join(testdataDir, "compat_queries.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []compatCase
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var c compatCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("compat_queries.jsonl: %v", err)
		}
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 100 {
		t.Fatalf("only %d compat cases", len(cases))
	}
	return cases
}

// frontendCheck runs the analyses the executor will run before touching
// data and returns the first error.
func frontendCheck(q *Query) error {
	now := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	for _, st := range q.Statements {
		sel, ok := st.(*SelectStatement)
		if !ok {
			continue
		}
		if _, _, err := TimeCondition(sel.Condition, now, sel.Location); err != nil {
			return err
		}
	}
	return nil
}

// TestCompat_Queries parses every query recorded from InfluxDB 1.6.7 and
// compares the canonical form with the golden file (regenerate with
// `go test -run TestCompat_Queries -update`).
func TestCompat_Queries(t *testing.T) {
	cases := readCompatCases(t)
	var golden strings.Builder
	for _, c := range cases {
		q, err := ParseQuery(c.Q)
		if c.ParseError != "" {
			if err == nil || err.Error() != c.ParseError {
				t.Errorf("%s: ParseQuery(%q) error = %v, want %q", c.Name, c.Q, err, c.ParseError)
			}
			golden.WriteString(c.Name + "\terror: " + c.ParseError + "\n")
			continue
		}
		if err != nil {
			t.Errorf("%s: ParseQuery(%q): %v", c.Name, c.Q, err)
			continue
		}
		canon := q.String()
		q2, err := ParseQuery(canon)
		if err != nil || q2.String() != canon {
			t.Errorf("%s: canonical form %q does not round trip: %v", c.Name, canon, err)
		}
		err = frontendCheck(q)
		switch {
		case frontendErrors[c.StatementError]:
			if err == nil || err.Error() != c.StatementError {
				t.Errorf("%s: statement error = %v, want %q", c.Name, err, c.StatementError)
			}
		case err != nil:
			t.Errorf("%s: unexpected statement error %v", c.Name, err)
		}
		golden.WriteString(c.Name + "\t" + strings.ReplaceAll(canon, "\n", " ") + "\n")
	}
	path := filepath.Join(testdataDir, "compat_canonical.golden")
	if *update {
		if err := os.WriteFile(path, []byte(golden.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if golden.String() != string(want) {
		gotLines, wantLines := strings.Split(golden.String(), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gotLines) && i < len(wantLines); i++ {
			if gotLines[i] != wantLines[i] {
				t.Fatalf("golden mismatch at line %d:\n got %s\nwant %s", i+1, gotLines[i], wantLines[i])
			}
		}
		t.Fatalf("golden mismatch: %d lines, want %d", len(gotLines), len(wantLines))
	}
}
