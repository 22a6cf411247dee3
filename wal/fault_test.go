package wal

import (
	"errors"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
)

// faultFS is the fault-injecting side of the segment-file seam: segments are
// real files, but writes, fsyncs, truncations and creations fail with the
// errors set here, the way a full or failing disk makes them fail.
type faultFS struct {
	mu        sync.Mutex
	writeErr  error // a write stores half its bytes, then fails
	syncErr   error
	truncErr  error
	createErr error
	syncFails int // fsyncs failed so far
}

func (fs *faultFS) set(f func(fs *faultFS)) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f(fs)
}

func (fs *faultFS) create(dir string, id SegmentID, noSync bool) (segmentFile, error) {
	fs.mu.Lock()
	err := fs.createErr
	fs.mu.Unlock()
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: segmentPath(dir, id), Err: err}
	}
	f, err := createSegment(dir, id, noSync)
	if err != nil {
		return nil, err
	}
	return &faultFile{segmentFile: f, fs: fs}, nil
}

type faultFile struct {
	segmentFile
	fs *faultFS
}

func (f *faultFile) Write(p []byte) (int, error) {
	f.fs.mu.Lock()
	err := f.fs.writeErr
	f.fs.mu.Unlock()
	if err != nil {
		n, _ := f.segmentFile.Write(p[:len(p)/2])
		return n, err
	}
	return f.segmentFile.Write(p)
}

func (f *faultFile) Sync() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.fs.syncErr != nil {
		f.fs.syncFails++
		return f.fs.syncErr
	}
	return f.segmentFile.Sync()
}

func (f *faultFile) Truncate(size int64) error {
	f.fs.mu.Lock()
	err := f.fs.truncErr
	f.fs.mu.Unlock()
	if err != nil {
		return err
	}
	return f.segmentFile.Truncate(size)
}

// TestWAL_InjectedFaults drives the log through failed writes and fsyncs:
// every record in flight fails with an error matching ErrUnavailable and the
// cause, nothing acknowledged is lost, the log refuses records while the fault
// lasts, starts a fresh segment by itself once it clears, and a reopen replays
// exactly the acknowledged records.
func TestWAL_InjectedFaults(t *testing.T) {
	cases := []struct {
		name   string
		fault  func(fs *faultFS)
		errno  syscall.Errno
		exact  bool // replay holds only acknowledged records (false: failed, never acknowledged ones may reappear)
		during bool // the fault also blocks creating a fresh segment
	}{
		{"disk_full", func(fs *faultFS) { fs.writeErr, fs.createErr = syscall.ENOSPC, syscall.ENOSPC }, syscall.ENOSPC, true, true},
		{"fsync_eio", func(fs *faultFS) { fs.syncErr = syscall.EIO }, syscall.EIO, true, false},
		{"fsync_eio_no_truncate", func(fs *faultFS) { fs.syncErr, fs.truncErr = syscall.EIO, syscall.EIO }, syscall.EIO, false, false},
		{"torn_write_no_truncate", func(fs *faultFS) {
			fs.writeErr, fs.truncErr, fs.createErr = syscall.EIO, syscall.EIO, syscall.EIO
		}, syscall.EIO, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			fs := &faultFS{}
			w := mustOpen(t, Options{Dir: dir, create: fs.create})
			acked := [][]byte{[]byte("before-1"), []byte("before-2")}
			for _, r := range acked {
				if err := w.Write(r); err != nil {
					t.Fatal(err)
				}
			}
			failedSeg := w.Segments()[len(w.Segments())-1]

			fs.set(tc.fault)
			var wg sync.WaitGroup
			errs := make([]error, 6)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = w.Write([]byte("never acknowledged"))
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if !errors.Is(err, ErrUnavailable) || !errors.Is(err, tc.errno) {
					t.Errorf("writer %d: %v, want ErrUnavailable and %v", i, err, tc.errno)
				}
			}
			if tc.during {
				// While the fault lasts the log refuses records at once.
				time.Sleep(3 * retryMin)
				start := time.Now()
				if _, err := w.Append([]byte("refused")); !errors.Is(err, ErrUnavailable) {
					t.Errorf("Append during the fault: %v, want ErrUnavailable", err)
				}
				if d := time.Since(start); d > 100*time.Millisecond {
					t.Errorf("refusing took %v", d)
				}
				if w.Err() == nil {
					t.Error("Err() is nil during the fault")
				}
			}
			fs.set(func(fs *faultFS) { fs.writeErr, fs.syncErr, fs.truncErr, fs.createErr = nil, nil, nil, nil })
			waitFor(t, func() bool { return w.Err() == nil })
			after := []byte("after recovery")
			if err := w.Write(after); err != nil {
				t.Fatalf("Write after recovery: %v", err)
			}
			if segs := w.Segments(); segs[len(segs)-1] <= failedSeg {
				t.Errorf("record after recovery went to segment %d, the failed one is %d", segs[len(segs)-1], failedSeg)
			}
			if err := w.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}

			w = mustOpen(t, Options{Dir: dir})
			defer w.Close()
			got, err := replayAll(t, w, 0)
			if err != nil {
				t.Fatal(err)
			}
			want := append(acked, after)
			if tc.exact {
				equalRecords(t, payloads(got), want)
				return
			}
			// Records whose fsync failed may still be on disk; they were never
			// acknowledged, so they may replay, but everything acknowledged must.
			var kept [][]byte
			for _, r := range payloads(got) {
				if string(r) != "never acknowledged" {
					kept = append(kept, r)
				}
			}
			equalRecords(t, kept, want)
		})
	}
}

