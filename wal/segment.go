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

// createSegment creates segment id with its header, syncs it and the
// directory, and returns it open for appending. O_EXCL guards against ever
// reusing a file that already holds data.
func createSegment(dir string, id SegmentID, noSync bool) (*os.File, error) {
	path := segmentPath(dir, id)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("wal: create segment %d: %w", id, err)
	}
	fail := func(err error) (*os.File, error) {
		f.Close()
		return nil, fmt.Errorf("wal: create segment %d: %w", id, err)
	}
	if _, err := f.Write(appendSegmentHeader(nil)); err != nil {
		return fail(err)
	}
	if !noSync {
		if err := f.Sync(); err != nil {
			return fail(err)
		}
		if err := syncDir(dir); err != nil {
			return fail(err)
		}
	}
	return f, nil
}
