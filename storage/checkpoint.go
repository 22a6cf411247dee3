package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// CheckpointInfo describes what Checkpoint wrote.
type CheckpointInfo struct {
	// WALBelow is the first WAL segment the checkpoint does not hold: every
	// write acknowledged before Checkpoint was called is in the checkpoint's
	// blocks or in its segments below this one.
	WALBelow uint64
	// Segments are the WAL segments copied, ascending.
	Segments []uint64
}

// Checkpoint writes a consistent copy of the engine's durable state into dir,
// which must not exist and should be on the data directory's file system
// (files are hard-linked, so the copy costs no space until the engine
// replaces them). dir then holds index/ (a Pebble checkpoint) and wal/ (the
// segments not yet flushed into blocks), laid out as a data directory: an
// engine opened on it replays the segments and answers every write that was
// acknowledged before Checkpoint was called. Writes continue meanwhile; only
// flushes wait, for the few file operations it takes.
//
// Why this is consistent: the index runs without Pebble's own WAL, and Strata's
// WAL is the redo log of everything in it that is not in an sstable. Holding
// flushMu keeps wal_start and the segments at and above it where they are;
// rotating the WAL closes the segment that holds the last acknowledged write;
// persisting the index puts the blocks and catalog entries of every earlier
// flush into sstables, which the Pebble checkpoint links. Entries that reach
// the index after the persist (series of later writes, block merges) are either
// replayed from later WAL segments, which the checkpoint leaves out along with
// their writes, or rewrite blocks the checkpoint holds in their earlier form.
func (e *Engine) Checkpoint(dir string) (CheckpointInfo, error) {
	var info CheckpointInfo
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		return info, fmt.Errorf("checkpoint: %s exists", dir)
	}
	e.flushMu.Lock()
	defer e.flushMu.Unlock()
	below, err := e.wal.Rotate()
	if err != nil {
		return info, fmt.Errorf("checkpoint: rotate wal: %w", err)
	}
	info.WALBelow = uint64(below)
	if err := e.persist(); err != nil {
		return info, fmt.Errorf("checkpoint: persist index: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return info, err
	}
	if err := e.pebble.Checkpoint(filepath.Join(dir, "index")); err != nil {
		return info, fmt.Errorf("checkpoint: index: %w", err)
	}
	walDir := filepath.Join(dir, "wal")
	if err := os.Mkdir(walDir, 0o755); err != nil {
		return info, err
	}
	for _, id := range e.wal.Segments() {
		if id >= below {
			break
		}
		// Segment file names are part of the WAL format (docs/format/wal.md).
		name := fmt.Sprintf("%020d.wal", uint64(id))
		if err := os.Link(filepath.Join(e.opts.Dir, "wal", name), filepath.Join(walDir, name)); err != nil {
			return info, fmt.Errorf("checkpoint: link wal segment: %w", err)
		}
		info.Segments = append(info.Segments, uint64(id))
	}
	return info, nil
}
