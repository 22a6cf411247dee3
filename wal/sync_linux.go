package wal

import (
	"errors"
	"os"
	"syscall"
)

// syncData uses fdatasync: it still flushes the file size an append changed,
// which is all replay needs, but skips the timestamp-only inode update.
// Measured on the development VM's shared, noisy ext4 disk (200 appends each
// synced, six rounds): 4 KiB appends took 0.2–1.5 ms per sync with fdatasync
// and 0.2–15 ms with fsync; at 512 KiB the two were within noise.
func syncData(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		for {
			serr = syscall.Fdatasync(int(fd))
			if !errors.Is(serr, syscall.EINTR) {
				return
			}
		}
	}); err != nil {
		return err
	}
	if serr != nil {
		return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: serr}
	}
	return nil
}
