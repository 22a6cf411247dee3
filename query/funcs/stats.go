package funcs

// Stats are a storage block's header statistics, what query/partial's states
// fold a whole block from (AddStats) without decoding it. First and Last are
// the values at MinTime and MaxTime; the times of Min and Max are not
// recorded. Float sums are added in time order from the block's first value.
type Stats struct {
	Type             uint8 // 1 float, 2 integer, 3 unsigned, 4 string, 5 boolean (Type's values)
	Count            int
	MinTime, MaxTime int64

	FMin, FMax, FSum, FFirst, FLast float64
	IMin, IMax, ISum, IFirst, ILast int64
	UMin, UMax, USum, UFirst, ULast uint64
}
