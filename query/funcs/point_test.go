package funcs

import (
	"math"
	"reflect"
)

// samePoint compares two points, float values bit for bit (NaN equal to NaN).
func samePoint(a, b Point) bool {
	if a.Time != b.Time {
		return false
	}
	af, aok := a.Value.(float64)
	bf, bok := b.Value.(float64)
	if aok && bok {
		return math.Float64bits(af) == math.Float64bits(bf) || (math.IsNaN(af) && math.IsNaN(bf))
	}
	return reflect.DeepEqual(a.Value, b.Value) && reflect.DeepEqual(a.Aux, b.Aux)
}

func samePoints(a, b []Point) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !samePoint(a[i], b[i]) {
			return false
		}
	}
	return true
}
