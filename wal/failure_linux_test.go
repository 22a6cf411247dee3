package wal

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// TestWAL_WriteFailurePoisons swaps the active segment's descriptor for one
// that cannot be written (a full disk, a read-only file) on the real file
// system, and checks that every waiter and every later call sees the error.
func TestWAL_WriteFailurePoisons(t *testing.T) {
	cases := []struct {
		name  string
		open  func(t *testing.T) *os.File
		errno syscall.Errno
	}{
		{"disk_full", func(t *testing.T) *os.File {
			f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
			if err != nil {
				t.Skipf("no /dev/full: %v", err)
			}
			return f
		}, syscall.ENOSPC},
		{"fd_not_writable", func(t *testing.T) *os.File {
			p := filepath.Join(t.TempDir(), "ro")
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}, syscall.EBADF},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			w := mustOpen(t, Options{Dir: dir})
			acked := []byte("acknowledged before the failure")
			seq0, err := w.Append(acked)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.WaitDurable(seq0); err != nil {
				t.Fatal(err)
			}

			// The writer is idle (everything is durable), so w.cur is not in
			// use while its descriptor is replaced underneath it.
			bad := tc.open(t)
			defer bad.Close()
			if err := syscall.Dup3(int(bad.Fd()), int(w.cur.Fd()), syscall.O_CLOEXEC); err != nil {
				t.Fatal(err)
			}

			var wg sync.WaitGroup
			errs := make([]error, 8)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = w.Write([]byte("lost"))
				}()
			}
			wg.Wait()
			for i, err := range errs {
				// A writer that came after the failure is refused by Append
				// with the same sticky error.
				if !errors.Is(err, tc.errno) {
					t.Errorf("writer %d: %v, want %v", i, err, tc.errno)
				}
			}
			if _, err := w.Append([]byte("later")); !errors.Is(err, tc.errno) {
				t.Errorf("Append after failure: %v, want %v", err, tc.errno)
			}
			if _, err := w.Rotate(); !errors.Is(err, tc.errno) {
				t.Errorf("Rotate after failure: %v, want %v", err, tc.errno)
			}
			if err := w.WaitDurable(seq0); err != nil {
				t.Errorf("WaitDurable of a record durable before the failure: %v", err)
			}
			if err := w.Close(); !errors.Is(err, tc.errno) {
				t.Errorf("Close: %v, want %v", err, tc.errno)
			}

			w = mustOpen(t, Options{Dir: dir})
			defer w.Close()
			got, err := replayAll(t, w, 0)
			if err != nil {
				t.Fatal(err)
			}
			equalRecords(t, payloads(got), [][]byte{acked})
		})
	}
}
