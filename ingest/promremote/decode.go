package promremote

import (
	"errors"
	"fmt"
	"math"

	"github.com/klauspost/compress/snappy"
	"google.golang.org/protobuf/encoding/protowire"
)

// Label is one label of a series; Name and Value alias the request buffer.
type Label struct{ Name, Value []byte }

// Sample is one value of a series at a time in milliseconds since the epoch.
// Value keeps the exact bits sent, including Prometheus' stale-marker NaN.
type Sample struct {
	Value     float64
	Timestamp int64
}

// TimeSeries is one series of a WriteRequest. Decode reuses it between calls of
// its visitor: copy what must outlive the call.
type TimeSeries struct {
	Labels  []Label
	Samples []Sample
	// Histograms counts native-histogram samples, which this decoder does not
	// decode: the caller refuses them rather than dropping them silently.
	Histograms int
}

// StaleNaN is the bit pattern Prometheus writes to mark a series stale
// (prometheus/model/value.StaleNaN).
const StaleNaN uint64 = 0x7ff0000000000002

// ErrTooLarge reports a body that inflates past the caller's limit.
var ErrTooLarge = errors.New("decompressed body too large")

// Inflate decodes a snappy block-format body into dst (reused when large
// enough), refusing one whose declared length exceeds max before allocating.
func Inflate(dst, body []byte, max int) ([]byte, error) {
	n, err := snappy.DecodedLen(body)
	if err != nil {
		return nil, fmt.Errorf("snappy: %w", err)
	}
	if n > max {
		return nil, fmt.Errorf("%w: %d > %d bytes", ErrTooLarge, n, max)
	}
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	out, err := snappy.Decode(dst[:cap(dst)], body)
	if err != nil {
		return nil, fmt.Errorf("snappy: %w", err)
	}
	return out, nil
}

// Field numbers of the remote-write 1.0 messages (prompb/remote.proto, types.proto).
const (
	writeRequestTimeseries = 1 // repeated TimeSeries
	timeSeriesLabels       = 1 // repeated Label
	timeSeriesSamples      = 2 // repeated Sample
	timeSeriesHistograms   = 4 // repeated Histogram
	labelName              = 1 // string
	labelValue             = 2 // string
	sampleValue            = 1 // double
	sampleTimestamp        = 2 // int64
)

// Decode walks the protobuf WriteRequest msg and calls visit for each series.
// It stops at the first malformed field, or when visit returns an error.
func Decode(msg []byte, ts *TimeSeries, visit func(*TimeSeries) error) error {
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return wireError("WriteRequest", n)
		}
		msg = msg[n:]
		if num == writeRequestTimeseries && typ == protowire.BytesType {
			b, n := protowire.ConsumeBytes(msg)
			if n < 0 {
				return wireError("WriteRequest.timeseries", n)
			}
			msg = msg[n:]
			if err := decodeSeries(b, ts); err != nil {
				return err
			}
			if err := visit(ts); err != nil {
				return err
			}
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, msg)
		if n < 0 {
			return wireError("WriteRequest", n)
		}
		msg = msg[n:]
	}
	return nil
}

func decodeSeries(b []byte, ts *TimeSeries) error {
	ts.Labels, ts.Samples, ts.Histograms = ts.Labels[:0], ts.Samples[:0], 0
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return wireError("TimeSeries", n)
		}
		b = b[n:]
		if typ == protowire.BytesType && (num == timeSeriesLabels || num == timeSeriesSamples || num == timeSeriesHistograms) {
			sub, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return wireError("TimeSeries", n)
			}
			b = b[n:]
			switch num {
			case timeSeriesLabels:
				l, err := decodeLabel(sub)
				if err != nil {
					return err
				}
				ts.Labels = append(ts.Labels, l)
			case timeSeriesSamples:
				s, err := decodeSample(sub)
				if err != nil {
					return err
				}
				ts.Samples = append(ts.Samples, s)
			default:
				ts.Histograms++
			}
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return wireError("TimeSeries", n)
		}
		b = b[n:]
	}
	return nil
}

func decodeLabel(b []byte) (Label, error) {
	var l Label
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return l, wireError("Label", n)
		}
		b = b[n:]
		if typ == protowire.BytesType && (num == labelName || num == labelValue) {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return l, wireError("Label", n)
			}
			b = b[n:]
			if num == labelName {
				l.Name = v
			} else {
				l.Value = v
			}
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return l, wireError("Label", n)
		}
		b = b[n:]
	}
	return l, nil
}

func decodeSample(b []byte) (Sample, error) {
	var s Sample
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return s, wireError("Sample", n)
		}
		b = b[n:]
		switch {
		case num == sampleValue && typ == protowire.Fixed64Type:
			v, n := protowire.ConsumeFixed64(b)
			if n < 0 {
				return s, wireError("Sample.value", n)
			}
			s.Value = math.Float64frombits(v)
			b = b[n:]
		case num == sampleTimestamp && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return s, wireError("Sample.timestamp", n)
			}
			s.Timestamp = int64(v)
			b = b[n:]
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return s, wireError("Sample", n)
			}
			b = b[n:]
		}
	}
	return s, nil
}

// ErrMalformed marks a request that is not a valid WriteRequest.
var ErrMalformed = errors.New("malformed remote-write protobuf")

func wireError(msg string, n int) error {
	return fmt.Errorf("%w: %s: %v", ErrMalformed, msg, protowire.ParseError(n))
}
