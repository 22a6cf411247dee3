package metalog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/strata-db/strata/storage"
)

// Version is the newest record format version, the first byte of a record
// (docs/format/meta-log.md). The operations of version 1 (databases and
// retention policies) are still written in version 1, so a node of the
// previous release reads them; the later operations need version 2.
const Version = 2

// v1Ops is the last operation of version 1.
const v1Ops = OpDropRetentionPolicy

// Op is what a record does.
type Op byte

// The operations, one per meta method of the storage engine.
const (
	OpCreateDatabase        Op = 0x01
	OpDropDatabase          Op = 0x02
	OpCreateRetentionPolicy Op = 0x03
	OpAlterRetentionPolicy  Op = 0x04
	OpDropRetentionPolicy   Op = 0x05
	// Version 2.
	OpCreateContinuousQuery Op = 0x06 // Database, Name, Text (the normalized statement)
	OpDropContinuousQuery   Op = 0x07 // Database, Name
	OpCreateUser            Op = 0x08 // Name, Hash, Admin, OnlyFirst
	OpDropUser              Op = 0x09 // Name
	OpSetPassword           Op = 0x0a // Name, Hash
	OpSetPrivilege          Op = 0x0b // Name (the user), Database, Privilege
	OpSetAdmin              Op = 0x0c // Name, Admin
	lastOp                     = OpSetAdmin
)

// Record is one DDL operation of the meta topic.
type Record struct {
	ID       [16]byte // chosen by the publisher, to recognise its own record
	Op       Op
	Database string
	// Name is the retention policy of the Alter and Drop operations.
	Name string
	// RP is the policy of CreateDatabase (when HasRP) and CreateRetentionPolicy.
	RP          storage.RetentionPolicy
	HasRP       bool
	MakeDefault bool
	// Update is AlterRetentionPolicy's change.
	Update storage.RetentionPolicyUpdate

	// Version 2. Name is the continuous query or the user of these operations.
	// Text is CREATE CONTINUOUS QUERY's normalized statement.
	Text string
	// Hash is the bcrypt hash of CREATE USER's and SET PASSWORD's password:
	// a record never carries a plaintext password.
	Hash []byte
	// Privilege is SET PRIVILEGE's new privilege on Database (GRANT and
	// REVOKE): influxql.Privilege's values, 0 to 3.
	Privilege byte
	// Admin is CREATE USER's and SET ADMIN's admin flag; OnlyFirst makes
	// CREATE USER fail unless no user exists yet when the record is applied
	// (the unauthenticated first admin).
	Admin, OnlyFirst bool
}

// Record flags (one byte).
const (
	flagHasRP       = 1 << 0
	flagMakeDefault = 1 << 1
	flagDuration    = 1 << 2 // Update.Duration is set
	flagShardGroup  = 1 << 3 // Update.ShardGroupDuration is set
	flagReplication = 1 << 4 // Update.Replication is set
	knownFlagsV1    = 1<<5 - 1
	flagAdmin       = 1 << 5 // version 2
	flagOnlyFirst   = 1 << 6 // version 2
	knownFlagsV2    = 1<<7 - 1
)

// maxPrivilege is influxql.AllPrivileges (read | write).
const maxPrivilege = 3

// maxString bounds a name in a record: database and policy names are far
// shorter; a larger length is a corrupt record, not an allocation.
const maxString = 1 << 16

// Append appends r's encoding to dst.
func (r Record) Append(dst []byte) []byte {
	var flags byte
	if r.HasRP {
		flags |= flagHasRP
	}
	if r.MakeDefault {
		flags |= flagMakeDefault
	}
	if r.Update.Duration != nil {
		flags |= flagDuration
	}
	if r.Update.ShardGroupDuration != nil {
		flags |= flagShardGroup
	}
	if r.Update.Replication != nil {
		flags |= flagReplication
	}
	version := byte(1)
	if r.Op > v1Ops {
		version = 2
		if r.Admin {
			flags |= flagAdmin
		}
		if r.OnlyFirst {
			flags |= flagOnlyFirst
		}
	}
	dst = append(dst, version, byte(r.Op), flags)
	dst = append(dst, r.ID[:]...)
	dst = appendString(dst, r.Database)
	dst = appendString(dst, r.Name)
	dst = appendString(dst, r.RP.Name)
	dst = binary.AppendUvarint(dst, uint64(r.RP.Duration))
	dst = binary.AppendUvarint(dst, uint64(r.RP.ShardGroupDuration))
	dst = binary.AppendUvarint(dst, uint64(r.RP.Replication))
	var d, sg time.Duration
	var rep int
	if r.Update.Duration != nil {
		d = *r.Update.Duration
	}
	if r.Update.ShardGroupDuration != nil {
		sg = *r.Update.ShardGroupDuration
	}
	if r.Update.Replication != nil {
		rep = *r.Update.Replication
	}
	dst = binary.AppendUvarint(dst, uint64(d))
	dst = binary.AppendUvarint(dst, uint64(sg))
	dst = binary.AppendUvarint(dst, uint64(rep))
	if version == 1 {
		return dst
	}
	dst = appendString(dst, r.Text)
	dst = appendString(dst, string(r.Hash))
	return append(dst, r.Privilege)
}

