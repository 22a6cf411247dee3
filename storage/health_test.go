package storage

import (
	"errors"
	"syscall"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestIndexBackgroundErrorsCountedAndReported: every failed Pebble flush or
// compaction (here delivered as Pebble's listener would) is counted, and the
// engine reports itself unavailable while they keep coming.
func TestIndexBackgroundErrorsCountedAndReported(t *testing.T) {
	e := openTestEngine(t, t.TempDir(), Options{})
	defer e.Close()
	if err := e.Health(); err != nil {
		t.Fatalf("healthy engine: %v", err)
	}
	for i := 0; i < 3; i++ {
		e.indexError(syscall.ENOSPC)
	}
	if n := testutil.ToFloat64(e.m.indexErrors); n != 3 {
		t.Fatalf("strata_storage_index_background_errors_total = %v, want 3", n)
	}
	if err := e.Health(); !errors.Is(err, ErrUnavailable) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("health after index errors: %v", err)
	}
}
