package storage

import (
	"github.com/cockroachdb/pebble"
)

// User records live under kindUser keys. The storage engine keeps them as opaque
// bytes: their format (versioned, with the password hash and privileges) belongs
// to the auth package, which owns users; storage only makes them durable next to
// the databases they name.

// kindUser | name -> user record (auth's format, docs/format/keys.md).
const kindUser byte = 0x0a

func userKey(name string) []byte { return append([]byte{kindUser}, name...) }

// PutUserRecord stores the record of user name, replacing any, and makes it
// durable before returning: a created user or a changed password must survive a
// crash the moment the client hears success.
func (e *Engine) PutUserRecord(name string, rec []byte) error {
	return e.userUpdate(func(b *pebble.Batch) { b.Set(userKey(name), rec, nil) })
}

// DeleteUserRecord removes the record of user name durably (no error if absent).
func (e *Engine) DeleteUserRecord(name string) error {
	return e.userUpdate(func(b *pebble.Batch) { b.Delete(userKey(name), nil) })
}

func (e *Engine) userUpdate(fn func(*pebble.Batch)) error {
	e.commitMu.Lock() // guards closed, as for CreateDatabase
	defer e.commitMu.Unlock()
	if e.closed {
		return ErrClosed
	}
	b := e.pebble.NewBatch()
	fn(b)
	if err := b.Commit(pebble.NoSync); err != nil {
		return err
	}
	return e.persist() // Pebble's own WAL is off: flushing is what makes it durable
}

// UserRecords returns every stored user record, keyed by user name.
func (e *Engine) UserRecords() (map[string][]byte, error) {
	out := map[string][]byte{}
	err := scanPrefix(e.pebble, []byte{kindUser}, func(k, v []byte) error {
		out[string(k[1:])] = append([]byte(nil), v...)
		return nil
	})
	return out, err
}
