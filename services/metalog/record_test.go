package metalog

import (
	"bytes"
	"flag"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/strata-db/strata/storage"
)

var update = flag.Bool("update", false, "rewrite the golden meta record")

const goldenPath = "../../testdata/metalog/alter-rp.v1.bin"

// goldenRecord is the record of testdata/metalog/alter-rp.v1.bin, the
// example of docs/format/meta-log.md.
func goldenRecord() Record {
	d, rep := 14*24*time.Hour, 2
	var id [16]byte
	for i := range id {
		id[i] = byte(i)
	}
	return Record{ID: id, Op: OpAlterRetentionPolicy, Database: "db", Name: "week", MakeDefault: true,
		Update: storage.RetentionPolicyUpdate{Duration: &d, Replication: &rep, MakeDefault: true}}
}

const goldenV2Path = "../../testdata/metalog/create-cq.v2.bin"

// goldenV2Record is the record of testdata/metalog/create-cq.v2.bin, the
// version 2 example of docs/format/meta-log.md.
func goldenV2Record() Record {
	var id [16]byte
	for i := range id {
		id[i] = byte(0xf0 + i)
	}
	return Record{ID: id, Op: OpCreateContinuousQuery, Database: "db", Name: "cq",
		Text: `CREATE CONTINUOUS QUERY cq ON db BEGIN SELECT mean(v) INTO db.autogen.m_1h FROM db.autogen.m GROUP BY time(1h) END`}
}

// TestMetaRecordGolden decodes the golden records of the spec (version 1,
// which this version still reads and writes for its operations, and
// version 2) and checks that encoding gives their bytes back.
func TestMetaRecordGolden(t *testing.T) {
	for _, c := range []struct {
		path    string
		want    Record
		version byte
	}{{goldenPath, goldenRecord(), 1}, {goldenV2Path, goldenV2Record(), 2}} {
		if *update {
			if err := os.WriteFile(c.path, c.want.Append(nil), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		b, err := os.ReadFile(c.path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Fatalf("%s decodes to %+v, want %+v", c.path, got, c.want)
		}
		if !bytes.Equal(c.want.Append(nil), b) {
			t.Fatalf("%s: encoding changed: %x, golden %x", c.path, c.want.Append(nil), b)
		}
		if b[0] != c.version {
			t.Fatalf("%s: version %d, want %d", c.path, b[0], c.version)
		}
	}
}

// TestMetaRecordRoundTrip: every operation, with the fields it uses, encodes
// and decodes to itself, in the version its operation needs.
func TestMetaRecordRoundTrip(t *testing.T) {
	d := 24 * time.Hour
	hash := []byte("$2a$04$0123456789012345678901uAbcdefghijABCDEFGHIJabcdefghijkl")
	for _, c := range []struct {
		r       Record
		version byte
	}{
		{Record{Op: OpCreateDatabase, Database: "x", RP: storage.RetentionPolicy{Name: "a", Duration: d, Replication: 1}, HasRP: true}, 1},
		{Record{Op: OpDropDatabase, Database: "x"}, 1},
		{Record{Op: OpCreateRetentionPolicy, Database: "x", RP: storage.RetentionPolicy{Name: "b"}, MakeDefault: true}, 1},
		{Record{Op: OpAlterRetentionPolicy, Database: "x", Name: "b", Update: storage.RetentionPolicyUpdate{Duration: &d}}, 1},
		{Record{Op: OpDropRetentionPolicy, Database: "x", Name: "b"}, 1},
		{goldenV2Record(), 2},
		{Record{Op: OpDropContinuousQuery, Database: "x", Name: "cq"}, 2},
		{Record{Op: OpCreateUser, Name: "alice", Hash: hash, Admin: true, OnlyFirst: true}, 2},
		{Record{Op: OpDropUser, Name: "alice"}, 2},
		{Record{Op: OpSetPassword, Name: "alice", Hash: hash}, 2},
		{Record{Op: OpSetPrivilege, Name: "alice", Database: "x", Privilege: 2}, 2},
		{Record{Op: OpSetAdmin, Name: "alice", Admin: true}, 2},
		{Record{Op: OpSetAdmin, Name: "alice"}, 2},
	} {
		b := c.r.Append(nil)
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("op 0x%02x: %v", c.r.Op, err)
		}
		if !reflect.DeepEqual(got, c.r) {
			t.Fatalf("op 0x%02x: %+v decodes to %+v", c.r.Op, c.r, got)
		}
		if b[0] != c.version {
			t.Fatalf("op 0x%02x written in version %d, want %d", c.r.Op, b[0], c.version)
		}
	}
}

// TestMetaRecordRefused: records Decode must refuse, by name.
func TestMetaRecordRefused(t *testing.T) {
	good := goldenRecord().Append(nil)
	with := func(i int, v byte) []byte { b := bytes.Clone(good); b[i] = v; return b }
	v2 := goldenV2Record().Append(nil)
	v2with := func(i int, v byte) []byte { b := bytes.Clone(v2); b[i] = v; return b }
	for name, b := range map[string][]byte{
		"empty":           nil,
		"short header":    good[:10],
		"version 3":       with(0, 3),
		"v1 op as v2":     with(0, 2),
		"unknown op":      with(1, 0x0d),
		"v2 op as v1":     with(1, byte(OpCreateUser)),
		"unknown flag":    with(2, 0x80),
		"torn tail":       good[:len(good)-1],
		"trailing bytes":  append(bytes.Clone(good), 0),
		"huge string":     append(good[:19:19], 0xff, 0xff, 0xff, 0xff, 0x0f),
		"v2 privilege 4":  v2with(len(v2)-1, 4),
		"v2 no privilege": v2[:len(v2)-1],
		"v2 unknown flag": v2with(2, 0x80),
		"v2 trailing":     append(bytes.Clone(v2), 0),
	} {
		if _, err := Decode(b); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

// FuzzMetaRecord: Decode never panics, and what it accepts encodes back to
// the same bytes.
func FuzzMetaRecord(f *testing.F) {
	f.Add(goldenRecord().Append(nil))
	rp := storage.RetentionPolicy{Name: "autogen", ShardGroupDuration: 168 * time.Hour, Replication: 1}
	f.Add((&Record{Op: OpCreateDatabase, Database: "x", RP: rp, HasRP: true}).Append(nil))
	f.Add((&Record{Op: OpDropRetentionPolicy, Database: "x", Name: "y"}).Append(nil))
	f.Add(goldenV2Record().Append(nil))
	f.Add((&Record{Op: OpCreateUser, Name: "u", Hash: []byte("$2a$04$x"), Admin: true, OnlyFirst: true}).Append(nil))
	f.Add((&Record{Op: OpSetPassword, Name: "u", Hash: []byte("$2a$04$y")}).Append(nil))
	f.Add((&Record{Op: OpSetPrivilege, Name: "u", Database: "x", Privilege: 3}).Append(nil))
	f.Add((&Record{Op: OpSetAdmin, Name: "u"}).Append(nil))
	f.Add((&Record{Op: OpDropUser, Name: "u"}).Append(nil))
	f.Add((&Record{Op: OpDropContinuousQuery, Database: "x", Name: "c"}).Append(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Decode(b)
		if err != nil {
			return
		}
		if got := r.Append(nil); !bytes.Equal(got, b) {
			t.Fatalf("%x decodes to %+v, which encodes to %x", b, r, got)
		}
	})
}
