// Package nodewire is the node protocol's answer body: what a Strata node
// sends back to the node that fanned a SELECT out to it (POST
// /internal/v1/partial, docs/format/node-protocol.md). It is a pure codec,
// a leaf below the query engine and the HTTP edges: the node's schema of the
// statement's sources, then series, each with the per-window partial states
// of the calls that merge (query/partial's encoding, embedded as it is) and
// the raw points of the fields the other calls and raw SELECTs read, or, for
// a SHOW statement, its result series.
package nodewire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/strata-db/strata/query/binread"
	"math"
	"sort"

	"github.com/strata-db/strata/query/funcs"
	"github.com/strata-db/strata/query/partial"
)

// Version is the envelope's version, its fifth byte. A decoder refuses any
// other; a change old bytes cannot follow bumps it (and the endpoint's path).
// Version 2 added the schema and the result series (SHOW statements).
const Version = 2

// magic opens every answer, so that a body of something else (an HTML error
// page of a proxy) fails loudly instead of decoding as garbage.
var magic = [4]byte{'S', 'T', 'N', 'P'}

// ErrCorrupt marks an answer that does not decode.
var ErrCorrupt = errors.New("nodewire: corrupt answer")

// Response is one node's answer to a partial execution.
type Response struct {
	Node string // the answering node's --node-id (or its address)
	// Schema is the answering node's own schema of the statement's sources
	// (not merged with the one the request carried): the receiver unions
	// every node's to plan with what one node holding all the data would see.
	Schema Schema
	Series []Series
	// Results answer a SHOW statement (Series is then empty).
	Results []Result
}

// Schema is what a node stores of the measurements a statement reads.
type Schema struct {
	Fields map[string]funcs.Type
	Tags   []string // sorted
}

// Result is one series of a SHOW statement's answer, as the node computed it
// without LIMIT and OFFSET.
type Result struct {
	Name    string
	Tags    map[string]string
	Columns []string
	Rows    [][]any // one value per column
}

// Series is one stored series of the node that matched the statement.
type Series struct {
	Measurement string
	Tags        map[string]string
	// Times are the series' row times within the range read (the raw rows a
	// raw SELECT merges), ascending; empty when no raw field is shipped.
	Times []int64
	// Fields are raw points per field (ascending time), for the calls whose
	// path does not merge and for raw SELECTs; a field with no points is
	// present with none, so the receiver knows it is a field, not a tag.
	Fields map[string][]funcs.Point
	// States are per call (index into the statement's calls) the series'
	// per-window partial states, closed (EndSeries) and in window order.
	States map[int][]Window
}

// Window is one window's partial state of one call over one series.
type Window struct {
	Start int64
	State partial.State
}

// Value tags of a raw point.
const (
	tagNull     = 0
	tagFloat    = 1
	tagInteger  = 2
	tagUnsigned = 3
	tagString   = 4
	tagBoolean  = 5
)

// Append appends r's encoding to dst.
func Append(dst []byte, r *Response) ([]byte, error) {
	dst = append(dst, magic[:]...)
	dst = append(dst, Version)
	dst = appendString(dst, r.Node)
	dst = binary.AppendUvarint(dst, uint64(len(r.Schema.Fields)))
	for _, f := range sortedKeys(r.Schema.Fields) {
		dst = append(appendString(dst, f), byte(r.Schema.Fields[f]))
	}
	tags := append([]string(nil), r.Schema.Tags...)
	sort.Strings(tags)
	dst = binary.AppendUvarint(dst, uint64(len(tags)))
	for _, t := range tags {
		dst = appendString(dst, t)
	}
	dst = binary.AppendUvarint(dst, uint64(len(r.Series)))
	for i := range r.Series {
		var err error
		if dst, err = appendSeries(dst, &r.Series[i]); err != nil {
			return nil, err
		}
	}
	dst = binary.AppendUvarint(dst, uint64(len(r.Results)))
	for i := range r.Results {
		var err error
		if dst, err = appendResult(dst, &r.Results[i]); err != nil {
			return nil, err
		}
	}
	return dst, nil
}

func appendResult(b []byte, r *Result) ([]byte, error) {
	b = appendString(b, r.Name)
	b = appendTags(b, r.Tags)
	b = binary.AppendUvarint(b, uint64(len(r.Columns)))
	for _, c := range r.Columns {
		b = appendString(b, c)
	}
	b = binary.AppendUvarint(b, uint64(len(r.Rows)))
	for _, row := range r.Rows {
		if len(row) != len(r.Columns) {
			return nil, fmt.Errorf("nodewire: result %s: a row of %d values for %d columns", r.Name, len(row), len(r.Columns))
		}
		for _, v := range row {
			var err error
			if b, err = appendValue(b, v); err != nil {
				return nil, fmt.Errorf("result %s: %w", r.Name, err)
			}
		}
	}
	return b, nil
}

