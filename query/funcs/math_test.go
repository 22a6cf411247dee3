package funcs

import (
	"math"
	"testing"
)

func TestMathApply(t *testing.T) {
	tests := []struct {
		fn   string
		args []any
		want any
	}{
		{"abs", []any{-2.5}, 2.5},
		{"abs", []any{int64(-3)}, int64(3)},
		{"abs", []any{uint64(7)}, uint64(7)},
		{"ceil", []any{1.2}, 2.0},
		{"ceil", []any{int64(4)}, int64(4)},
		{"floor", []any{-1.2}, -2.0},
		{"round", []any{2.5}, 3.0},
		{"round", []any{-2.5}, -3.0},
		{"round", []any{int64(9)}, int64(9)},
		{"sin", []any{1.0}, math.Sin(1)},
		{"cos", []any{int64(2)}, math.Cos(2)},
		{"tan", []any{0.5}, math.Tan(0.5)},
		{"asin", []any{0.5}, math.Asin(0.5)},
		{"acos", []any{0.5}, math.Acos(0.5)},
		{"atan", []any{uint64(3)}, math.Atan(3)},
		{"atan2", []any{1.0, int64(2)}, math.Atan2(1, 2)},
		{"exp", []any{1.0}, math.E},
		{"ln", []any{math.E}, 1.0},
		{"log", []any{8.0, 2.0}, math.Log(8) / math.Log(2)},
		{"log2", []any{int64(8)}, 3.0},
		{"log10", []any{1000.0}, math.Log10(1000)},
		{"sqrt", []any{int64(16)}, 4.0},
		{"pow", []any{int64(2), int64(10)}, 1024.0},
		// Nulls and non-numbers give null.
		{"abs", []any{nil}, nil},
		{"sqrt", []any{"x"}, nil},
		{"pow", []any{2.0, nil}, nil},
		{"round", []any{true}, nil},
		// Results outside the reals are null too.
		{"sqrt", []any{-1.0}, nil},
		{"ln", []any{int64(0)}, nil},
		{"asin", []any{2.0}, nil},
	}
	for _, tt := range tests {
		f, ok := Lookup(tt.fn)
		if !ok || f.Kind != Math {
			t.Fatalf("%s: not a math function", tt.fn)
		}
		if got := f.Apply(tt.args); got != tt.want {
			t.Errorf("%s(%v) = %v (%T), want %v (%T)", tt.fn, tt.args, got, got, tt.want, tt.want)
		}
	}
}

func TestMathTypes(t *testing.T) {
	tests := []struct {
		fn      string
		in      []Type
		want    Type
		wantErr string
	}{
		{"abs", []Type{Integer}, Integer, ""},
		{"abs", []Type{Float}, Float, ""},
		{"round", []Type{Unsigned}, Unsigned, ""},
		{"floor", []Type{Unknown}, Unknown, ""},
		{"sqrt", []Type{Integer}, Float, ""},
		{"pow", []Type{Integer, Integer}, Float, ""},
		{"abs", []Type{String}, Unknown, "invalid argument type for the first argument in abs(): string"},
		{"atan2", []Type{Float, Boolean}, Unknown, "invalid argument type for the second argument in atan2(): boolean"},
	}
	for _, tt := range tests {
		f, _ := Lookup(tt.fn)
		got, err := f.MathType(tt.in)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("%s%v: err %v, want %q", tt.fn, tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s%v = %s, %v; want %s", tt.fn, tt.in, got, err, tt.want)
		}
	}
}
