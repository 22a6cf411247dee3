package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// DiskUsage is the size of a directory tree.
type DiskUsage struct {
	// Allocated is what du reports: blocks held, so sparse or preallocated files
	// count what they really take.
	Allocated int64 `json:"allocated_bytes"`
	// Apparent is the sum of file sizes.
	Apparent int64 `json:"apparent_bytes"`
	// ByEntry is the allocated size of each top-level entry (wal, blocks, index…).
	ByEntry map[string]int64 `json:"by_entry"`
}

// MeasureDisk walks dir like du -s.
func MeasureDisk(dir string) (DiskUsage, error) {
	u := DiskUsage{ByEntry: map[string]int64{}}
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		alloc := info.Size()
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			alloc = st.Blocks * 512 // st_blocks is in 512-byte units whatever the fs block size
		}
		if e.IsDir() {
			return nil // directories' own blocks are not data
		}
		u.Allocated += alloc
		u.Apparent += info.Size()
		if rel, err := filepath.Rel(dir, path); err == nil {
			top := rel
			if i := strings.IndexByte(rel, filepath.Separator); i >= 0 {
				top = rel[:i]
			}
			u.ByEntry[top] += alloc
		}
		return nil
	})
	if err != nil {
		return DiskUsage{}, fmt.Errorf("measure %s: %w", dir, err)
	}
	return u, nil
}

// ErrNoProcStatus marks a platform or process without /proc/<pid>/status.
var ErrNoProcStatus = errors.New("no /proc status")

// ProcMemory reads VmHWM (peak resident set) and VmRSS of a process in bytes;
// pid 0 is this process.
func ProcMemory(pid int) (hwm, rss int64, err error) {
	path := "/proc/self/status"
	if pid > 0 {
		path = "/proc/" + strconv.Itoa(pid) + "/status"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %w", ErrNoProcStatus, err)
	}
	return parseStatus(b)
}

// parseStatus extracts VmHWM and VmRSS ("VmHWM:\t  123 kB") from a status file.
func parseStatus(b []byte) (hwm, rss int64, err error) {
	var seen int
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok {
			continue
		}
		var dst *int64
		switch string(key) {
		case "VmHWM":
			dst = &hwm
		case "VmRSS":
			dst = &rss
		default:
			continue
		}
		f := bytes.Fields(val)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, 0, fmt.Errorf("%w: bad %s line %q", ErrNoProcStatus, key, sc.Bytes())
		}
		n, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil || n < 0 || n > math.MaxInt64>>10 {
			return 0, 0, fmt.Errorf("%w: bad %s line %q", ErrNoProcStatus, key, sc.Bytes())
		}
		*dst = n << 10
		seen++
	}
	if seen != 2 {
		return 0, 0, fmt.Errorf("%w: VmHWM or VmRSS missing", ErrNoProcStatus)
	}
	return hwm, rss, nil
}
