package partial

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode: Decode never panics and, when it accepts the bytes, the state
// works: Final, a round trip that is stable after one re-encoding, and a
// merge with its own copy (which may fail with an error, for integral).
// Seeds are the golden fixtures and random states of every kind.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(goldenDir, "*.bin"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, c := range calls {
		for _, typ := range allTypes {
			if !accepts(c.name, typ) {
				continue
			}
			s, err := New(c.name, typ, c.args...)
			if err != nil {
				f.Fatal(err)
			}
			if err := feed(r, s, genSeries(r, typ, 6, 0, false), false); err != nil {
				f.Fatal(err)
			}
			f.Add(s.AppendBinary(nil))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Decode(b)
		if err != nil {
			if s != nil {
				t.Fatal("state and error")
			}
			return
		}
		_ = s.Final(0)
		enc := s.AppendBinary(nil)
		d, err := Decode(enc)
		if err != nil {
			t.Fatalf("own encoding %x of accepted %x: %v", enc, b, err)
		}
		if again := d.AppendBinary(nil); !bytes.Equal(again, enc) {
			t.Fatalf("unstable encoding: %x then %x", enc, again)
		}
		_ = s.Merge(d)
		_ = s.Final(-1)
	})
}
