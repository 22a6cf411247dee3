package main

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// queryCompatEntry is one recorded request of testdata/compat/queries.jsonl (see
// /work/shared/compat/replay.py for the format; this test implements its comparison).
type queryCompatEntry struct {
	Name          string            `json:"name"`
	Kind          string            `json:"kind"`
	Method        string            `json:"method"`
	Path          string            `json:"path"`
	Params        map[string]string `json:"params"`
	Body          *string           `json:"body"`
	BodyB64       string            `json:"body_b64"`
	BodyFile      string            `json:"body_file"`
	Headers       map[string]string `json:"headers"`
	Status        int               `json:"status"`
	Response      string            `json:"response"`
	ResponseRegex string            `json:"response_regex"`
	Compare       string            `json:"compare"`
	SortTies      bool              `json:"sort_ties"`
}

// queryCompatDifferences are the answers where Strata deliberately differs from
// InfluxDB 1.6.7. The value replaces the recorded status and response (and the
// comparison mode, when set).
var queryCompatDifferences = map[string]struct {
	status   int
	response string
	compare  string
	why      string
}{
	// 1.6.7 (non-chunked) replaces a failing statement's error with the "not
	// executed" marker meant for the statements after it; Strata reports the real
	// error. The message is the one agg13_mean_of_string_error expects.
	"http21_unknown_db_two_statements":    {200, `{"results":[{"statement_id":0,"error":"database not found: oracle_no_such_db"}]}` + "\n", "", "real error, not \"not executed\""},
	"http35_multi_statement_first_fails":  {200, `{"results":[{"statement_id":0,"error":"unsupported mean iterator type: *query.stringInterruptIterator"}]}` + "\n", "", "real error, not \"not executed\""},
	"http36_multi_statement_middle_fails": {200, `{"results":[{"statement_id":0,"series":[{"name":"status","columns":["time","count"],"values":[["1970-01-01T00:00:00Z",465]]}]},{"statement_id":1,"error":"unsupported mean iterator type: *query.stringInterruptIterator"}]}` + "\n", "", "real error, not \"not executed\""},
	// Chunked, 1.6.7 sends the real error and then a second result for the same
	// statement saying "not executed"; Strata sends the error once.
	"http37_multi_statement_middle_fails_chunked": {200, `{"results":[{"statement_id":0,"series":[{"name":"status","columns":["time","count"],"values":[["1970-01-01T00:00:00Z",465]]}]}]}` + "\n" +
		`{"results":[{"statement_id":1,"error":"unsupported mean iterator type: *query.stringInterruptIterator"}]}` + "\n", "", "no duplicate \"not executed\" result"},
	// Statements that change something are refused over GET (405), where 1.x
	// runs them with a deprecation warning: a GET must be safe to prefetch,
	// retry or have a browser send from an <img> tag on another site. So the
	// database of ddl03 is never created, and ddl04 does not list it.
	"ddl03_create_database_via_get": {405, `{"error":"CREATE DATABASE oracle_get changes data and must be sent with POST, not GET"}` + "\n", "", "mutations need POST"},
	"ddl04_show_databases_after":    {200, `{"results":[{"statement_id":0,"series":[{"name":"databases","columns":["name"],"values":[["oracle"],["oracle_scratch"]]}]}]}` + "\n", "", "mutations need POST"},
	"ddl05_drop_database_via_get":   {405, `{"error":"DROP DATABASE oracle_get changes data and must be sent with POST, not GET"}` + "\n", "", "mutations need POST"},
	// Strata serves /health (InfluxDB added it in 1.8) for load balancers.
	"http04_health_absent": {200, "", "status", "/health exists"},
}

// queryCompatPending are the cases Strata does not answer as 1.6.7 does yet (or as
// queryCompatDifferences says), each with the reason. The test fails when one of
// them starts to pass, so the list shrinks as the query engine lands.
var queryCompatPending = map[string]string{}

