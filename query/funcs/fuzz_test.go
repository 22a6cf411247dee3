package funcs

import (
	"encoding/binary"
	"math"
	"testing"
	"time"
)

// decodeFuzzPoints turns fuzz bytes into a time-ordered series of one type:
// byte 0 picks the type, then 3 bytes per point (time step, value, null flag).
func decodeFuzzPoints(data []byte) (Type, []Point) {
	if len(data) == 0 {
		return Float, nil
	}
	typ := Type(data[0]%5 + 1)
	var pts []Point
	t := int64(0)
	for b := data[1:]; len(b) >= 3; b = b[3:] {
		t += int64(b[0] % 4)
		var v any
		switch typ {
		case Float:
			v = float64(int8(b[1])) / 8
		case Integer:
			v = int64(int8(b[1])) << (b[2] % 60)
		case Unsigned:
			v = uint64(b[1]) << (b[2] % 60)
		case String:
			v = string(rune('a' + b[1]%5))
		default:
			v = b[1]%2 == 0
		}
		if b[2]&0x80 != 0 {
			v = nil
		}
		pts = append(pts, Point{Time: t, Value: v})
	}
	return typ, pts
}

// FuzzFunctions runs every window function and transformation on random
// series: no panics and results in time order. (query/partial's property
// tests check its states against the window functions.)
func FuzzFunctions(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 0, 5, 6})
	f.Add([]byte{1, 0, 200, 1, 1, 255, 0, 2, 7, 3})
	f.Add([]byte{2, 3, 3, 3, 0, 3, 3, 1, 9, 200})
	f.Add([]byte{3, 1, 1, 1, 1, 1, 1})
	f.Add([]byte{4, 0, 1, 0, 0, 0, 0, 2, 1, 128})
	f.Add(binary.LittleEndian.AppendUint64([]byte{1}, math.MaxUint64))
	windowCalls := []struct {
		name string
		args []any
	}{
		{"count", nil}, {"sum", nil}, {"mean", nil}, {"median", nil}, {"mode", nil},
		{"spread", nil}, {"stddev", nil}, {"integral", nil}, {"distinct", nil},
		{"count_distinct", nil}, {"min", nil}, {"max", nil}, {"first", nil}, {"last", nil},
		{"percentile", []any{37.5}}, {"top", []any{int64(3)}}, {"bottom", []any{int64(2)}},
		{"sample", []any{int64(2)}},
	}
	transforms := []struct {
		name string
		args []any
	}{
		{"derivative", nil}, {"non_negative_derivative", []any{time.Duration(3)}},
		{"difference", nil}, {"non_negative_difference", nil},
		{"moving_average", []any{int64(2)}}, {"cumulative_sum", nil}, {"elapsed", nil},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		typ, pts := decodeFuzzPoints(data)
		for _, c := range windowCalls {
			wf, err := NewWindowFunc(c.name, c.args)
			if err != nil {
				t.Fatal(err)
			}
			out, err := wf(pts, 0)
			if err != nil {
				if _, typeErr := OutputType(c.name, typ); typeErr == nil {
					t.Fatalf("%s on %s: %v", c.name, typ, err)
				}
				continue
			}
			checkTimeOrder(t, c.name, out)
		}
		for _, c := range transforms {
			tf, err := NewTransform(c.name, c.args, 0)
			if err != nil {
				t.Fatal(err)
			}
			out, err := tf(pts)
			if err == nil {
				checkTimeOrder(t, c.name, out)
			}
		}
	})
}

func checkTimeOrder(t *testing.T, name string, out []Point) {
	t.Helper()
	for i := 1; i < len(out); i++ {
		if out[i].Time < out[i-1].Time {
			t.Fatalf("%s: output not in time order: %v", name, out)
		}
	}
}
