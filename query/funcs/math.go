package funcs

import "math"

// The math functions InfluxDB 1.8 documents apply to each row's value (a raw
// field or an aggregate's result), nested anywhere in an expression. Their
// entries are in table.go; these are their arithmetic and type rules.

// AsFloat64 converts a numeric value (float, integer, unsigned); false for nil,
// strings and booleans. The executor uses it too (fill, arithmetic).
func AsFloat64(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	}
	return 0, false
}

// unaryFloat: numeric in, float out (sin, sqrt, ln...).
func unaryFloat(f func(float64) float64) func([]any) any {
	return func(args []any) any {
		x, ok := AsFloat64(args[0])
		if !ok {
			return nil
		}
		return f(x)
	}
}

// unaryKeep keeps the integer types (abs, ceil, floor, round of an integer
// is that integer, or its absolute value), floats go through f.
func unaryKeep(f func(float64) float64, fi func(int64) int64) func([]any) any {
	return func(args []any) any {
		switch x := args[0].(type) {
		case float64:
			return f(x)
		case int64:
			if fi != nil {
				return fi(x)
			}
			return x
		case uint64:
			return x
		}
		return nil
	}
}

// logBase is log(x, b): the logarithm of x in base b.
func logBase(x, b float64) float64 { return math.Log(x) / math.Log(b) }

// absInt wraps at math.MinInt64 as two's complement negation does.
func absInt(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func binaryFloat(f func(x, y float64) float64) func([]any) any {
	return func(args []any) any {
		x, ok := AsFloat64(args[0])
		y, ok2 := AsFloat64(args[1])
		if !ok || !ok2 {
			return nil
		}
		return f(x, y)
	}
}

var argOrdinals = []string{"first", "second"}

func checkNumericArgs(name string, in []Type) error {
	for i, t := range in {
		if t != Unknown && !numericTypes.has(t) && i < len(argOrdinals) {
			return errorf("invalid argument type for the %s argument in %s(): %s", argOrdinals[i], name, t)
		}
	}
	return nil
}

func floatType(name string) func([]Type) (Type, error) {
	return func(in []Type) (Type, error) {
		if err := checkNumericArgs(name, in); err != nil {
			return Unknown, err
		}
		return Float, nil
	}
}

func sameType(name string) func([]Type) (Type, error) {
	return func(in []Type) (Type, error) {
		if err := checkNumericArgs(name, in); err != nil {
			return Unknown, err
		}
		if len(in) == 0 {
			return Unknown, nil
		}
		return in[0], nil
	}
}
