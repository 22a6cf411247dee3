package promremote

import (
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Remote read 1.0 (prompb/remote.proto): a ReadRequest of queries, answered
// with a ReadResponse of samples (response type SAMPLES, which every sender
// accepts; the streamed chunk type is not offered).

// MatchType is a label matcher's operator.
type MatchType uint8

// The matcher types, numbered as in prompb.LabelMatcher.Type.
const (
	MatchEqual MatchType = iota
	MatchNotEqual
	MatchRegexp
	MatchNotRegexp
)

// Matcher selects series by one label.
type Matcher struct {
	Type        MatchType
	Name, Value string
}

// Query asks for the samples in [StartMs, EndMs] of the series matching
// every matcher.
type Query struct {
	StartMs, EndMs int64
	Matchers       []Matcher
}

// Field numbers of the remote-read messages.
const (
	readRequestQueries = 1 // repeated Query
	queryStart         = 1 // int64
	queryEnd           = 2 // int64
	queryMatchers      = 3 // repeated LabelMatcher
	matcherType        = 1 // enum
	matcherName        = 2 // string
	matcherValue       = 3 // string
	readResponseResult = 1 // repeated QueryResult
	queryResultSeries  = 1 // repeated TimeSeries
)

// maxMatchers bounds the matchers of one query: Prometheus sends a handful; a
// request with thousands is hostile.
const maxMatchers = 256

// DecodeReadRequest parses a protobuf ReadRequest.
func DecodeReadRequest(msg []byte) ([]Query, error) {
	var out []Query
	err := walk(msg, "ReadRequest", func(num protowire.Number, typ protowire.Type, b []byte, v uint64) error {
		if num != readRequestQueries || typ != protowire.BytesType {
			return nil
		}
		q, err := decodeQuery(b)
		if err != nil {
			return err
		}
		out = append(out, q)
		return nil
	})
	return out, err
}

func decodeQuery(msg []byte) (Query, error) {
	var q Query
	err := walk(msg, "Query", func(num protowire.Number, typ protowire.Type, b []byte, v uint64) error {
		switch {
		case num == queryStart && typ == protowire.VarintType:
			q.StartMs = int64(v)
		case num == queryEnd && typ == protowire.VarintType:
			q.EndMs = int64(v)
		case num == queryMatchers && typ == protowire.BytesType:
			if len(q.Matchers) >= maxMatchers {
				return malformed("Query: more than 256 matchers")
			}
			var m Matcher
			err := walk(b, "LabelMatcher", func(num protowire.Number, typ protowire.Type, b []byte, v uint64) error {
				switch {
				case num == matcherType && typ == protowire.VarintType:
					if v > uint64(MatchNotRegexp) {
						return malformed("LabelMatcher: unknown type")
					}
					m.Type = MatchType(v)
				case num == matcherName && typ == protowire.BytesType:
					m.Name = string(b)
				case num == matcherValue && typ == protowire.BytesType:
					m.Value = string(b)
				}
				return nil
			})
			if err != nil {
				return err
			}
			q.Matchers = append(q.Matchers, m)
		}
		return nil
	})
	return q, err
}

// walk calls fn for every field of msg: b holds a length-delimited field's
// bytes, v a varint or fixed field's value; other fields are skipped.
func walk(msg []byte, name string, fn func(num protowire.Number, typ protowire.Type, b []byte, v uint64) error) error {
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return wireError(name, n)
		}
		msg = msg[n:]
		var b []byte
		var v uint64
		switch typ {
		case protowire.BytesType:
			b, n = protowire.ConsumeBytes(msg)
		case protowire.VarintType:
			v, n = protowire.ConsumeVarint(msg)
		case protowire.Fixed64Type:
			v, n = protowire.ConsumeFixed64(msg)
		default:
			n = protowire.ConsumeFieldValue(num, typ, msg)
		}
		if n < 0 {
			return wireError(name, n)
		}
		msg = msg[n:]
		if err := fn(num, typ, b, v); err != nil {
			return err
		}
	}
	return nil
}

