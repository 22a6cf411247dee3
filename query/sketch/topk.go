package sketch

import (
	"cmp"
	"slices"
	"strings"
)

// TopK is a Space-Saving heavy-hitter summary (Metwally, Agrawal, El Abbadi
// 2005) over values encoded as keys (Key*): at most Capacity counters; a
// value not counted yet replaces the smallest counter and inherits its count
// as its error. Every counted value's true frequency f satisfies
// count − err ≤ f ≤ count, and err ≤ N/Capacity; any value with f > N/Capacity
// is counted. Merge is the mergeable-summaries rule (Agarwal et al. 2012):
// a value missing from a full summary is charged that summary's smallest
// count, then the largest Capacity counters are kept; the bound becomes
// (N₁+N₂)/Capacity. Unlike the other sketches, the merged counters depend on
// how the input was split (never beyond the bound).
type TopK struct {
	typ   uint8 // the values' type, as Key encodes them (KeyFloat...)
	cap   int
	total uint64
	heap  []counter      // min-heap by (count, key)
	at    map[string]int // key → position in heap
}

type counter struct {
	key        string
	count, err uint64
}

// MaxTopK bounds k: past 4,096 rows per window a heavy-hitter list is a
// group-by, which the exact engine answers.
const MaxTopK = 4096

// TopKCapacity is the counters kept for k: 32 per requested row (so the
// error bound is N/(32k) and the k-th heaviest is counted unless the head is
// nearly flat), at least 256, at most 65,536 (1.5 MiB with short keys).
func TopKCapacity(k int) int { return min(max(256, 32*k), 1<<16) }

// NewTopK returns an empty summary of capacity counters over values of
// type typ.
func NewTopK(typ uint8, capacity int) *TopK {
	return &TopK{typ: typ, cap: capacity, at: map[string]int{}}
}

// Capacity is the counters kept; Total the values added.
func (t *TopK) Capacity() int    { return t.cap }
func (t *TopK) Total() uint64    { return t.total }
func (t *TopK) ValueType() uint8 { return t.typ }

func (t *TopK) less(i, j int) bool {
	a, b := &t.heap[i], &t.heap[j]
	return a.count < b.count || a.count == b.count && a.key < b.key
}

func (t *TopK) swap(i, j int) {
	t.heap[i], t.heap[j] = t.heap[j], t.heap[i]
	t.at[t.heap[i].key], t.at[t.heap[j].key] = i, j
}

func (t *TopK) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(t.heap) {
			return
		}
		m := l
		if r := l + 1; r < len(t.heap) && t.less(r, l) {
			m = r
		}
		if !t.less(m, i) {
			return
		}
		t.swap(i, m)
		i = m
	}
}

func (t *TopK) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !t.less(i, p) {
			return
		}
		t.swap(i, p)
		i = p
	}
}

// Add counts one occurrence of key.
func (t *TopK) Add(key string) { t.AddN(key, 1) }

func (t *TopK) floor() uint64 {
	if len(t.heap) < t.cap || len(t.heap) == 0 {
		return 0
	}
	return t.heap[0].count
}

// Merge folds o into t. Summaries of different value types or capacities
// do not merge (their bounds differ).
func (t *TopK) Merge(o *TopK) bool {
	if t.typ != o.typ || t.cap != o.cap {
		return false
	}
	fa, fb := t.floor(), o.floor()
	all := make(map[string]counter, len(t.heap)+len(o.heap))
	for _, c := range t.heap {
		all[c.key] = counter{c.key, c.count + fb, c.err + fb}
	}
	for _, c := range o.heap {
		if a, ok := all[c.key]; ok {
			all[c.key] = counter{c.key, a.count - fb + c.count, a.err - fb + c.err}
		} else {
			all[c.key] = counter{c.key, c.count + fa, c.err + fa}
		}
	}
	cs := make([]counter, 0, len(all))
	for _, c := range all {
		cs = append(cs, c)
	}
	t.set(cs, t.total+o.total)
	return true
}

// set keeps the largest cap counters of cs.
func (t *TopK) set(cs []counter, total uint64) {
	slices.SortFunc(cs, byCountDesc)
	if len(cs) > t.cap {
		cs = cs[:t.cap]
	}
	t.total, t.heap, t.at = total, cs, make(map[string]int, len(cs))
	// Descending by count is not a min-heap; rebuild one.
	for i := range t.heap {
		t.at[t.heap[i].key] = i
	}
	for i := len(t.heap)/2 - 1; i >= 0; i-- {
		t.down(i)
	}
}

