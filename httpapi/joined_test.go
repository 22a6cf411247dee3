package httpapi

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/strata-db/strata/query"
)

// TestResponseWriter_JoinedRows: rows handed over joined (Row.EncodedRows,
// as the result cache serves a group's rows) print exactly as the same rows
// handed over one by one, whether held by reference or copied, across
// flushes between statements, and a statement that fails after its joined
// rows were held retracts them.
func TestResponseWriter_JoinedRows(t *testing.T) {
	plain := func(n int, from int64) []Row {
		out := make([]Row, n)
		for i := range out {
			out[i] = row(t0+(from+int64(i))*1e9, float64(from)+float64(i)/3)
		}
		return out
	}
	for _, pretty := range []bool{false, true} {
		enc := Encoding{Epoch: "ms", Pretty: pretty}
		joined := func(rows []Row) []Row {
			var probe bytes.Buffer
			rw := NewResponseWriter(&probe, enc, false, 0)
			re, _ := rw.RowEncoder()
			sep, ok := re.RowSeparator()
			if !ok {
				t.Fatal("a non-chunked writer refuses joined rows")
			}
			var b []byte
			for i := range rows {
				if i > 0 {
					b = append(b, sep...)
				}
				b = re.AppendRow(b, &rows[i], nil)
			}
			return []Row{{Time: rows[0].Time, Encoded: b, EncodedRows: len(rows)}}
		}
		// Statement 0: a small joined piece (copied) and a large one (held),
		// in two series; statement 1: a held piece, then its error; then 2.
		script := func(join bool) string {
			pick := func(rows []Row) []Row {
				if join {
					return joined(rows)
				}
				return rows
			}
			var out bytes.Buffer
			w := NewResponseWriter(&out, enc, false, 0)
			res := []*StatementResult{
				{StatementID: 0, Partial: true, Series: []*ResultSeries{{Name: "a", Columns: []string{"time", "v"}, Rows: pick(plain(3, 0))}}},
				{StatementID: 0, Series: []*ResultSeries{{Name: "b", Columns: []string{"time", "v"}, Rows: pick(plain(3000, 10))}}},
				{StatementID: 1, Partial: true, Series: []*ResultSeries{{Name: "c", Columns: []string{"time", "v"}, Rows: pick(plain(2000, 0))}}},
				{StatementID: 1, Err: "boom"},
				{StatementID: 2, Series: []*ResultSeries{{Name: "d", Columns: []string{"time", "v"}, Rows: pick(plain(5000, 7))}}},
			}
			for _, r := range res {
				if err := w.WriteResult(r); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			return out.String()
		}
		want, got := script(false), script(true)
		if got != want {
			t.Fatalf("pretty %v: joined rows print differently:\n%.400s\nwant\n%.400s", pretty, got, want)
		}
		if !bytes.Contains([]byte(got), []byte(`"boom"`)) || bytes.Contains([]byte(got), []byte(`"c"`)) {
			t.Fatalf("pretty %v: the failed statement's rows were not retracted: %.300s", pretty, got)
		}
	}
}

// TestResponseWriter_HeldAnswerGoesOutInLargeWrites: an answer held whole
// until its end (one statement of 100 series handed over joined, as a
// cached dashboard refresh is) goes out in writes of up to 1 MiB, not
// 64 KiB ones (each a loopback syscall and a reader's wake-up), and in the
// small ones when the query's budget cannot hold the larger buffer; the
// bytes are the same either way.
func TestResponseWriter_HeldAnswerGoesOutInLargeWrites(t *testing.T) {
	enc := Encoding{Epoch: "ms"}
	answer := func(budget *query.Budget) (string, int) {
		var w writeCounter
		rw := NewResponseWriter(&w, enc, false, 0)
		rw.SetBudget(budget)
		re, _ := rw.RowEncoder()
		sep, _ := re.RowSeparator()
		for s := range 100 {
			var b []byte
			for i := range 360 {
				if i > 0 {
					b = append(b, sep...)
				}
				r := row(t0+int64(i)*60e9, float64(s)+float64(i)/7)
				b = re.AppendRow(b, &r, nil)
			}
			res := &StatementResult{Partial: s < 99, Series: []*ResultSeries{{
				Name: "cpu", Tags: map[string]string{"hostname": fmt.Sprint("host_", s)}, Columns: []string{"time", "mean"},
				Rows: []Row{{Time: t0, Encoded: b, EncodedRows: 360}},
			}}}
			if err := rw.WriteResult(res); err != nil {
				t.Fatal(err)
			}
		}
		if err := rw.Close(); err != nil {
			t.Fatal(err)
		}
		return w.String(), w.writes
	}
	large, n := answer(nil)
	if len(large) < 1<<20 || n > 3 {
		t.Fatalf("a %d-byte held answer went out in %d writes, want at most 3", len(large), n)
	}
	// Room for the answer and a 64 KiB buffer, not a 1 MiB one.
	small, m := answer(query.NewBudget(int64(len(large)) + 2*flushThreshold + 64<<10))
	if small != large {
		t.Fatalf("the answer under a tight budget differs:\n%.300s\nwant\n%.300s", small, large)
	}
	if m < len(large)/flushThreshold {
		t.Fatalf("%d writes under a budget without room for a large buffer: it was not kept", m)
	}
}
