package wal

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// SegmentID numbers segment files; IDs only grow, and the file for ID n is
// named by segmentName(n).
type SegmentID uint64

// Position is where a record's frame header starts.
type Position struct {
	Segment SegmentID
	Offset  int64
}

const segmentSuffix = ".wal"

// segmentName zero-pads the ID so lexical and numeric order agree in ls.
func segmentName(id SegmentID) string {
	return fmt.Sprintf("%020d%s", uint64(id), segmentSuffix)
}

func segmentPath(dir string, id SegmentID) string {
	return filepath.Join(dir, segmentName(id))
}

// listSegments returns the IDs of the segment files in dir in ascending
// order. Files that do not look like segments are ignored so that operators
// can keep notes or backups next to the log without breaking it.
func listSegments(dir string) ([]SegmentID, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("wal: list segments: %w", err)
	}
	var ids []SegmentID
	for _, e := range ents {
		name := e.Name()
		base, ok := strings.CutSuffix(name, segmentSuffix)
		if !ok || !e.Type().IsRegular() || len(base) != 20 {
			continue
		}
		n, err := strconv.ParseUint(base, 10, 64)
		if err != nil {
			continue
		}
		ids = append(ids, SegmentID(n))
	}
	slices.Sort(ids)
	return ids, nil
}

// syncDir makes creations and removals of directory entries durable; without
// it a crash can lose a freshly created segment even though its data was
// fsynced.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("wal: open dir for sync: %w", err)
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return fmt.Errorf("wal: sync dir: %w", err)
	}
	return d.Close()
}

// segmentFile is what the writer goroutine needs of the active segment. It is
// the log's one file-system seam: production uses osSegment, and tests
// substitute a fault-injecting implementation (see fault_test.go) to exercise
// failed writes and fsyncs without a broken disk.
type segmentFile interface {
	Write(p []byte) (int, error)
	// Sync makes everything written so far durable (fdatasync).
	Sync() error
	// Truncate cuts the file back, used to drop a batch whose write or
	// fsync failed before the segment is abandoned.
	Truncate(size int64) error
	Close() error
}

// createFunc creates segment id in dir with its header written and, unless
// noSync, synced together with the directory entry.
type createFunc func(dir string, id SegmentID, noSync bool) (segmentFile, error)

// osSegment is a segment file on the real file system.
type osSegment struct{ *os.File }

func (f osSegment) Sync() error { return syncData(f.File) }

// createSegment creates segment id with its header, syncs it and the
// directory, and returns it open for appending. O_EXCL guards against ever
// reusing a file that already holds data; a file whose creation failed half
// way (a full disk) is removed so that a retry can create it again.
func createSegment(dir string, id SegmentID, noSync bool) (segmentFile, error) {
	path := segmentPath(dir, id)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("wal: create segment %d: %w", id, err)
	}
	fail := func(err error) (segmentFile, error) {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("wal: create segment %d: %w", id, err)
	}
	if _, err := f.Write(appendSegmentHeader(nil)); err != nil {
		return fail(err)
	}
	if !noSync {
		if err := syncData(f); err != nil {
			return fail(err)
		}
		if err := syncDir(dir); err != nil {
			return fail(err)
		}
	}
	return osSegment{f}, nil
}
