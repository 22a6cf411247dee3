package ingest

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
)

// BenchmarkReadBody measures what each Content-Encoding costs the server to
// read one body, per MB of line protocol (SetBytes is the inflated size, so
// MB/s compares codecs on the same data):
//
//	go test ./ingest -run '^$' -bench ReadBody
func BenchmarkReadBody(b *testing.B) {
	var lines bytes.Buffer
	for i := 0; lines.Len() < 1<<20; i++ {
		fmt.Fprintf(&lines, "cpu,hostname=host_%d,region=eu-west-1,service=%d usage_user=%d.5,usage_system=%di,usage_idle=%d.25 %d\n",
			i%100, i%7, i%97, i%13, i%89, 1451606400000000000+int64(i)*10e9)
	}
	raw := lines.Bytes()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	enc, _ := zstd.NewWriter(nil)
	bodies := []struct {
		enc  string
		body []byte
	}{
		{"", raw},
		{"gzip", gz.Bytes()},
		{"zstd", enc.EncodeAll(raw, nil)},
		{"snappy", snappy.Encode(nil, raw)},
	}
	h := NewHandler(nil, Options{})
	for _, c := range bodies {
		name := c.enc
		if name == "" {
			name = "plain"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			st := &requestState{lines: NewLineWriter(0)}
			for b.Loop() {
				r := httptest.NewRequest("POST", "/write?db=db", bytes.NewReader(c.body))
				if c.enc != "" {
					r.Header.Set("Content-Encoding", c.enc)
				}
				if status, err := h.readBody(st, r); err != nil || len(st.body.buf) != len(raw) {
					b.Fatalf("%d %v %d", status, err, len(st.body.buf))
				}
				st.body.release(h.opts.Inflight)
			}
			b.ReportMetric(float64(len(raw))/float64(len(c.body)), "x-compression")
		})
	}
}
