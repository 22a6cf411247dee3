package auth

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/strata-db/strata/query/influxql"
)

// TestRecordGolden decodes the fixture of docs/format/keys.md's user record and
// checks that encoding gives the same bytes back, so the format cannot change
// without the fixture (and the spec) changing with it.
func TestRecordGolden(t *testing.T) {
	f, err := os.Open("../testdata/keys/user-record.v1.golden")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vals := map[string][]byte{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		b, err := hex.DecodeString(line[i+1:])
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		vals[strings.TrimSpace(line[:i])] = b
	}
	key, val := vals["key"], vals["value"]
	if len(key) == 0 || key[0] != 0x0a || string(key[1:]) != "reader" {
		t.Fatalf("key %x: want 0x0a · \"reader\"", key)
	}
	r, err := decodeRecord(val)
	if err != nil {
		t.Fatal(err)
	}
	want := record{
		Hash:       []byte("$2a$04$abcdefghijklmnopqrstuu5Wd1TXdHbHSXrFvmZz2k5sXvcUDDeWK"),
		Admin:      false,
		Privileges: map[string]influxql.Privilege{"metrics": influxql.ReadPrivilege, "telegraf": influxql.AllPrivileges, "old": influxql.NoPrivileges},
	}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("decoded %+v\nwant %+v", r, want)
	}
	if got := encodeRecord(r); !bytes.Equal(got, val) {
		t.Fatalf("re-encoded %x\nwant %x", got, val)
	}
	admin, err := decodeRecord(vals["admin value"])
	if err != nil || !admin.Admin || len(admin.Privileges) != 0 {
		t.Fatalf("admin record: %+v, %v", admin, err)
	}
}

func TestRecordRejects(t *testing.T) {
	good := encodeRecord(record{Hash: []byte("h"), Privileges: map[string]influxql.Privilege{"db": 1}})
	bad := [][]byte{
		nil, {1}, {2, 0, 0, 0}, {1, 2, 0, 0}, // version, flags
		good[:len(good)-1],                      // truncated
		append(bytes.Clone(good), 0),            // trailing byte
		{1, 0, 0, 1, 1, 'a', 4},                 // privilege out of range
		{1, 0, 0, 2, 1, 'a', 1, 1, 'a', 1},      // duplicate database
		{1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}, // absurd count
	}
	for _, b := range bad {
		if _, err := decodeRecord(b); err == nil {
			t.Errorf("%x decoded", b)
		}
	}
}

func FuzzDecodeRecord(f *testing.F) {
	f.Add(encodeRecord(record{Hash: []byte("hash"), Admin: true, Privileges: map[string]influxql.Privilege{"a": 3, "b": 1}}))
	f.Add([]byte{1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecord(b)
		if err != nil {
			return
		}
		if got := encodeRecord(r); !bytes.Equal(got, b) {
			// Only canonical encodings decode: grants sorted, no slack.
			if r2, err := decodeRecord(got); err != nil || !reflect.DeepEqual(r, r2) {
				t.Fatalf("round trip of %x: %x (%v)", b, got, err)
			}
		}
	})
}