// TestWAL_CloseWhileUnavailable: a graceful stop with the disk still full
// returns promptly and cleanly; the acknowledged records replay.
func TestWAL_CloseWhileUnavailable(t *testing.T) {
	dir := t.TempDir()
	fs := &faultFS{}
	w := mustOpen(t, Options{Dir: dir, create: fs.create})
	if err := w.Write([]byte("acked")); err != nil {
		t.Fatal(err)
	}
	fs.set(func(fs *faultFS) { fs.writeErr, fs.createErr = syscall.ENOSPC, syscall.ENOSPC })
	if err := w.Write([]byte("lost")); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Write on a full disk: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- w.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs while the disk is full")
	}
	w = mustOpen(t, Options{Dir: dir})
	defer w.Close()
	got, err := replayAll(t, w, 0)
	if err != nil {
		t.Fatal(err)
	}
	equalRecords(t, payloads(got), [][]byte{[]byte("acked")})
}

// TestWAL_WaitDurableTimeout: a write stuck behind a disk that does not answer
// fails after the bound with a retryable error instead of hanging.
func TestWAL_WaitDurableTimeout(t *testing.T) {
	dir := t.TempDir()
	fs := &faultFS{}
	w := mustOpen(t, Options{Dir: dir, create: fs.create})
	defer w.Close()
	fs.mu.Lock() // every Sync now blocks, like a hung device
	seq, err := w.Append([]byte("stuck"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = w.WaitDurableTimeout(seq, 100*time.Millisecond)
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, ErrTimeout) {
		t.Errorf("WaitDurableTimeout: %v, want ErrUnavailable and ErrTimeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("timeout of 100ms took %v", d)
	}
	fs.mu.Unlock()
	if err := w.WaitDurable(seq); err != nil {
		t.Fatal(err)
	}
}

// TestWAL_FailedRecordStaysFailed: once later records are durable, asking
// about a record whose fsync failed must still answer with its error, never
// call it durable.
func TestWAL_FailedRecordStaysFailed(t *testing.T) {
	fs := &faultFS{}
	w := mustOpen(t, Options{Dir: t.TempDir(), create: fs.create})
	defer w.Close()
	fs.set(func(fs *faultFS) { fs.syncErr = syscall.EIO })
	seq, err := w.Append([]byte("fails"))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WaitDurable(seq); !errors.Is(err, syscall.EIO) {
		t.Fatalf("WaitDurable of the failed record: %v", err)
	}
	fs.set(func(fs *faultFS) { fs.syncErr = nil })
	waitFor(t, func() bool { return w.Err() == nil })
	if err := w.Write([]byte("later")); err != nil {
		t.Fatal(err)
	}
	if err := w.WaitDurable(seq); !errors.Is(err, syscall.EIO) {
		t.Fatalf("WaitDurable of the failed record after later ones are durable: %v", err)
	}
}
