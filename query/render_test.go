package query

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// The engine's tests compare answers with InfluxDB's JSON. The real renderer is
// httpapi's (which query must not import); this one gives the same bytes for
// non-chunked, non-pretty JSON through encoding/json, whose output httpapi
// reproduces, so golden strings stay readable as /query answers.

type jsonSeries struct {
	Name    string            `json:"name,omitempty"`
	Tags    map[string]string `json:"tags,omitempty"`
	Columns []string          `json:"columns,omitempty"`
	Values  [][]any           `json:"values,omitempty"`
}

type jsonMessage struct {
	Level string `json:"level"`
	Text  string `json:"text"`
}

type jsonResult struct {
	StatementID int           `json:"statement_id"`
	Series      []jsonSeries  `json:"series,omitempty"`
	Messages    []jsonMessage `json:"messages,omitempty"`
	Error       string        `json:"error,omitempty"`
}

// renderResults renders whole statement results (a Collector's) as /query's
// non-chunked JSON answer, without the trailing newline.
func renderResults(results []*StatementResult) (string, error) {
	if len(results) == 0 {
		return "{}", nil
	}
	doc := struct {
		Results []jsonResult `json:"results"`
	}{}
	for _, r := range results {
		jr := jsonResult{StatementID: r.StatementID, Error: r.Err}
		loc := r.Location
		if loc == nil {
			loc = time.UTC
		}
		for _, s := range r.Series {
			js := jsonSeries{Name: s.Name, Tags: s.Tags, Columns: s.Columns}
			for _, row := range s.Rows {
				width := len(s.Columns)
				if !s.NoTime {
					width--
				}
				if len(row.Values) != width {
					return "", fmt.Errorf("series %q: row of %d values for columns %v", s.Name, len(row.Values), s.Columns)
				}
				var vals []any
				if !s.NoTime {
					vals = append(vals, time.Unix(0, row.Time).In(loc).Format(time.RFC3339Nano))
				}
				for _, v := range row.Values {
					switch x := v.(type) {
					case nil, int64, int, uint64, string, bool:
					case float64:
						if math.IsNaN(x) || math.IsInf(x, 0) {
							v = nil
						}
					default:
						return "", fmt.Errorf("unsupported value type %T in series %q", v, s.Name)
					}
					vals = append(vals, v)
				}
				if vals == nil {
					vals = []any{}
				}
				js.Values = append(js.Values, vals)
			}
			jr.Series = append(jr.Series, js)
		}
		for _, m := range r.Messages {
			jr.Messages = append(jr.Messages, jsonMessage{m.Level, m.Text})
		}
		doc.Results = append(doc.Results, jr)
	}
	b, err := json.Marshal(doc)
	return string(b), err
}

// renderJSON renders one statement's result as /query answers it.
func renderJSON(t testing.TB, res *StatementResult) string {
	t.Helper()
	out, err := renderResults([]*StatementResult{res})
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(out, "\n")
}

const t0 = 1704067200 * int64(time.Second) // 2024-01-01T00:00:00Z, the fixtures' first point
