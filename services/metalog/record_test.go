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

// TestMetaRecordGolden decodes the golden record of the spec and checks that
// encoding gives its bytes back.
func TestMetaRecordGolden(t *testing.T) {
	want := goldenRecord()
	if *update {
		if err := os.WriteFile(goldenPath, want.Append(nil), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("golden record decodes to %+v, want %+v", got, want)
	}
	if !bytes.Equal(want.Append(nil), b) {
		t.Fatalf("encoding changed: %x, golden %x", want.Append(nil), b)
	}
}

// TestMetaRecordRefused: records Decode must refuse, by name.
func TestMetaRecordRefused(t *testing.T) {
	good := goldenRecord().Append(nil)
	with := func(i int, v byte) []byte { b := bytes.Clone(good); b[i] = v; return b }
	for name, b := range map[string][]byte{
		"empty":          nil,
		"short header":   good[:10],
		"version 2":      with(0, 2),
		"unknown op":     with(1, 0x09),
		"unknown flag":   with(2, 0x80),
		"torn tail":      good[:len(good)-1],
		"trailing bytes": append(bytes.Clone(good), 0),
		"huge string":    append(good[:19:19], 0xff, 0xff, 0xff, 0xff, 0x0f),
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
