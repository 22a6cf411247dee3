package ingest

import (
	"errors"
	"fmt"
	"io"

	"github.com/strata-db/strata/ingest/lineprotocol"
	"github.com/strata-db/strata/storage"
)

// LineWriter turns line protocol into the points of a storage batch: the one
// conversion every line-protocol path (the HTTP handlers, the Kafka consumer)
// goes through. It keeps scratch space between calls and is used by one
// goroutine at a time.
type LineWriter struct {
	parser *lineprotocol.Parser
	tags   []storage.Tag
	fields []storage.FieldValue
}

// NewLineWriter returns a LineWriter.
func NewLineWriter() *LineWriter { return &LineWriter{parser: lineprotocol.NewParser()} }

// AddLines adds every point of body to batch; now (ns) stamps lines without a
// timestamp. reject, if not nil, is called with each line that did not parse
// or that the batch refused (unparsed false), and why; the line is valid only during the call. It
// returns how many lines parsed and how many did not.
func (lw *LineWriter) AddLines(batch *storage.Batch, body []byte, prec lineprotocol.Precision, now int64, reject func(line []byte, err error, unparsed bool)) (parsed, failed int) {
	p := lw.parser
	p.Reset(body, prec, now)
	for {
		pt, err := p.Next()
		if err == io.EOF {
			return parsed, failed
		}
		if err != nil {
			failed++
			if reject != nil {
				var pe *lineprotocol.ParseError
				line := []byte(nil)
				if errors.As(err, &pe) {
					line = []byte(pe.Text)
				}
				reject(line, err, true)
			}
			continue
		}
		if pt.KeyLen > maxKeyLength {
			failed++
			if reject != nil {
				reject(pt.Raw, fmt.Errorf("unable to parse '%s': max key length exceeded: %d > %d", pt.Raw, pt.KeyLen, maxKeyLength), true)
			}
			continue
		}
		parsed++
		lw.tags = lw.tags[:0]
		for _, t := range pt.Tags {
			lw.tags = append(lw.tags, storage.Tag{Key: t.Key, Value: t.Value})
		}
		lw.fields = lw.fields[:0]
		for i := range pt.Fields {
			f := &pt.Fields[i]
			lw.fields = append(lw.fields, storage.FieldValue{
				Key: f.Key, Type: storage.FieldType(f.Type),
				Float: f.Float, Int: f.Int, Uint: f.Uint, Bool: f.Bool, Str: f.Str,
			})
		}
		// The batch counts its rejections; the caller also hears of them here.
		if err := batch.Add(pt.Measurement, lw.tags, lw.fields, pt.Time); err != nil && reject != nil {
			reject(pt.Raw, err, false)
		}
	}
}
