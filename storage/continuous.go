package storage

import (
	"fmt"

	"github.com/cockroachdb/pebble"
)

// Continuous query definitions live under kindContinuousQuery keys, one per
// (database, name). Storage keeps them opaque, like user records: the query
// text is parsed by the CQ service (services/cq), which owns their meaning.
// Definitions are flushed to disk before CREATE answers, as databases are.

// kindContinuousQuery | lp(database) | name -> u8 version | lp(query text).
const kindContinuousQuery byte = 0x0b

// ContinuousQueryRecordVersion is the version byte of a definition's value
// (docs/format/keys.md, "Continuous queries").
const ContinuousQueryRecordVersion = 1

// ContinuousQueryRecord is one stored continuous query definition.
type ContinuousQueryRecord struct {
	Database, Name string
	Query          string // the normalized CREATE CONTINUOUS QUERY statement
}

func continuousQueryKey(db, name string) []byte {
	return append(appendLP([]byte{kindContinuousQuery}, []byte(db)), name...)
}

func encodeContinuousQuery(query string) []byte {
	return appendLP([]byte{ContinuousQueryRecordVersion}, []byte(query))
}

func decodeContinuousQuery(k, v []byte) (ContinuousQueryRecord, error) {
	db, name, err := readLP(k[1:])
	if err != nil {
		return ContinuousQueryRecord{}, fmt.Errorf("continuous query key %x: %w", k, err)
	}
	if len(v) == 0 || v[0] != ContinuousQueryRecordVersion {
		return ContinuousQueryRecord{}, fmt.Errorf("continuous query %s.%s: record version %x, this build reads %d", db, name, v[:min(len(v), 1)], ContinuousQueryRecordVersion)
	}
	q, rest, err := readLP(v[1:])
	if err != nil || len(rest) != 0 {
		return ContinuousQueryRecord{}, fmt.Errorf("continuous query %s.%s: %w", db, name, errBadKey)
	}
	return ContinuousQueryRecord{Database: string(db), Name: string(name), Query: string(q)}, nil
}

// PutContinuousQuery stores a continuous query definition, replacing any of
// the same database and name, durably before it returns.
func (e *Engine) PutContinuousQuery(r ContinuousQueryRecord) error {
	return e.userUpdate(func(b *pebble.Batch) {
		b.Set(continuousQueryKey(r.Database, r.Name), encodeContinuousQuery(r.Query), nil)
	})
}

// DeleteContinuousQuery removes a definition durably (no error if absent).
func (e *Engine) DeleteContinuousQuery(db, name string) error {
	return e.userUpdate(func(b *pebble.Batch) { b.Delete(continuousQueryKey(db, name), nil) })
}

// ContinuousQueries returns every stored definition, by database then name.
func (e *Engine) ContinuousQueries() ([]ContinuousQueryRecord, error) {
	var out []ContinuousQueryRecord
	err := scanPrefix(e.pebble, []byte{kindContinuousQuery}, func(k, v []byte) error {
		r, err := decodeContinuousQuery(k, v)
		if err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	return out, err
}
