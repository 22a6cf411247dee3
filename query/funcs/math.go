package funcs

import "math"

// mathFunc is one of the scalar functions InfluxDB 1.8 documents: applied to
// each row's value (a raw field or an aggregate's result), nested anywhere in
// an expression.
type mathFunc struct {
	name   string
	args   int
	apply  func(args []any) any
	typeOf func(in []Type) (Type, error)
}

var mathFuncs = []mathFunc{
	{"abs", 1, unaryKeep(math.Abs, absInt), sameType("abs")},
	{"ceil", 1, unaryKeep(math.Ceil, nil), sameType("ceil")},
	{"floor", 1, unaryKeep(math.Floor, nil), sameType("floor")},
	{"round", 1, unaryKeep(math.Round, nil), sameType("round")},
	{"sin", 1, unaryFloat(math.Sin), floatType("sin")},
	{"cos", 1, unaryFloat(math.Cos), floatType("cos")},
	{"tan", 1, unaryFloat(math.Tan), floatType("tan")},
	{"asin", 1, unaryFloat(math.Asin), floatType("asin")},
	{"acos", 1, unaryFloat(math.Acos), floatType("acos")},
	{"atan", 1, unaryFloat(math.Atan), floatType("atan")},
	{"exp", 1, unaryFloat(math.Exp), floatType("exp")},
	{"ln", 1, unaryFloat(math.Log), floatType("ln")},
	{"log2", 1, unaryFloat(math.Log2), floatType("log2")},
	{"log10", 1, unaryFloat(math.Log10), floatType("log10")},
	{"sqrt", 1, unaryFloat(math.Sqrt), floatType("sqrt")},
	{"atan2", 2, binaryFloat(math.Atan2), floatType("atan2")},
	{"pow", 2, binaryFloat(math.Pow), floatType("pow")},
	{"log", 2, binaryFloat(func(x, b float64) float64 { return math.Log(x) / math.Log(b) }), floatType("log")},
}

// asFloat64 converts a numeric value; false for nil, strings and booleans.
func asFloat64(v any) (float64, bool) {
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
		x, ok := asFloat64(args[0])
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

// absInt wraps at math.MinInt64 as two's complement negation does.
func absInt(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func binaryFloat(f func(x, y float64) float64) func([]any) any {
	return func(args []any) any {
		x, ok := asFloat64(args[0])
		y, ok2 := asFloat64(args[1])
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
