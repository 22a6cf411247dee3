package bench

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"
)

// ErrBadResponse marks a /query answer that is not InfluxDB 1.x's JSON.
var ErrBadResponse = errors.New("bad /query response")

// QueryError is an error the server reported for a query (a top-level "error" or
// the statement's "error").
type QueryError struct{ Msg string }

func (e *QueryError) Error() string { return e.Msg }

// meanTolerance is the relative difference allowed between a mean the server
// computes and the exact one: summation order changes the last bits, while a
// value stored wrongly (even 12.34 as 12.339999) is off by far more.
const meanTolerance = 1e-9

type wireResponse struct {
	Results []struct {
		Series []struct {
			Name    string            `json:"name"`
			Tags    map[string]string `json:"tags"`
			Columns []string          `json:"columns"`
			Values  [][]any           `json:"values"`
		} `json:"series"`
		Err string `json:"error"`
	} `json:"results"`
	Err string `json:"error"`
}

// DecodeResponse turns a /query answer holding one statement into a Result. Times
// may be RFC 3339 strings (the default) or integers (epoch=ns). An error the server
// reports is a *QueryError; malformed JSON wraps ErrBadResponse.
func DecodeResponse(body []byte) (Result, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var w wireResponse
	if err := dec.Decode(&w); err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrBadResponse, err)
	}
	if w.Err != "" {
		return Result{}, &QueryError{Msg: w.Err}
	}
	if len(w.Results) != 1 {
		return Result{}, fmt.Errorf("%w: %d results, want 1", ErrBadResponse, len(w.Results))
	}
	r := w.Results[0]
	if r.Err != "" {
		return Result{}, &QueryError{Msg: r.Err}
	}
	var res Result
	for _, ws := range r.Series {
		s := Series{Name: ws.Name, Tags: ws.Tags, Columns: ws.Columns}
		for i, row := range ws.Values {
			if len(row) != len(ws.Columns) {
				return Result{}, fmt.Errorf("%w: series %q row %d has %d values for %d columns", ErrBadResponse, ws.Name, i, len(row), len(ws.Columns))
			}
			out := make([]any, len(row))
			for j, cell := range row {
				v, err := decodeCell(ws.Columns[j], cell)
				if err != nil {
					return Result{}, fmt.Errorf("%w: series %q row %d column %q: %v", ErrBadResponse, ws.Name, i, ws.Columns[j], err)
				}
				out[j] = v
			}
			s.Values = append(s.Values, out)
		}
		res.Series = append(res.Series, s)
	}
	return res, nil
}

func decodeCell(col string, cell any) (any, error) {
	if col == "time" {
		switch v := cell.(type) {
		case string:
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return nil, err
			}
			return t.UnixNano(), nil
		case json.Number:
			return strconv.ParseInt(string(v), 10, 64)
		}
		return nil, fmt.Errorf("time is %T", cell)
	}
	switch v := cell.(type) {
	case json.Number:
		return strconv.ParseFloat(string(v), 64)
	case string, bool, nil:
		return v, nil
	}
	return nil, fmt.Errorf("unexpected %T", cell)
}

// Check compares a server's answer to query q with the expected one and describes
// the first difference. Rows of a series without GROUP BY are compared in order of
// time and then hostname, since InfluxDB does not fix the order of rows with equal
// times from different series.
func Check(q Query, want, got Result) error {
	if len(got.Series) != len(want.Series) {
		return fmt.Errorf("%d series, want %d", len(got.Series), len(want.Series))
	}
	spec := querySpecs[q.Type]
	for i := range want.Series {
		ws, gs := want.Series[i], got.Series[i]
		if gs.Name != ws.Name {
			return fmt.Errorf("series %d: name %q, want %q", i, gs.Name, ws.Name)
		}
		if !maps.Equal(gs.Tags, ws.Tags) {
			return fmt.Errorf("series %d: tags %v, want %v", i, gs.Tags, ws.Tags)
		}
		if !slices.Equal(gs.Columns, ws.Columns) {
			return fmt.Errorf("series %d: columns %v, want %v", i, gs.Columns, ws.Columns)
		}
		if len(gs.Values) != len(ws.Values) {
			return fmt.Errorf("series %d: %d rows, want %d", i, len(gs.Values), len(ws.Values))
		}
		gv := gs.Values
		if spec.fam == highCPU {
			gv = sortRows(gs.Columns, gv)
		}
		for r := range ws.Values {
			for c, w := range ws.Values[r] {
				if !cellEqual(w, gv[r][c]) {
					return fmt.Errorf("series %d row %d column %q: %s, want %s", i, r, ws.Columns[c], showCell(gs.Columns[c], gv[r][c]), showCell(ws.Columns[c], w))
				}
			}
		}
	}
	return nil
}

// sortRows returns rows ordered by time and then hostname.
func sortRows(cols []string, rows [][]any) [][]any {
	ti, hi := slices.Index(cols, "time"), slices.Index(cols, "hostname")
	if ti < 0 || hi < 0 {
		return rows
	}
	out := slices.Clone(rows)
	slices.SortStableFunc(out, func(a, b []any) int {
		at, _ := a[ti].(int64)
		bt, _ := b[ti].(int64)
		ah, _ := a[hi].(string)
		bh, _ := b[hi].(string)
		return cmp.Or(cmp.Compare(at, bt), cmp.Compare(ah, bh))
	})
	return out
}

func cellEqual(want, got any) bool {
	switch w := want.(type) {
	case float64:
		g, ok := got.(float64)
		if !ok {
			return false
		}
		return w == g || math.Abs(w-g) <= meanTolerance*math.Max(1, math.Abs(w))
	case nil:
		return got == nil
	}
	return want == got
}

func showCell(col string, v any) string {
	switch x := v.(type) {
	case int64:
		if col == "time" {
			return time.Unix(0, x).UTC().Format(time.RFC3339Nano)
		}
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return strconv.Quote(x)
	case nil:
		return "null"
	}
	return fmt.Sprint(v)
}
