// Package promremote decodes Prometheus remote-write 1.0 requests (a
// snappy-compressed, block format, protobuf prometheus.WriteRequest) and
// remote-read requests, and encodes remote-read responses (read.go). It is a
// pure leaf like ingest/lineprotocol: bytes in, time series out, no HTTP and no
// storage. The handlers that map series to points and back are ingest's
// (ingest/promwrite.go, ingest/promread.go); the mapping is documented in
// docs/format/promremote.md.
//
// The protobuf messages are decoded field by field with protowire, the
// protobuf module's own wire reader, instead of generated types: the request
// is walked once, labels and samples alias the decompressed buffer, and a
// reused TimeSeries makes a request allocate nothing per sample. Fields the
// 1.0 schema does not define (metadata, exemplars) are skipped as protobuf
// requires; native histograms are reported so the caller can refuse them.
//
// To support another message version, add a decoder beside Decode and select
// it by the request's Content-Type in the handler.
package promremote
