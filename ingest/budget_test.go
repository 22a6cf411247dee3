package ingest

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// FuzzBodyBuffer reads arbitrary bodies, in arbitrary pieces, under arbitrary
// limits and budgets: the buffer holds exactly the body or reports why not,
// its reservation never passes the budget, and release gives all of it back.
func FuzzBodyBuffer(f *testing.F) {
	f.Add([]byte("cpu v=1 1\n"), int64(100), int64(1<<20), uint8(0))
	f.Add(bytes.Repeat([]byte("x"), 70_000), int64(1<<20), int64(64<<10), uint8(1))
	f.Add(bytes.Repeat([]byte("y"), 5000), int64(4096), int64(1<<20), uint8(2))
	f.Add([]byte{}, int64(0), int64(0), uint8(3))
	f.Fuzz(func(t *testing.T, body []byte, limit, budgetSize int64, mode uint8) {
		limit = max(0, limit%(256<<10))
		budget := NewByteBudget(budgetSize % (512 << 10))
		var src io.Reader = bytes.NewReader(body)
		switch mode % 3 {
		case 1:
			src = iotest.OneByteReader(src)
		case 2:
			src = iotest.HalfReader(src)
		}
		var bb bodyBuffer
		exceeded, err := bb.readFrom(src, limit, budget)
		if l := budget.Limit(); l > 0 && budget.Used() > l {
			t.Fatalf("reserved %d of a %d budget", budget.Used(), l)
		}
		if budget.Used() != int64(cap(bb.buf)) {
			t.Fatalf("reserved %d for a buffer of %d", budget.Used(), cap(bb.buf))
		}
		switch {
		case exceeded:
			if int64(len(body)) <= limit {
				t.Fatalf("%d bytes exceed a limit of %d?", len(body), limit)
			}
		case errors.Is(err, errOverBudget), errors.Is(err, errLargerThanBudget):
		case err != nil:
			t.Fatal(err)
		default:
			if !bytes.Equal(bb.buf, body) {
				t.Fatalf("read %d bytes of %d", len(bb.buf), len(body))
			}
		}
		bb.release(budget)
		if budget.Used() != 0 {
			t.Fatalf("%d bytes still reserved after release", budget.Used())
		}
	})
}

// TestBodyBuffer_PooledReservesWhatIsUsed: a buffer left large by an earlier
// body reserves what the next body needs, not its capacity, so one big batch
// does not make later small ones look over budget; a body that needs more
// still grows it, and release returns everything.
func TestBodyBuffer_PooledReservesWhatIsUsed(t *testing.T) {
	cases := []struct {
		name        string
		body        int
		budget      int64
		wantReserve int64 // at most
		wantErr     error
	}{
		{"small body, small budget", 10_000, 64 << 10, firstReadStep, nil},
		{"body as large as the buffer", 1 << 20, 4 << 20, 2 << 20, nil},
		{"body larger than the buffer", 3 << 20, 8 << 20, 4 << 20, nil},
		{"body larger than the whole budget", 200_000, 64 << 10, 64 << 10, errLargerThanBudget},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			budget := NewByteBudget(tc.budget)
			bb := bodyBuffer{buf: make([]byte, 0, 2<<20)} // released by a 2 MiB body
			body := bytes.Repeat([]byte("x"), tc.body)
			_, err := bb.readFrom(bytes.NewReader(body), 25<<20, budget)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			if got := budget.Used(); got > tc.wantReserve || got != bb.reserved {
				t.Fatalf("reserved %d (buffer says %d), want at most %d", got, bb.reserved, tc.wantReserve)
			}
			if err == nil && !bytes.Equal(bb.buf, body) {
				t.Fatalf("read %d bytes of %d", len(bb.buf), len(body))
			}
			bb.release(budget)
			if budget.Used() != 0 {
				t.Fatalf("%d bytes still reserved after release", budget.Used())
			}
		})
	}
}
