package storage

import (
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestWriteStallTimeMetric provokes stalls on a full head: with a 64 KiB head,
// writers of 20,000-point batches fill the active head past twice its budget
// while a flush runs, so they wait, and the time they waited is counted in
// strata_storage_write_stall_seconds_total.
func TestWriteStallTimeMetric(t *testing.T) {
	e := openTestEngine(t, t.TempDir(), Options{HeadMaxBytes: 64 << 10})
	defer e.Close()
	if err := e.CreateDatabase("db", nil); err != nil {
		t.Fatal(err)
	}
	bucket := bucketOf(t, e, "db")
	deadline := time.Now().Add(10 * time.Second)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for round := 0; testutil.ToFloat64(e.m.writeStalls) == 0 && time.Now().Before(deadline); round++ {
				b, err := e.NewBatch(bucket)
				if err != nil {
					t.Error(err)
					return
				}
				for i := 0; i < 20_000; i++ {
					ts := int64(round*20_000+i) + 1
					tags := []Tag{{Key: []byte("w"), Value: []byte{byte('a' + w)}}}
					if err := b.Add([]byte("m"), tags, []FieldValue{{Key: []byte("v"), Type: Float, Float: float64(i)}}, ts); err != nil {
						t.Error(err)
						return
					}
				}
				if _, err := e.Write(b); err != nil {
					t.Error(err)
				}
				b.Release()
			}
		}(w)
	}
	wg.Wait()
	stalls, waited := testutil.ToFloat64(e.m.writeStalls), testutil.ToFloat64(e.m.stallSeconds)
	t.Logf("%v stalls, %v s waited", stalls, waited)
	if stalls == 0 || waited <= 0 {
		t.Fatalf("no stall provoked or its time not counted: %v stalls, %v s", stalls, waited)
	}
}
