package main

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/strata-db/strata/ingest/lineprotocol"
)

// FuzzImportLineProtocol feeds arbitrary input to the import's line-protocol
// reader: it must not panic, and every line it passes on must parse back as
// exactly one point.
func FuzzImportLineProtocol(f *testing.F) {
	for _, s := range []string{importInput1, "# DDL\nCREATE DATABASE x\n# DML\n# CONTEXT-DATABASE: x\nm v=1\n", "m s=\"a\nb\nc", "m s=\"\n", "\n\n#\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		src := newLPSource(newLineReader(bytes.NewReader(data), 1024), "fuzz", "db", "", 1)
		p := lineprotocol.NewParser()
		for range 10000 {
			it, err := src.next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				var ue *usageError
				if errors.As(err, &ue) {
					return
				}
				t.Fatal(err)
			}
			if it.kind != itemLine {
				continue
			}
			p.Reset(it.data, lineprotocol.Nanosecond, 0)
			if _, err := p.Next(); err != nil {
				t.Fatalf("emitted line %q does not parse: %v", it.data, err)
			}
			if _, err := p.Next(); !errors.Is(err, io.EOF) {
				t.Fatalf("emitted line %q holds more than one point", it.data)
			}
		}
	})
}

// FuzzImportCSV feeds arbitrary CSV to the import's CSV reader (header, then
// rows): no panic, and every line passed on parses.
func FuzzImportCSV(f *testing.F) {
	f.Add([]byte("time,host,v\n1,a,0.5\n2,\"b,c\",x\n"))
	f.Add([]byte("time,v\n\"1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		src, err := newCSVSource(newLineReader(bytes.NewReader(data), 1024), "fuzz", "db", "", 1,
			csvMapping{measurement: "m", tags: "host", timeCol: "time", timeFormat: "auto"})
		if err != nil {
			return // a header that does not fit
		}
		p := lineprotocol.NewParser()
		for range 10000 {
			it, err := src.next()
			if err != nil {
				return
			}
			if it.kind != itemLine {
				continue
			}
			p.Reset(it.data, lineprotocol.Nanosecond, 0)
			if _, err := p.Next(); err != nil {
				t.Fatalf("emitted line %q does not parse: %v", it.data, err)
			}
		}
	})
}
