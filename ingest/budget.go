package ingest

import (
	"errors"
	"io"
	"sync/atomic"
)

// ByteBudget caps the bytes held at once by the bodies of in-flight write
// requests (plain and inflated alike: what is counted is the buffer the parser
// reads, not the wire). A request reserves memory as its body arrives, never
// from the Content-Length it declares, so a client that announces 25 MB and
// sends one byte holds one read step, not 25 MB.
//
// It is safe for concurrent use; the zero limit means no limit.
type ByteBudget struct {
	limit int64
	used  atomic.Int64
	// nearLimit, if set, reports that the process is near its memory limit:
	// a body is then refused (429) before any of it is read.
	nearLimit func() bool
}

// SetMemoryPressure makes the budget refuse new bodies while near reports
// true (the live heap near --memory-limit), whatever bytes are left. Call it
// before the budget is used.
func (b *ByteBudget) SetMemoryPressure(near func() bool) { b.nearLimit = near }

// NewByteBudget returns a budget of limit bytes (<= 0: unlimited).
func NewByteBudget(limit int64) *ByteBudget { return &ByteBudget{limit: limit} }

// TryReserve takes n bytes from the budget, or nothing and false when they
// do not fit.
func (b *ByteBudget) TryReserve(n int64) bool {
	if b.limit <= 0 {
		b.used.Add(n)
		return true
	}
	for {
		u := b.used.Load()
		if u+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

// Release returns n bytes taken by TryReserve.
func (b *ByteBudget) Release(n int64) { b.used.Add(-n) }

// Used returns the bytes reserved now.
func (b *ByteBudget) Used() int64 { return b.used.Load() }

// Limit returns the budget's size (<= 0: unlimited).
func (b *ByteBudget) Limit() int64 { return b.limit }

// errOverBudget is a body refused because the in-flight budget is spent by
// other requests: retrying later can succeed (429).
var errOverBudget = errors.New("too many write bytes in flight: retry later")

// errMemoryPressure is a body refused because the process is near its memory
// limit: retrying later, once queries and flushes have given memory back,
// can succeed (429).
var errMemoryPressure = errors.New("server near its memory limit (--memory-limit): retry later")

// errLargerThanBudget is a body that alone needs more than the whole budget:
// retrying cannot help (413).
var errLargerThanBudget = errors.New("Request Entity Too Large: the body needs more memory than --max-inflight-write-bytes")

const (
	// firstReadStep is the first buffer of a request without a pooled one: a
	// typical Telegraf or client-library batch (a few hundred lines) fits, and a
	// connection that sends one byte and stalls holds no more than this.
	firstReadStep = 16 << 10
	// minReadSpace is the free room a read is given: below it the buffer grows
	// (doubling, so a body of n bytes is copied O(log n) times and its buffer is
	// at most twice n).
	minReadSpace = 4 << 10
	// maxPooledBody is the largest buffer kept for the next request: above it a
	// buffer returns to the garbage collector rather than pinning memory that
	// the budget no longer counts. 4 MiB covers the common batch sizes
	// (Telegraf's default 1000 metrics is about 100-200 KB, TSBS's 5,000 and
	// 10,000 lines about 1.1 and 2.2 MB, which grow their buffer to 2 and
	// 4 MiB): below it a steady stream of big batches allocated its whole
	// body anew at every request (a fifth of the garbage of a TSBS load). The
	// pool holds at most one buffer per writer that was in flight at once, and
	// the garbage collector empties it within two cycles once writes stop.
	maxPooledBody = 4 << 20
)

// bodyBuffer is a request's body, read incrementally into a buffer that grows
// with what has arrived; every byte of its capacity is reserved from a budget.
type bodyBuffer struct {
	buf      []byte
	reserved int64
}

// readFrom appends all of src, reading at most limit bytes (more: exceeded is
// true) and reserving each growth from budget first. It returns errOverBudget
// or errLargerThanBudget when a growth does not fit, or src's error.
func (bb *bodyBuffer) readFrom(src io.Reader, limit int64, budget *ByteBudget) (exceeded bool, err error) {
	bb.buf = bb.buf[:0]
	if budget.nearLimit != nil && budget.nearLimit() {
		return false, errMemoryPressure
	}
	for {
		if bb.reserved-int64(len(bb.buf)) < minReadSpace {
			if int64(len(bb.buf)) > limit {
				return true, nil
			}
			if err := bb.grow(limit, budget); err != nil {
				return false, err
			}
		}
		// Only the reserved part of a pooled buffer is read into.
		n, err := src.Read(bb.buf[len(bb.buf):bb.reserved])
		bb.buf = bb.buf[:len(bb.buf)+n]
		if int64(len(bb.buf)) > limit {
			return true, nil
		}
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
	}
}

// grow doubles the reservation (at least firstReadStep, at most limit plus
// one read, enough to see that the limit is passed) and makes the buffer hold
// it. A pooled buffer is used as it is as far as it reaches: a request
// reserves what its body has needed so far, not the capacity an earlier, larger
// body left behind (the pool's idle buffers are bounded by freeRequestStates).
func (bb *bodyBuffer) grow(limit int64, budget *ByteBudget) error {
	newCap := max(2*bb.reserved, firstReadStep)
	newCap = min(newCap, limit+minReadSpace)
	if newCap < bb.reserved+minReadSpace {
		newCap = bb.reserved + minReadSpace
	}
	if !budget.TryReserve(newCap - bb.reserved) {
		if l := budget.Limit(); l > 0 && newCap > l {
			return errLargerThanBudget
		}
		return errOverBudget
	}
	bb.reserved = newCap
	if int64(cap(bb.buf)) < newCap {
		nb := make([]byte, len(bb.buf), newCap)
		copy(nb, bb.buf)
		bb.buf = nb
	}
	return nil
}

// reserve makes the buffer empty with room for exactly n bytes (a body whose
// decoded size is known up front), reserving what it lacks from budget.
func (bb *bodyBuffer) reserve(n int64, budget *ByteBudget) error {
	if int64(cap(bb.buf)) < n {
		bb.buf = nil // too small: dropped, its reservation carries over
	}
	if need := n - bb.reserved; need > 0 {
		if !budget.TryReserve(need) {
			if l := budget.Limit(); l > 0 && n > l {
				return errLargerThanBudget
			}
			return errOverBudget
		}
		bb.reserved += need
	}
	if bb.buf == nil {
		bb.buf = make([]byte, 0, n)
	}
	bb.buf = bb.buf[:0]
	return nil
}

// release returns the reservation and drops a buffer too large to pool.
func (bb *bodyBuffer) release(budget *ByteBudget) {
	budget.Release(bb.reserved)
	bb.reserved = 0
	if cap(bb.buf) > maxPooledBody {
		bb.buf = nil
	}
	bb.buf = bb.buf[:0]
}