func byCountDesc(a, b counter) int {
	if c := cmp.Compare(b.count, a.count); c != 0 {
		return c
	}
	return strings.Compare(a.key, b.key)
}

// Heavy is one heavy hitter: the key, its estimated count and the most it
// may overestimate by.
type Heavy struct {
	Key        string
	Count, Err uint64
}

// Top returns the k largest counters, by count descending then key.
func (t *TopK) Top(k int) []Heavy {
	cs := slices.Clone(t.heap)
	slices.SortFunc(cs, byCountDesc)
	if len(cs) > k {
		cs = cs[:k]
	}
	out := make([]Heavy, len(cs))
	for i, c := range cs {
		out[i] = Heavy{c.key, c.count, c.err}
	}
	return out
}

// MemBytes is the summary's approximate heap footprint.
func (t *TopK) MemBytes() int {
	n := 64
	for _, c := range t.heap {
		n += 2*len(c.key) + 80
	}
	return n
}

// appendBody: type <1b>, capacity <uvarint>, total <uvarint>, n <uvarint>,
// n × (key length <uvarint>, key, count <uvarint>, err <uvarint>), keys
// strictly ascending.
func (t *TopK) appendBody(b []byte) []byte {
	b = append(b, t.typ)
	b = appendUvarint(b, uint64(t.cap))
	b = appendUvarint(b, t.total)
	cs := slices.Clone(t.heap)
	slices.SortFunc(cs, func(a, b counter) int { return strings.Compare(a.key, b.key) })
	b = appendUvarint(b, uint64(len(cs)))
	for _, c := range cs {
		b = appendUvarint(b, uint64(len(c.key)))
		b = append(b, c.key...)
		b = appendUvarint(b, c.count)
		b = appendUvarint(b, c.err)
	}
	return b
}

func decodeTopK(r *reader) *TopK {
	typ := r.Byte()
	capacity := r.Uvarint()
	total := r.Uvarint()
	if r.Err != nil {
		return nil
	}
	if typ < KeyFloat || typ > KeyString {
		r.Fail("top-k value type %d", typ)
		return nil
	}
	if capacity < 1 || capacity > 1<<16 {
		r.Fail("top-k capacity %d", capacity)
		return nil
	}
	n := r.Count(3)
	if n > int(capacity) {
		r.Fail("top-k: %d counters, capacity %d", n, capacity)
		return nil
	}
	cs := make([]counter, 0, n)
	var sum uint64
	for i := 0; i < n && r.Err == nil; i++ {
		l := r.Uvarint()
		if l > uint64(len(r.B)) {
			r.Fail("top-k key of %d bytes, %d left", l, len(r.B))
			break
		}
		k := string(r.B[:l])
		r.B = r.B[l:]
		c := counter{key: k, count: r.Uvarint(), err: r.Uvarint()}
		if c.count == 0 || c.err > c.count || (i > 0 && cs[i-1].key >= k) {
			r.Fail("top-k counter %d invalid or out of order", i)
			break
		}
		if typ != KeyString && len(k) != 8 {
			r.Fail("top-k numeric key of %d bytes", len(k))
			break
		}
		sum += c.count - c.err
		cs = append(cs, c)
	}
	if r.Err != nil {
		return nil
	}
	if sum > total {
		r.Fail("top-k counts %d exceed the total %d", sum, total)
		return nil
	}
	t := NewTopK(typ, int(capacity))
	t.set(cs, total)
	return t
}

// AddN counts n occurrences of key at once (weighted Space-Saving): the
// same summary as n calls of Add when key is counted or a counter is free;
// otherwise key takes the smallest counter, inheriting its count as its
// error, plus n. The bounds hold as for Add, with N the sum of the weights.
func (t *TopK) AddN(key string, n uint64) {
	if n == 0 {
		return
	}
	t.total += n
	if i, ok := t.at[key]; ok {
		t.heap[i].count += n
		t.down(i)
		return
	}
	if len(t.heap) < t.cap {
		t.heap = append(t.heap, counter{key: strings.Clone(key), count: n})
		t.at[key] = len(t.heap) - 1
		t.up(len(t.heap) - 1)
		return
	}
	m := &t.heap[0]
	delete(t.at, m.key)
	m.key, m.err = strings.Clone(key), m.count
	m.count += n
	t.at[m.key] = 0
	t.down(0)
}
