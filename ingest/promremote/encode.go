package promremote

import (
	"math"

	"github.com/klauspost/compress/snappy"
	"google.golang.org/protobuf/encoding/protowire"
)

// AppendRequest appends the protobuf WriteRequest of series to dst, with
// protowire's encoder: what a sender does, for tests, benchmarks and tools.
func AppendRequest(dst []byte, series []TimeSeries) []byte {
	for _, ts := range series {
		var s []byte
		for _, l := range ts.Labels {
			var lb []byte
			lb = protowire.AppendTag(lb, labelName, protowire.BytesType)
			lb = protowire.AppendBytes(lb, l.Name)
			lb = protowire.AppendTag(lb, labelValue, protowire.BytesType)
			lb = protowire.AppendBytes(lb, l.Value)
			s = protowire.AppendTag(s, timeSeriesLabels, protowire.BytesType)
			s = protowire.AppendBytes(s, lb)
		}
		for _, smp := range ts.Samples {
			var sb []byte
			sb = protowire.AppendTag(sb, sampleValue, protowire.Fixed64Type)
			sb = protowire.AppendFixed64(sb, math.Float64bits(smp.Value))
			sb = protowire.AppendTag(sb, sampleTimestamp, protowire.VarintType)
			sb = protowire.AppendVarint(sb, uint64(smp.Timestamp))
			s = protowire.AppendTag(s, timeSeriesSamples, protowire.BytesType)
			s = protowire.AppendBytes(s, sb)
		}
		dst = protowire.AppendTag(dst, writeRequestTimeseries, protowire.BytesType)
		dst = protowire.AppendBytes(dst, s)
	}
	return dst
}

// Compress snappy-compresses msg in the block format remote write uses.
func Compress(dst, msg []byte) []byte { return snappy.Encode(dst, msg) }