func loadQueryCompat(t *testing.T, name string) []queryCompatEntry {
	return readJSONL[queryCompatEntry](t, filepath.Join("../../testdata/compat", name))
}

// TestCompatQueries replays InfluxDB 1.6.7's recorded /query requests (and the
// /ping, /status and dataset writes around them) in file order against a real
// server, comparing status and body as replay.py does. Set STRATA_COMPAT_SHOW=1 to
// log the differences of the pending cases too.
func TestCompatQueries(t *testing.T) {
	s, base := startTestServer(t, testConfig(t.TempDir()))
	defer s.shutdown(10 * time.Second)
	// Like replay.py's urllib: no automatic Accept-Encoding, no redirects.
	client := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	entries := loadQueryCompat(t, "queries.jsonl")
	names := map[string]bool{}
	for _, e := range entries {
		if names[e.Name] {
			t.Errorf("corpus names %q twice", e.Name)
		}
		names[e.Name] = true
	}
	for name := range queryCompatDifferences {
		if !names[name] {
			t.Errorf("queryCompatDifferences names %q, which the corpus lacks", name)
		}
	}
	for name := range queryCompatPending {
		if !names[name] {
			t.Errorf("queryCompatPending names %q, which the corpus lacks", name)
		}
	}
	show := os.Getenv("STRATA_COMPAT_SHOW") != ""
	var nowPassing []string
	matched := 0
	for _, e := range entries {
		want := e
		if d, ok := queryCompatDifferences[e.Name]; ok {
			want.Status, want.Response = d.status, d.response
			if d.compare != "" {
				want.Compare = d.compare
			}
		}
		status, body := sendQueryCompat(t, client, base, e)
		problems := compareCompat(want, status, body)
		why, pending := queryCompatPending[e.Name]
		switch {
		case len(problems) == 0 && pending:
			nowPassing = append(nowPassing, e.Name)
		case len(problems) == 0:
			matched++
		case pending:
			if show {
				t.Logf("pending %s (%s): %s", e.Name, why, strings.Join(problems, "; "))
			}
		default:
			t.Errorf("%s [%s %s %v]:\n  %s", e.Name, e.Method, e.Path, e.Params, strings.Join(problems, "\n  "))
		}
	}
	if len(nowPassing) > 0 {
		t.Errorf("now passing, remove from pending: %s", strings.Join(nowPassing, ", "))
	}
	t.Logf("%d of %d entries match InfluxDB 1.6.7 (or the listed deliberate difference); %d pending",
		matched, len(entries), len(queryCompatPending))
}

// sendQueryCompat sends one entry as replay.py does and returns the status and the
// body (gunzipped when the server compressed it).
func sendQueryCompat(t *testing.T, client *http.Client, base string, e queryCompatEntry) (int, string) {
	t.Helper()
	var body []byte
	switch {
	case e.BodyB64 != "":
		b, err := base64.StdEncoding.DecodeString(e.BodyB64)
		if err != nil {
			t.Fatalf("%s: %v", e.Name, err)
		}
		body = b
	case e.BodyFile != "":
		b, err := os.ReadFile(filepath.Join("../../testdata/compat", e.BodyFile))
		if err != nil {
			t.Fatalf("%s: %v", e.Name, err)
		}
		body = b
	case e.Body != nil:
		body = []byte(*e.Body)
	}
	q := url.Values{}
	for k, v := range e.Params {
		q.Set(k, v)
	}
	u := base + e.Path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(e.Method, u, rd)
	if err != nil {
		t.Fatalf("%s: %v", e.Name, err)
	}
	for k, v := range e.Headers {
		req.Header.Set(k, v)
	}
	if body != nil && (e.Method == "POST" || e.Method == "PUT") && req.Header.Get("Content-Type") == "" {
		// As replay.py: a form for /query (Go's ParseForm then reads the body),
		// text for everything else.
		if e.Path == "/query" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req.Header.Set("Content-Type", "text/plain; charset=utf-8")
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", e.Name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: reading the answer: %v", e.Name, err)
	}
	if strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") && len(b) > 0 {
		if zr, err := gzip.NewReader(bytes.NewReader(b)); err == nil {
			if d, err := io.ReadAll(zr); err == nil {
				b = d
			}
		}
	}
	return resp.StatusCode, string(b)
}