func appendTags(b []byte, tags map[string]string) []byte {
	b = binary.AppendUvarint(b, uint64(len(tags)))
	for _, k := range sortedKeys(tags) {
		b = appendString(b, k)
		b = appendString(b, tags[k])
	}
	return b
}

func appendSeries(b []byte, s *Series) ([]byte, error) {
	b = appendString(b, s.Measurement)
	b = appendTags(b, s.Tags)
	b = appendTimes(b, s.Times)
	b = binary.AppendUvarint(b, uint64(len(s.Fields)))
	for _, f := range sortedKeys(s.Fields) {
		pts := s.Fields[f]
		b = appendString(b, f)
		b = binary.AppendUvarint(b, uint64(len(pts)))
		prev := int64(0)
		for _, p := range pts {
			b = binary.AppendVarint(b, p.Time-prev)
			prev = p.Time
			var err error
			if b, err = appendValue(b, p.Value); err != nil {
				return nil, fmt.Errorf("field %s: %w", f, err)
			}
		}
	}
	calls := make([]int, 0, len(s.States))
	for c := range s.States {
		calls = append(calls, c)
	}
	sort.Ints(calls)
	b = binary.AppendUvarint(b, uint64(len(calls)))
	for _, c := range calls {
		ws := s.States[c]
		b = binary.AppendUvarint(b, uint64(c))
		b = binary.AppendUvarint(b, uint64(len(ws)))
		for _, w := range ws {
			b = binary.AppendVarint(b, w.Start)
			st := w.State.AppendBinary(nil)
			b = binary.AppendUvarint(b, uint64(len(st)))
			b = append(b, st...)
		}
	}
	return b, nil
}

func appendTimes(b []byte, ts []int64) []byte {
	b = binary.AppendUvarint(b, uint64(len(ts)))
	prev := int64(0)
	for _, t := range ts {
		b = binary.AppendVarint(b, t-prev)
		prev = t
	}
	return b
}

func appendValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, tagNull), nil
	case float64:
		b = append(b, tagFloat)
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(x)), nil
	case int64:
		return binary.AppendVarint(append(b, tagInteger), x), nil
	case int: // SHOW results count in int
		return binary.AppendVarint(append(b, tagInteger), int64(x)), nil
	case uint64:
		return binary.AppendUvarint(append(b, tagUnsigned), x), nil
	case string:
		return appendString(append(b, tagString), x), nil
	case bool:
		if x {
			return append(b, tagBoolean, 1), nil
		}
		return append(b, tagBoolean, 0), nil
	}
	return nil, fmt.Errorf("nodewire: value of type %T has no encoding", v)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Decode reads an answer. Every count is checked against the bytes left
// before anything is allocated for it, so a hostile length cannot make the
// decoder allocate more than the body's size.
func Decode(b []byte) (*Response, error) {
	if len(b) < 5 || [4]byte(b[:4]) != magic {
		return nil, fmt.Errorf("%w: no STNP magic", ErrCorrupt)
	}
	if b[4] != Version {
		return nil, fmt.Errorf("%w: version %d, this node reads %d", ErrCorrupt, b[4], Version)
	}
	r := &reader{binread.New(b[5:], ErrCorrupt)}
	out := &Response{Node: r.str()}
	out.Schema = r.schema()
	n := r.Count(3) // a series is at least 3 bytes (measurement, tags, times...)
	if r.Err == nil && n > 0 {
		out.Series = make([]Series, 0, n)
	}
	for i := 0; i < n && r.Err == nil; i++ {
		out.Series = append(out.Series, r.series())
	}
	n = r.Count(3) // a result is at least 3 bytes (name, tags, columns...)
	if r.Err == nil && n > 0 {
		out.Results = make([]Result, 0, n)
	}
	for i := 0; i < n && r.Err == nil; i++ {
		out.Results = append(out.Results, r.result())
	}
	if r.Err != nil {
		return nil, r.Err
	}
	if len(r.B) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(r.B))
	}
	return out, nil
}

// reader is binread.Reader over the node protocol (ErrCorrupt).
type reader struct{ binread.Reader }

func (r *reader) bytes() []byte {
	n := r.Count(1)
	if r.Err != nil {
		return nil
	}
	v := r.B[:n]
	r.B = r.B[n:]
	return v
}

func (r *reader) str() string { return string(r.bytes()) }

