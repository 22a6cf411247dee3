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
	parser    *lineprotocol.Parser
	maxFields int // fields per line beyond which a line is refused (<= 0: none)
	tags      []storage.Tag
	fields    []storage.FieldValue
}

// NewLineWriter returns a LineWriter refusing lines of more than maxFields
// fields (0: DefaultMaxFieldsPerLine; < 0: no limit).
func NewLineWriter(maxFields int) *LineWriter {
	if maxFields == 0 {
		maxFields = DefaultMaxFieldsPerLine
	}
	return &LineWriter{parser: lineprotocol.NewParser(), maxFields: maxFields}
}

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
		if reason := lw.refusal(pt); reason != "" {
			failed++
			if reject != nil {
				reject(pt.Raw, errors.New(unableToParse(string(pt.Raw), pt.Line, reason)), true)
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

// refusal returns why a parsed point is refused before storage sees it, or "".
func (lw *LineWriter) refusal(pt *lineprotocol.Point) string {
	if pt.KeyLen > maxKeyLength {
		return fmt.Sprintf("max key length exceeded: %d > %d", pt.KeyLen, maxKeyLength)
	}
	if lw.maxFields > 0 && len(pt.Fields) > lw.maxFields {
		return fmt.Sprintf("max fields per line exceeded: %d > %d (--max-fields-per-line)", len(pt.Fields), lw.maxFields)
	}
	return ""
}