// AppendReadResponse appends a ReadResponse with one QueryResult per element
// of results (in query order) to dst.
func AppendReadResponse(dst []byte, results [][]TimeSeries) []byte {
	var qr, ts []byte
	for _, series := range results {
		qr = qr[:0]
		for i := range series {
			ts = appendSeries(ts[:0], &series[i])
			qr = protowire.AppendTag(qr, queryResultSeries, protowire.BytesType)
			qr = protowire.AppendBytes(qr, ts)
		}
		dst = protowire.AppendTag(dst, readResponseResult, protowire.BytesType)
		dst = protowire.AppendBytes(dst, qr)
	}
	return dst
}

// appendSeries appends the TimeSeries message body of ts.
func appendSeries(dst []byte, ts *TimeSeries) []byte {
	for _, l := range ts.Labels {
		n := protowire.SizeTag(labelName) + protowire.SizeBytes(len(l.Name)) + protowire.SizeTag(labelValue) + protowire.SizeBytes(len(l.Value))
		dst = protowire.AppendTag(dst, timeSeriesLabels, protowire.BytesType)
		dst = protowire.AppendVarint(dst, uint64(n))
		dst = protowire.AppendTag(dst, labelName, protowire.BytesType)
		dst = protowire.AppendBytes(dst, l.Name)
		dst = protowire.AppendTag(dst, labelValue, protowire.BytesType)
		dst = protowire.AppendBytes(dst, l.Value)
	}
	for _, s := range ts.Samples {
		n := protowire.SizeTag(sampleValue) + protowire.SizeFixed64() + protowire.SizeTag(sampleTimestamp) + protowire.SizeVarint(uint64(s.Timestamp))
		dst = protowire.AppendTag(dst, timeSeriesSamples, protowire.BytesType)
		dst = protowire.AppendVarint(dst, uint64(n))
		dst = protowire.AppendTag(dst, sampleValue, protowire.Fixed64Type)
		dst = protowire.AppendFixed64(dst, math.Float64bits(s.Value))
		dst = protowire.AppendTag(dst, sampleTimestamp, protowire.VarintType)
		dst = protowire.AppendVarint(dst, uint64(s.Timestamp))
	}
	return dst
}

// AppendReadRequest appends a ReadRequest of queries to dst (for tests and
// tools: what Prometheus sends).
func AppendReadRequest(dst []byte, queries []Query) []byte {
	for _, q := range queries {
		var qb []byte
		qb = protowire.AppendTag(qb, queryStart, protowire.VarintType)
		qb = protowire.AppendVarint(qb, uint64(q.StartMs))
		qb = protowire.AppendTag(qb, queryEnd, protowire.VarintType)
		qb = protowire.AppendVarint(qb, uint64(q.EndMs))
		for _, m := range q.Matchers {
			var mb []byte
			mb = protowire.AppendTag(mb, matcherType, protowire.VarintType)
			mb = protowire.AppendVarint(mb, uint64(m.Type))
			mb = protowire.AppendTag(mb, matcherName, protowire.BytesType)
			mb = protowire.AppendString(mb, m.Name)
			mb = protowire.AppendTag(mb, matcherValue, protowire.BytesType)
			mb = protowire.AppendString(mb, m.Value)
			qb = protowire.AppendTag(qb, queryMatchers, protowire.BytesType)
			qb = protowire.AppendBytes(qb, mb)
		}
		dst = protowire.AppendTag(dst, readRequestQueries, protowire.BytesType)
		dst = protowire.AppendBytes(dst, qb)
	}
	return dst
}

// DecodeReadResponse parses a ReadResponse into its results (for tests and
// tools: what Prometheus reads).
func DecodeReadResponse(msg []byte) ([][]TimeSeries, error) {
	var out [][]TimeSeries
	err := walk(msg, "ReadResponse", func(num protowire.Number, typ protowire.Type, b []byte, _ uint64) error {
		if num != readResponseResult || typ != protowire.BytesType {
			return nil
		}
		var series []TimeSeries
		err := walk(b, "QueryResult", func(num protowire.Number, typ protowire.Type, b []byte, _ uint64) error {
			if num != queryResultSeries || typ != protowire.BytesType {
				return nil
			}
			var ts TimeSeries
			if err := decodeSeries(b, &ts); err != nil {
				return err
			}
			series = append(series, ts)
			return nil
		})
		out = append(out, series)
		return err
	})
	return out, err
}

func malformed(msg string) error { return fmt.Errorf("%w: %s", ErrMalformed, msg) }
