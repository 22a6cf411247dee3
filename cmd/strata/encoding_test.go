package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
)

func zstdBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	return enc.EncodeAll(b, nil)
}

// TestCompressedWriteBodies writes the same lines with every codec /write
// takes, and checks that inflated bytes count against the decompressed-body
// budget like plain ones (413), and that garbage is a 400.
func TestCompressedWriteBodies(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.maxBodySize = 1 << 20 // inflated budget: 8 MiB
	s, base := startTestServer(t, cfg)
	defer s.shutdown(10 * time.Second)
	runQuery(t, base, "CREATE DATABASE db")
	var lines bytes.Buffer
	for i := range 1000 {
		fmt.Fprintf(&lines, "cpu,host=h%d v=%d %d\n", i%10, i, i)
	}
	bomb := bytes.Repeat([]byte("cpu v=1 1\n"), 1<<20) // 10 MiB inflated
	cases := []struct {
		name, enc string
		body      []byte
		status    int
	}{
		{"gzip", "gzip", gzipped(t, lines.Bytes()), 204},
		{"zstd", "zstd", zstdBytes(t, lines.Bytes()), 204},
		{"snappy", "snappy", snappy.Encode(nil, lines.Bytes()), 204},
		{"zstd over the inflated budget", "zstd", zstdBytes(t, bomb), 413},
		{"snappy over the inflated budget", "snappy", snappy.Encode(nil, bomb), 413},
		{"gzip over the inflated budget", "gzip", gzipped(t, bomb), 413},
		{"bad zstd", "zstd", []byte("not zstd"), 400},
		{"bad snappy", "snappy", []byte("\xff\xff\xff\xff\xff\xff"), 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, path := range []string{"/write?db=db", "/api/v2/write?bucket=db"} {
				r := do(t, "POST", base+path, c.body, map[string]string{"Content-Encoding": c.enc})
				if r.status != c.status {
					t.Fatalf("%s: %d %s, want %d", path, r.status, r.body, c.status)
				}
			}
		})
	}
	r := runQuery(t, base, `SELECT count(v) FROM "db"."autogen"."cpu"`)
	if !strings.Contains(r.body, ",1000]") {
		t.Fatalf("stored: %s", r.body)
	}
}