func (r *reader) schema() Schema {
	var s Schema
	if n := r.Count(2); n > 0 {
		s.Fields = make(map[string]funcs.Type, n)
		for i := 0; i < n && r.Err == nil; i++ {
			f := r.str()
			t := funcs.Type(r.Byte())
			if _, dup := s.Fields[f]; dup || t == funcs.Unknown || t > funcs.Boolean {
				r.Fail("schema field %q (type %d)", f, t)
			}
			s.Fields[f] = t
		}
	}
	if n := r.Count(1); n > 0 {
		s.Tags = make([]string, 0, n)
		for i := 0; i < n && r.Err == nil; i++ {
			s.Tags = append(s.Tags, r.str())
		}
	}
	return s
}

func (r *reader) tags() map[string]string {
	nt := r.Count(2)
	if nt == 0 {
		return nil
	}
	tags := make(map[string]string, nt)
	for i := 0; i < nt && r.Err == nil; i++ {
		k := r.str()
		tags[k] = r.str()
	}
	return tags
}

func (r *reader) result() Result {
	res := Result{Name: r.str(), Tags: r.tags()}
	nc := r.Count(1)
	if r.Err != nil {
		return res
	}
	res.Columns = make([]string, 0, nc)
	for i := 0; i < nc && r.Err == nil; i++ {
		res.Columns = append(res.Columns, r.str())
	}
	if nc == 0 {
		if nr := r.Uvarint(); nr != 0 && r.Err == nil {
			r.Fail("result %s: %d rows without columns", res.Name, nr)
		}
		return res
	}
	nr := r.Count(nc) // a value is at least one byte
	if r.Err == nil && nr > 0 {
		res.Rows = make([][]any, 0, nr)
	}
	for i := 0; i < nr && r.Err == nil; i++ {
		row := make([]any, nc)
		for j := range row {
			row[j] = r.value()
		}
		res.Rows = append(res.Rows, row)
	}
	return res
}

func (r *reader) series() Series {
	s := Series{Measurement: r.str(), Tags: r.tags()}
	if n := r.Count(1); n > 0 {
		s.Times = make([]int64, n)
		prev := int64(0)
		for i := range s.Times {
			prev += r.Varint()
			s.Times[i] = prev
		}
	}
	nf := r.Count(2)
	if r.Err != nil {
		return s
	}
	s.Fields = make(map[string][]funcs.Point, nf)
	for i := 0; i < nf && r.Err == nil; i++ {
		f := r.str()
		np := r.Count(2)
		var pts []funcs.Point
		if np > 0 {
			pts = make([]funcs.Point, 0, np)
		}
		prev := int64(0)
		for j := 0; j < np && r.Err == nil; j++ {
			prev += r.Varint()
			pts = append(pts, funcs.Point{Time: prev, Value: r.value()})
		}
		s.Fields[f] = pts
	}
	nc := r.Count(2)
	if r.Err != nil || nc == 0 {
		return s
	}
	s.States = make(map[int][]Window, nc)
	for i := 0; i < nc && r.Err == nil; i++ {
		c := r.Uvarint()
		if c > math.MaxInt32 {
			r.Fail("call index %d", c)
			return s
		}
		if _, dup := s.States[int(c)]; dup {
			r.Fail("call %d twice", c)
			return s
		}
		nw := r.Count(2)
		ws := make([]Window, 0, nw)
		for j := 0; j < nw && r.Err == nil; j++ {
			start := r.Varint()
			raw := r.bytes()
			if r.Err != nil {
				break
			}
			st, err := partial.Decode(raw)
			if err != nil {
				r.Fail("call %d window %d: %v", c, start, err)
				break
			}
			ws = append(ws, Window{Start: start, State: st})
		}
		s.States[int(c)] = ws
	}
	return s
}

func (r *reader) value() any {
	if len(r.B) < 1 {
		r.Fail("truncated value")
		return nil
	}
	tag := r.B[0]
	r.B = r.B[1:]
	switch tag {
	case tagNull:
		return nil
	case tagFloat:
		if len(r.B) < 8 {
			r.Fail("truncated float")
			return nil
		}
		v := math.Float64frombits(binary.LittleEndian.Uint64(r.B))
		r.B = r.B[8:]
		return v
	case tagInteger:
		return r.Varint()
	case tagUnsigned:
		return r.Uvarint()
	case tagString:
		return r.str()
	case tagBoolean:
		if len(r.B) < 1 || r.B[0] > 1 {
			r.Fail("bad boolean")
			return nil
		}
		v := r.B[0] == 1
		r.B = r.B[1:]
		return v
	}
	r.Fail("value tag %d", tag)
	return nil
}
