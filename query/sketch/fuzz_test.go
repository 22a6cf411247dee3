package sketch

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode: Decode never panics; what it refuses is ErrCorrupt; what it
// accepts answers, re-encodes stably and merges with its own copy. Seeds:
// the golden fixtures and their truncations.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(goldenDir, "*.bin"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		if len(b) > 4 {
			f.Add(b[:len(b)/2])
			f.Add(append(bytes.Clone(b), 0))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Decode(b)
		if err != nil {
			if s != nil || !errors.Is(err, ErrCorrupt) {
				t.Fatalf("refusal %v with sketch %v", err, s)
			}
			return
		}
		enc := Append(nil, s)
		d, err := Decode(enc)
		if err != nil {
			t.Fatalf("own encoding refused: %v", err)
		}
		if again := Append(nil, d); !bytes.Equal(again, enc) {
			t.Fatal("unstable encoding")
		}
		switch x := s.(type) {
		case *HLL:
			x.Estimate()
			x.Merge(d.(*HLL))
		case *DD:
			x.Quantile(50)
			_ = x.Merge(d.(*DD))
			x.Quantile(99)
		case *TopK:
			x.Top(3)
			x.Merge(d.(*TopK))
			x.Add("k")
		case *CountMin:
			x.Estimate(1)
			x.Merge(d.(*CountMin))
		}
	})
}
