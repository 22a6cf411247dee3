package sketch

// CountMin is a Count-Min sketch (Cormode and Muthukrishnan 2005) of
// Depth rows of Width counters: a value adds 1 to one counter per row, and
// its estimated frequency is the smallest of its counters. The estimate
// never undercounts, and overcounts by more than e/Width·N with
// probability at most e^−Depth. Merge adds counters: exact.
type CountMin struct {
	width, depth int
	total        uint64
	rows         []uint64 // depth × width
}

const (
	// CountMinWidth and CountMinDepth: ε = e/2048 = 0.13% of N with
	// probability 1 − e^−4 = 98.2%, in 64 KiB per sketch; a wider row
	// halves ε for twice the memory of every window.
	CountMinWidth = 2048
	CountMinDepth = 4
)

// NewCountMin returns an empty sketch of the default shape.
func NewCountMin() *CountMin {
	return &CountMin{width: CountMinWidth, depth: CountMinDepth, rows: make([]uint64, CountMinWidth*CountMinDepth)}
}

// Epsilon is the overcount bound's fraction of N; Delta the probability of
// exceeding it.
func (c *CountMin) Epsilon() float64 { return 2.718281828459045 / float64(c.width) }

// Total is the number of values added.
func (c *CountMin) Total() uint64 { return c.total }

// cell is row i's counter for a hash: Kirsch–Mitzenmacher double hashing
// from the hash's two halves, so one 64-bit hash serves every row.
func (c *CountMin) cell(i int, h uint64) int {
	h1, h2 := uint32(h), uint32(h>>32)|1
	return i*c.width + int((h1+uint32(i)*h2)%uint32(c.width))
}

// Add counts one occurrence of a hashed value.
func (c *CountMin) Add(h uint64) { c.AddN(h, 1) }

// Estimate is the estimated frequency of a hashed value.
func (c *CountMin) Estimate(h uint64) uint64 {
	est := c.rows[c.cell(0, h)]
	for i := 1; i < c.depth; i++ {
		est = min(est, c.rows[c.cell(i, h)])
	}
	return est
}

// Bound is the overcount that Estimate exceeds with probability at most
// e^−Depth: ⌈ε·N⌉.
func (c *CountMin) Bound() uint64 {
	return uint64(c.Epsilon()*float64(c.total) + 0.999999)
}

// Merge adds o's counters; sketches of other shapes do not merge.
func (c *CountMin) Merge(o *CountMin) bool {
	if c.width != o.width || c.depth != o.depth {
		return false
	}
	for i, v := range o.rows {
		c.rows[i] += v
	}
	c.total += o.total
	return true
}

// MemBytes is the sketch's heap footprint.
func (c *CountMin) MemBytes() int { return 8*len(c.rows) + 48 }

// appendBody: width <uvarint>, depth <uvarint>, total <uvarint>, then
// width·depth counters <uvarint>, row by row.
func (c *CountMin) appendBody(b []byte) []byte {
	b = appendUvarint(b, uint64(c.width))
	b = appendUvarint(b, uint64(c.depth))
	b = appendUvarint(b, c.total)
	for _, v := range c.rows {
		b = appendUvarint(b, v)
	}
	return b
}

func decodeCountMin(r *reader) *CountMin {
	w, d, total := r.Uvarint(), r.Uvarint(), r.Uvarint()
	if r.Err != nil {
		return nil
	}
	if w != CountMinWidth || d != CountMinDepth {
		r.Fail("count-min shape %d×%d, want %d×%d", d, w, CountMinDepth, CountMinWidth)
		return nil
	}
	c := NewCountMin()
	c.total = total
	for i := range c.rows {
		c.rows[i] = r.Uvarint()
		if c.rows[i] > total {
			r.Fail("count-min counter %d above the total %d", c.rows[i], total)
			return nil
		}
	}
	if r.Err != nil {
		return nil
	}
	return c
}

// AddN counts n occurrences of a hashed value: n calls of Add, exactly.
func (c *CountMin) AddN(h, n uint64) {
	c.total += n
	for i := 0; i < c.depth; i++ {
		c.rows[c.cell(i, h)] += n
	}
}
