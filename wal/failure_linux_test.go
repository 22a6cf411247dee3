package wal

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestWAL_WriteFailureRecovers swaps the active segment's descriptor for one
// that cannot be written (a full disk, a read-only file) on the real file
// system, and checks that every waiter sees the error and that the log then
// starts a fresh segment by itself.
func TestWAL_WriteFailureRecovers(t *testing.T) {
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
			if err := syscall.Dup3(int(bad.Fd()), int(w.cur.(osSegment).Fd()), syscall.O_CLOEXEC); err != nil {
				t.Fatal(err)
			}

			var wg sync.WaitGroup
			var extra [][]byte // records acknowledged after a recovery
			errs := make([]error, 8)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = w.Write([]byte("lost"))
				}()
			}
			wg.Wait()
			failed := 0
			for i, err := range errs {
				// A writer that came after the failure is refused by Append
				// with the same error; one that came after the log already
				// recovered on a fresh segment (50 ms later, on a busy machine)
				// succeeds, and its record must then replay.
				switch {
				case err == nil:
					extra = append(extra, []byte("lost"))
				case errors.Is(err, tc.errno) && errors.Is(err, ErrUnavailable):
					failed++
				default:
					t.Errorf("writer %d: %v, want %v", i, err, tc.errno)
				}
			}
			if failed == 0 {
				t.Fatal("no writer saw the failure")
			}
			// The failed segment is abandoned; the log starts a fresh one by
			// itself and takes records again.
			waitFor(t, func() bool { return w.Err() == nil })
			after := []byte("after recovery")
			if err := w.Write(after); err != nil {
				t.Fatalf("Write after recovery: %v", err)
			}
			if err := w.WaitDurable(seq0); err != nil {
				t.Errorf("WaitDurable of a record durable before the failure: %v", err)
			}
			if err := w.Close(); err != nil {
				t.Errorf("Close after a recovered failure: %v", err)
			}

			w = mustOpen(t, Options{Dir: dir})
			defer w.Close()
			got, err := replayAll(t, w, 0)
			if err != nil {
				t.Fatal(err)
			}
			equalRecords(t, payloads(got), append(append([][]byte{acked}, extra...), after))
		})
	}
}

// TestWAL_BackpressureOnStalledDisk points the active segment at a pipe that
// nobody reads, so the writer goroutine blocks in write(2) like on a stalled
// device. Appends must queue up to the limit and then wait, and resume when
// the "device" drains.
func TestWAL_BackpressureOnStalledDisk(t *testing.T) {
	const recSize = 128 << 10
	w := mustOpen(t, Options{Dir: t.TempDir(), NoSync: true})
	defer w.Close()
	w.maxQueued = 2 * recSize

	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	rd, wr := os.NewFile(uintptr(p[0]), "pipe-r"), os.NewFile(uintptr(p[1]), "pipe-w")
	defer rd.Close()
	if err := syscall.Dup3(int(wr.Fd()), int(w.cur.(osSegment).Fd()), syscall.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	wr.Close()

	rec := make([]byte, recSize)
	first, err := w.Append(rec) // taken by the writer, which blocks: a pipe holds 64 KiB
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { w.mu.Lock(); defer w.mu.Unlock(); return w.writing })
	for range 2 {
		if _, err := w.Append(rec); err != nil {
			t.Fatal(err)
		}
	}

	blocked := make(chan uint64)
	go func() {
		seq, err := w.Append(rec)
		if err != nil {
			t.Error(err)
		}
		blocked <- seq
	}()
	select {
	case <-blocked:
		t.Fatal("Append returned with the queue full behind a stalled write")
	case <-time.After(100 * time.Millisecond):
	}

	drained := make(chan error, 1)
	go func() { _, err := io.Copy(io.Discard, rd); drained <- err }()
	seq := <-blocked
	if err := w.WaitDurable(seq); err != nil {
		t.Fatal(err)
	}
	if seq != first+3 {
		t.Fatalf("blocked Append got sequence %d, want %d", seq, first+3)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-drained; err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5s")
		}
	}
}