func appendString(dst []byte, s string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
}

// ErrCorrupt is wrapped by Decode's errors about malformed records.
var ErrCorrupt = errors.New("corrupt meta record")

// Decode parses one record; it never panics on any input.
func Decode(b []byte) (Record, error) {
	var r Record
	if len(b) < 3+16 {
		return r, fmt.Errorf("%w: %d bytes, shorter than the header", ErrCorrupt, len(b))
	}
	version := b[0]
	if version < 1 || version > Version {
		return r, fmt.Errorf("meta record version %d: this Strata reads versions 1 to %d", b[0], Version)
	}
	r.Op = Op(b[1])
	last, known := v1Ops, byte(knownFlagsV1)
	if version == 2 {
		last, known = lastOp, knownFlagsV2
	}
	if r.Op < OpCreateDatabase || r.Op > last {
		return r, fmt.Errorf("%w: unknown operation 0x%02x in version %d", ErrCorrupt, b[1], version)
	}
	flags := b[2]
	if flags&^known != 0 {
		return r, fmt.Errorf("%w: unknown flags 0x%02x", ErrCorrupt, flags)
	}
	r.HasRP, r.MakeDefault = flags&flagHasRP != 0, flags&flagMakeDefault != 0
	r.Admin, r.OnlyFirst = flags&flagAdmin != 0, flags&flagOnlyFirst != 0
	copy(r.ID[:], b[3:19])
	d := decoder{b: b[19:]}
	r.Database, r.Name, r.RP.Name = d.string(), d.string(), d.string()
	r.RP.Duration, r.RP.ShardGroupDuration = time.Duration(d.int()), time.Duration(d.int())
	r.RP.Replication = int(d.int())
	ud, usg, urep := time.Duration(d.int()), time.Duration(d.int()), int(d.int())
	if version == 2 {
		r.Text = d.string()
		if h := d.string(); h != "" {
			r.Hash = []byte(h)
		}
		if d.err == nil && len(d.b) == 0 {
			d.err = fmt.Errorf("%w: no privilege byte", ErrCorrupt)
		}
		if d.err == nil {
			r.Privilege, d.b = d.b[0], d.b[1:]
			if r.Privilege > maxPrivilege {
				d.err = fmt.Errorf("%w: privilege %d", ErrCorrupt, r.Privilege)
			}
		}
	}
	if d.err != nil {
		return Record{}, d.err
	}
	if len(d.b) != 0 {
		return Record{}, fmt.Errorf("%w: %d bytes after the record", ErrCorrupt, len(d.b))
	}
	if flags&flagDuration != 0 {
		r.Update.Duration = &ud
	}
	if flags&flagShardGroup != 0 {
		r.Update.ShardGroupDuration = &usg
	}
	if flags&flagReplication != 0 {
		r.Update.Replication = &urep
	}
	r.Update.MakeDefault = r.Op == OpAlterRetentionPolicy && r.MakeDefault
	// One encoding per record: unset fields are zero, varints minimal.
	if !bytes.Equal(r.Append(nil), b) {
		return Record{}, fmt.Errorf("%w: not in canonical form", ErrCorrupt)
	}
	return r, nil
}

type decoder struct {
	b   []byte
	err error
}

// int reads a uvarint that must fit a non-negative int64.
func (d *decoder) int() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 || v > 1<<63-1 {
		d.err = fmt.Errorf("%w: bad varint", ErrCorrupt)
		return 0
	}
	d.b = d.b[n:]
	return int64(v)
}

func (d *decoder) string() string {
	n := d.int()
	if d.err != nil {
		return ""
	}
	if n > maxString || n > int64(len(d.b)) {
		d.err = fmt.Errorf("%w: string of %d bytes, %d left", ErrCorrupt, n, len(d.b))
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}
