package auth

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"github.com/strata-db/strata/query/influxql"
)

// RecordVersion is the version of the user record format (docs/format/keys.md).
const RecordVersion = 1

// maxRecordDatabases bounds the grants one decoded record may claim, so a
// corrupt length cannot make the decoder allocate without bound.
const maxRecordDatabases = 1 << 20

var errBadRecord = errors.New("auth: malformed user record")

// record is one user as stored.
type record struct {
	Hash       []byte // bcrypt hash of the password
	Admin      bool
	Privileges map[string]influxql.Privilege
}

// encodeRecord writes r in format version 1:
//
//	u8 version · u8 flags (bit 0: admin) · uvarint len · hash ·
//	uvarint n · n × (uvarint len · database · u8 privilege)
//
// Grants are written sorted by database, so a record's bytes are deterministic.
func encodeRecord(r record) []byte {
	out := []byte{RecordVersion, 0}
	if r.Admin {
		out[1] = 1
	}
	out = binary.AppendUvarint(out, uint64(len(r.Hash)))
	out = append(out, r.Hash...)
	dbs := make([]string, 0, len(r.Privileges))
	for db := range r.Privileges {
		dbs = append(dbs, db)
	}
	sort.Strings(dbs)
	out = binary.AppendUvarint(out, uint64(len(dbs)))
	for _, db := range dbs {
		out = binary.AppendUvarint(out, uint64(len(db)))
		out = append(out, db...)
		out = append(out, byte(r.Privileges[db]))
	}
	return out
}

// decodeRecord reads a record written by encodeRecord.
func decodeRecord(b []byte) (record, error) {
	var r record
	if len(b) < 2 {
		return r, errBadRecord
	}
	if b[0] != RecordVersion {
		return r, fmt.Errorf("auth: user record version %d, this build reads %d", b[0], RecordVersion)
	}
	if b[1]&^1 != 0 {
		return r, errBadRecord
	}
	r.Admin = b[1]&1 != 0
	rest := b[2:]
	hash, rest, err := readBytes(rest)
	if err != nil {
		return r, err
	}
	r.Hash = append([]byte(nil), hash...)
	n, w := binary.Uvarint(rest)
	if w <= 0 || n > maxRecordDatabases || n > uint64(len(rest)) {
		return r, errBadRecord
	}
	rest = rest[w:]
	r.Privileges = make(map[string]influxql.Privilege, n)
	for i := uint64(0); i < n; i++ {
		var db []byte
		if db, rest, err = readBytes(rest); err != nil {
			return r, err
		}
		if len(rest) < 1 || rest[0] > byte(influxql.AllPrivileges) {
			return r, errBadRecord
		}
		if _, dup := r.Privileges[string(db)]; dup {
			return r, errBadRecord
		}
		r.Privileges[string(db)] = influxql.Privilege(rest[0])
		rest = rest[1:]
	}
	if len(rest) != 0 {
		return r, errBadRecord
	}
	return r, nil
}

func readBytes(b []byte) (field, rest []byte, err error) {
	n, w := binary.Uvarint(b)
	if w <= 0 || uint64(len(b)-w) < n {
		return nil, nil, errBadRecord
	}
	return b[w : w+int(n)], b[w+int(n):], nil
}