// compareCompat compares an answer with the entry's expectation as replay.py's
// compare does, returning the differences.
func compareCompat(e queryCompatEntry, status int, body string) []string {
	var problems []string
	if status != e.Status {
		problems = append(problems, fmt.Sprintf("status %d != %d", e.Status, status))
	}
	switch e.Compare {
	case "status":
	case "regex":
		re, err := regexp.Compile(e.ResponseRegex)
		if err != nil {
			return append(problems, fmt.Sprintf("bad response_regex: %v", err))
		}
		if !re.MatchString(body) {
			problems = append(problems, fmt.Sprintf("body %q does not match /%s/", clip(body), e.ResponseRegex))
		}
	case "text":
		if body != e.Response {
			problems = append(problems, fmt.Sprintf("body %q != %q", clip(e.Response), clip(body)))
		}
	case "", "json", "json_ignore_time":
		want, err1 := parseJSONDocs(e.Response)
		got, err2 := parseJSONDocs(body)
		if err1 != nil || err2 != nil {
			if strings.TrimSpace(e.Response) != strings.TrimSpace(body) {
				problems = append(problems, fmt.Sprintf("non-JSON body %q != %q", clip(e.Response), clip(body)))
			}
			return problems
		}
		if e.Compare == "json_ignore_time" {
			blankTime(want)
			blankTime(got)
		}
		if e.SortTies {
			sortTies(want)
			sortTies(got)
		}
		diffJSON(want, got, "$", &problems)
	default:
		problems = append(problems, fmt.Sprintf("unknown compare mode %q", e.Compare))
	}
	return problems
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

// parseJSONDocs parses zero or more JSON documents back to back (a chunked
// answer), keeping numbers as their text.
func parseJSONDocs(s string) ([]any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	docs := []any{}
	for {
		var v any
		err := dec.Decode(&v)
		if err == io.EOF {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, v)
	}
}

// diffJSON appends the differences between want and got, comparing numbers by
// value as Python does (integers exactly, 1 equal to 1.0) and stopping after 20.
func diffJSON(want, got any, path string, out *[]string) {
	if len(*out) > 20 {
		return
	}
	switch w := want.(type) {
	case json.Number:
		g, ok := got.(json.Number)
		if !ok {
			*out = append(*out, fmt.Sprintf("%s: type number (%s) != %T (%v)", path, w, got, got))
		} else if !sameNumber(w, g) {
			*out = append(*out, fmt.Sprintf("%s: %s != %s", path, w, g))
		}
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			*out = append(*out, fmt.Sprintf("%s: type object != %T (%v)", path, got, got))
			return
		}
		keys := map[string]bool{}
		for k := range w {
			keys[k] = true
		}
		for k := range g {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			wv, inW := w[k]
			gv, inG := g[k]
			switch {
			case !inG:
				*out = append(*out, fmt.Sprintf("%s: key %q missing in actual", path, k))
			case !inW:
				*out = append(*out, fmt.Sprintf("%s: unexpected key %q in actual (=%v)", path, k, gv))
			default:
				diffJSON(wv, gv, path+"."+k, out)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			*out = append(*out, fmt.Sprintf("%s: type list != %T (%v)", path, got, got))
			return
		}
		if len(w) != len(g) {
			*out = append(*out, fmt.Sprintf("%s: list length %d != %d", path, len(w), len(g)))
		}
		for i := range min(len(w), len(g)) {
			diffJSON(w[i], g[i], fmt.Sprintf("%s[%d]", path, i), out)
		}
	default: // string, bool, nil
		if fmt.Sprintf("%T", want) != fmt.Sprintf("%T", got) || want != got {
			*out = append(*out, fmt.Sprintf("%s: %#v != %#v", path, want, got))
		}
	}
}

// sameNumber compares two JSON numbers as Python compares int(text) or
// float(text): integers exactly, floats after rounding to float64, and an integer
// with a float by exact value.
func sameNumber(a, b json.Number) bool {
	ra, okA := pyNumber(string(a))
	rb, okB := pyNumber(string(b))
	if !okA || !okB {
		return a == b
	}
	return ra.Cmp(rb) == 0
}

// pyNumber is the exact value of Python's reading of a JSON number.
func pyNumber(s string) (*big.Rat, bool) {
	if !strings.ContainsAny(s, ".eE") {
		i, ok := new(big.Int).SetString(s, 10)
		if !ok {
			return nil, false
		}
		return new(big.Rat).SetInt(i), true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, false
	}
	r := new(big.Rat)
	if r.SetFloat64(f) == nil {
		return nil, false
	}
	return r, true
}

// forEachSeries calls fn for every object holding a "columns" list with a "time"
// column and a "values" list, with the time column's index.
func forEachSeries(v any, fn func(obj map[string]any, timeIdx int)) {
	switch x := v.(type) {
	case map[string]any:
		if cols, ok := x["columns"].([]any); ok {
			if _, ok := x["values"].([]any); ok {
				for i, c := range cols {
					if c == "time" {
						fn(x, i)
						break
					}
				}
			}
		}
		for _, c := range x {
			forEachSeries(c, fn)
		}
	case []any:
		for _, c := range x {
			forEachSeries(c, fn)
		}
	}
}

// blankTime hides the time column (json_ignore_time: points stamped with the
// server's clock).
func blankTime(docs []any) {
	forEachSeries(docs, func(obj map[string]any, idx int) {
		for _, r := range obj["values"].([]any) {
			if row, ok := r.([]any); ok && idx < len(row) {
				row[idx] = "<time>"
			}
		}
	})
}

// sortTies orders the rows that share a timestamp canonically (sort_ties: points
// of several series merged into one result come in no defined order).
func sortTies(docs []any) {
	forEachSeries(docs, func(obj map[string]any, idx int) {
		vals := obj["values"].([]any)
		key := func(r any) string { b, _ := json.Marshal(r); return string(b) }
		timeOf := func(r any) string {
			if row, ok := r.([]any); ok && idx < len(row) {
				return key(row[idx])
			}
			return ""
		}
		for i := 0; i < len(vals); {
			j := i + 1
			for j < len(vals) && timeOf(vals[j]) == timeOf(vals[i]) {
				j++
			}
			group := vals[i:j]
			sort.SliceStable(group, func(a, b int) bool { return key(group[a]) < key(group[b]) })
			i = j
		}
	})
}

// TestCompareCompat checks the comparison itself, so a broken comparator cannot
// make the replay pass.
func TestCompareCompat(t *testing.T) {
	cases := []struct {
		name    string
		e       queryCompatEntry
		status  int
		body    string
		matches bool
	}{
		{"json_same", queryCompatEntry{Status: 200, Response: `{"a":[1,"x",true,null]}`}, 200, `{"a": [1, "x", true, null]}`, true},
		{"json_status", queryCompatEntry{Status: 200, Response: `{}`}, 400, `{}`, false},
		{"json_int_equals_float", queryCompatEntry{Status: 200, Response: `[1, 0.5]`}, 200, `[1.0, 5e-1]`, true},
		{"json_big_ints_exact", queryCompatEntry{Status: 200, Response: `[1704067200000000000]`}, 200, `[1704067200000000001]`, false},
		{"json_number_vs_string", queryCompatEntry{Status: 200, Response: `[1]`}, 200, `["1"]`, false},
		{"json_missing_key", queryCompatEntry{Status: 200, Response: `{"a":1,"b":2}`}, 200, `{"a":1}`, false},
		{"json_extra_key", queryCompatEntry{Status: 200, Response: `{"a":1}`}, 200, `{"a":1,"partial":true}`, false},
		{"json_list_length", queryCompatEntry{Status: 200, Response: `[1,2]`}, 200, `[1,2,3]`, false},
		{"json_chunked_docs", queryCompatEntry{Status: 200, Response: "{\"a\":1}\n{\"a\":2}\n"}, 200, `{"a":1}{"a":2}`, true},
		{"json_chunked_doc_missing", queryCompatEntry{Status: 200, Response: "{\"a\":1}\n{\"a\":2}\n"}, 200, `{"a":1}`, false},
		{"json_empty_both", queryCompatEntry{Status: 204}, 204, "", true},
		{"json_non_json_text", queryCompatEntry{Status: 404, Response: "404 page not found\n"}, 404, "404 page not found", true},
		{"json_non_json_differs", queryCompatEntry{Status: 404, Response: "404 page not found\n"}, 404, "nope", false},
		{"text_exact", queryCompatEntry{Compare: "text", Status: 200, Response: "a,b\n"}, 200, "a,b\n", true},
		{"text_differs", queryCompatEntry{Compare: "text", Status: 200, Response: "a,b\n"}, 200, "a,b", false},
		{"status_only", queryCompatEntry{Compare: "status", Status: 200, Response: "x"}, 200, "y", true},
		{"regex", queryCompatEntry{Compare: "regex", Status: 200, ResponseRegex: `^\{"e":"(shard \d+: )?x"\}\s*$`}, 200, "{\"e\":\"x\"}\n", true},
		{"regex_no_match", queryCompatEntry{Compare: "regex", Status: 200, ResponseRegex: `^x$`}, 200, "y", false},
		{"ignore_time", queryCompatEntry{Compare: "json_ignore_time", Status: 200, Response: `{"columns":["time","v"],"values":[["2024-01-01T00:00:00Z",1]]}`}, 200, `{"columns":["time","v"],"values":[["2025-01-01T00:00:00Z",1]]}`, true},
		{"ignore_time_not_values", queryCompatEntry{Compare: "json_ignore_time", Status: 200, Response: `{"columns":["time","v"],"values":[["2024-01-01T00:00:00Z",1]]}`}, 200, `{"columns":["time","v"],"values":[["2025-01-01T00:00:00Z",2]]}`, false},
		{"time_compared_by_default", queryCompatEntry{Status: 200, Response: `{"columns":["time","v"],"values":[["2024-01-01T00:00:00Z",1]]}`}, 200, `{"columns":["time","v"],"values":[["2025-01-01T00:00:00Z",1]]}`, false},
		{"sort_ties", queryCompatEntry{SortTies: true, Status: 200, Response: `{"columns":["time","v"],"values":[[1,"a"],[1,"b"],[2,"c"]]}`}, 200, `{"columns":["time","v"],"values":[[1,"b"],[1,"a"],[2,"c"]]}`, true},
		{"sort_ties_only_ties", queryCompatEntry{SortTies: true, Status: 200, Response: `{"columns":["time","v"],"values":[[1,"a"],[2,"c"]]}`}, 200, `{"columns":["time","v"],"values":[[2,"c"],[1,"a"]]}`, false},
		{"no_sort_without_flag", queryCompatEntry{Status: 200, Response: `{"columns":["time","v"],"values":[[1,"a"],[1,"b"]]}`}, 200, `{"columns":["time","v"],"values":[[1,"b"],[1,"a"]]}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			problems := compareCompat(tc.e, tc.status, tc.body)
			if (len(problems) == 0) != tc.matches {
				t.Errorf("matches=%v, problems %q", len(problems) == 0, problems)
			}
		})
	}
}
