package httpapi

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/strata-db/strata/query"
)

// TestResponseWriter_Budget checks that held output counts against the query's
// memory budget: past it the statement's answer is the limit error (its rows
// dropped when non-chunked, as for any statement error), the writer tells the
// executor so it stops, the next statement renders normally, and everything is
// given back at the end.
func TestResponseWriter_Budget(t *testing.T) {
	rows := func(n int) []Row {
		out := make([]Row, n)
		for i := range out {
			out[i] = row(t0+int64(i)*1e9, float64(i))
		}
		return out
	}
	piece := func(id int, n int, partial bool) *StatementResult {
		return &StatementResult{StatementID: id, Partial: partial, Series: []*ResultSeries{{
			Name: "cpu", Columns: []string{"time", "v"}, Rows: rows(n), Partial: partial}}}
	}
	for _, chunked := range []bool{true, false} {
		b := query.NewBudget(4096)
		var out bytes.Buffer
		w := NewResponseWriter(&out, Encoding{Epoch: "s"}, chunked, 10)
		w.SetBudget(b)
		if err := w.WriteResult(piece(0, 20, true)); err != nil {
			t.Fatalf("chunked %v: first piece: %v", chunked, err)
		}
		err := w.WriteResult(piece(0, 500, true))
		if chunked {
			// Chunks leave as they fill: what is held stays within a chunk.
			if err != nil {
				t.Fatalf("chunked: %v", err)
			}
			continue
		}
		if !errors.Is(err, query.ErrMemoryBudget) {
			t.Fatalf("chunked %v: over budget: %v", chunked, err)
		}
		// The executor ends the statement with the error, then runs the next one.
		if err := w.WriteResult(&StatementResult{StatementID: 0, Err: err.Error()}); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteResult(piece(1, 2, false)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		got := out.String()
		if !strings.Contains(got, `"statement_id":0,"error":"max-query-memory limit exceeded: (`) ||
			!strings.Contains(got, `{"statement_id":1,"series":[{"name":"cpu","columns":["time","v"],"values":[[1704067200,0],[1704067201,1]]}]}`) {
			t.Errorf("chunked %v: %s", chunked, got)
		}
		if !chunked && strings.Contains(got, "1704067219") {
			t.Errorf("non-chunked: the failed statement's rows stayed: %s", got)
		}
		if b.Used() != 0 || b.Peak() == 0 {
			t.Errorf("chunked %v: budget used %d peak %d after Close", chunked, b.Used(), b.Peak())
		}
	}
}
