package sketch

import (
	"bytes"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/sketch/*.bin from the current code")

const goldenDir = "../../testdata/sketch"

// goldens build each fixture and check what the decoded sketch answers,
// written out from the definitions in docs/format/sketches.md.
var goldens = []struct {
	file  string
	build func() Sketch
	check func(t *testing.T, s Sketch)
}{
	{"hll_sparse.bin", func() Sketch {
		h, _ := NewHLL(14)
		for _, v := range []string{"a", "b", "a", "c"} {
			h.Add(HashString(v))
		}
		return h
	}, func(t *testing.T, s Sketch) {
		if got := s.(*HLL).Estimate(); got != 3 {
			t.Errorf("estimate %d, want 3", got)
		}
	}},
	{"hll_dense.bin", func() Sketch {
		h, _ := NewHLL(4) // 16 registers: dense past 4 sparse entries
		for i := int64(0); i < 1000; i++ {
			h.Add(HashInt(i))
		}
		return h
	}, func(t *testing.T, s Sketch) {
		h := s.(*HLL)
		if h.regs == nil || h.Precision() != 4 {
			t.Fatal("not a dense precision-4 sketch")
		}
		// 26% standard error at p=4; this draw lands high, and the
		// fixture pins the estimator's exact answer for these registers.
		if got := h.Estimate(); got != 1944 {
			t.Errorf("estimate %d, want 1944", got)
		}
	}},
	{"dd.bin", func() Sketch {
		d, _ := NewDD(DefaultAlpha)
		for _, v := range []float64{-2, 0, 1, 10, 100} {
			d.Add(v)
		}
		return d
	}, func(t *testing.T, s Sketch) {
		d := s.(*DD)
		for p, want := range map[float64]float64{0: -2, 100: 100} {
			if got, _ := d.Quantile(p); got != want {
				t.Errorf("p%v: %v, want %v", p, got, want)
			}
		}
		if got, _ := d.Quantile(50); got < 0.99 || got > 1.01 {
			t.Errorf("median %v, want 1 within 1%%", got)
		}
	}},
	{"topk.bin", func() Sketch {
		tk := NewTopK(KeyString, 2)
		for _, v := range []string{"x", "y", "x", "z", "x"} {
			tk.Add(v)
		}
		return tk
	}, func(t *testing.T, s Sketch) {
		// z replaced y (count 1): z counts 2 with error 1.
		top := s.(*TopK).Top(2)
		if len(top) != 2 || top[0] != (Heavy{"x", 3, 0}) || top[1] != (Heavy{"z", 2, 1}) {
			t.Errorf("top %v", top)
		}
	}},
	{"countmin.bin", func() Sketch {
		c := NewCountMin()
		for _, v := range []int64{7, 7, 7, 8} {
			c.Add(HashInt(v))
		}
		return c
	}, func(t *testing.T, s Sketch) {
		c := s.(*CountMin)
		if c.Estimate(HashInt(7)) != 3 || c.Estimate(HashInt(8)) != 1 || c.Total() != 4 {
			t.Errorf("estimates %d %d", c.Estimate(HashInt(7)), c.Estimate(HashInt(8)))
		}
	}},
}

// TestGolden decodes every fixture in testdata/sketch, checks its answers,
// and that the code still encodes the same bytes. Regenerate with
// go test ./query/sketch -run TestGolden -update after a deliberate change
// (and bump Version if old bytes no longer decode the same).
func TestGolden(t *testing.T) {
	for _, g := range goldens {
		t.Run(g.file, func(t *testing.T) {
			built := Append(nil, g.build())
			path := filepath.Join(goldenDir, g.file)
			if *update {
				if err := os.WriteFile(path, built, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			s, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			g.check(t, s)
			if again := Append(nil, s); !bytes.Equal(again, b) {
				t.Fatalf("re-encoding differs:\n got %x\nwant %x", again, b)
			}
			if !bytes.Equal(built, b) {
				t.Fatalf("the code encodes differently from the fixture")
			}
			back, err := ParseText(Text(s))
			if err != nil || !bytes.Equal(Append(nil, back), b) {
				t.Fatalf("text round trip: %v", err)
			}
		})
	}
}

// TestGoldenSpecExamples pins the hex quoted in docs/format/sketches.md.
func TestGoldenSpecExamples(t *testing.T) {
	for file, want := range map[string]string{
		"topk.bin":       "01030402050201780300017a0201",
		"hll_sparse.bin": "01010e0003c2aa8ae103bfa6abae01c0f3e7b901",
	} {
		b, err := os.ReadFile(filepath.Join(goldenDir, file))
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(b); got != want {
			t.Errorf("%s: %s, want %s (update docs/format/sketches.md too)", file, got, want)
		}
	}
}
