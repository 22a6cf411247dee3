package storage

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/cockroachdb/pebble"

	"github.com/strata-db/strata/storage/block"
	"github.com/strata-db/strata/wal"
)

// Problem is one thing Check found wrong in a data directory.
type Problem struct {
	File   string // the file or store it is in: a WAL segment path, "index"
	Where  string // offset in the file, or the key in the index
	Detail string
	// Dropped is what Repair did about it, "" when it did nothing (or only checked).
	Dropped string
}

func (p Problem) String() string {
	s := fmt.Sprintf("%s: %s: %s", p.File, p.Where, p.Detail)
	if p.Dropped != "" {
		s += " -> " + p.Dropped
	}
	return s
}

// Check verifies a data directory offline: every WAL segment record's CRC, that
// Pebble opens and every key and sstable block reads back (Pebble checks its own
// block checksums), the key layout of every block key, and every block's CRC and
// structure. The directory is not changed. The engine must not be running.
func Check(dir string) ([]Problem, error) { return checkDir(dir, false) }

// Repair brings a damaged data directory back to a state the server starts from:
// damaged WAL segments are rewritten to their valid records, and blocks that fail
// their checksum are deleted from the index; everything dropped is copied to a
// quarantine directory first and listed in the result. An index Pebble cannot
// open is reported, not repaired: restore it from a backup.
func Repair(dir string) ([]Problem, error) { return checkDir(dir, true) }

func checkDir(dir string, repair bool) ([]Problem, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, err
	}
	var probs []Problem
	// The index goes first: it says which WAL segment replay starts from.
	var from wal.SegmentID
	idx := filepath.Join(dir, "index")
	var db *pebble.DB
	if _, err := os.Stat(idx); err == nil {
		db, err = pebble.Open(idx, &pebble.Options{Merger: bitmapMerger, ReadOnly: !repair, DisableWAL: true, Logger: quietPebble{}})
		if err != nil {
			probs = append(probs, Problem{File: idx, Where: "open", Detail: err.Error() + " (not repairable here: restore the index from a backup)"})
			from = math.MaxUint64 // unknown: do not report the segments before it as missing
		} else if v, err := getMeta(db, metaWALStart); err != nil {
			probs = append(probs, Problem{File: idx, Where: "key wal_start", Detail: err.Error()})
			from = math.MaxUint64 // unknown: do not report the segments before it as missing
		} else if len(v) == 8 {
			from = wal.SegmentID(binary.BigEndian.Uint64(v))
		}
	}
	walDir := filepath.Join(dir, "wal")
	if _, err := os.Stat(walDir); err == nil {
		scan := wal.Check
		if repair {
			scan = wal.Repair
		}
		damage, err := scan(walDir, from)
		if err != nil {
			if db != nil {
				db.Close()
			}
			return probs, err
		}
		for _, d := range damage {
			p := Problem{
				File:   filepath.Join(walDir, fmt.Sprintf("%020d.wal", uint64(d.Segment))),
				Where:  fmt.Sprintf("offset %d (%d bytes)", d.Offset, d.Length),
				Detail: d.Cause,
			}
			if repair && d.Quarantine != "" {
				p.Dropped = "dropped, copy in " + d.Quarantine
			}
			probs = append(probs, p)
		}
	}
	if db == nil {
		return probs, nil
	}
	var err error
	probs, err = checkIndex(db, idx, repair, probs)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return probs, err
}

func checkIndex(db *pebble.DB, idx string, repair bool, probs []Problem) ([]Problem, error) {
	it, err := db.NewIter(nil)
	if err != nil {
		return probs, err
	}
	dec := block.NewDecoder()
	var col block.Column
	var bad [][]byte
	for valid := it.First(); valid; valid = it.Next() {
		k := it.Key()
		if len(k) == 0 || k[0] != kindBlock {
			continue
		}
		if _, _, err := parseBlockKey(k); err != nil || len(k) != 1+4+4+4+8+8 {
			probs = append(probs, Problem{File: idx, Where: "key " + hex.EncodeToString(k), Detail: fmt.Sprintf("malformed block key: %v", err)})
			bad = append(bad, append([]byte(nil), k...))
			continue
		}
		if err := dec.Decode(&col, it.Value()); err != nil {
			probs = append(probs, Problem{File: idx, Where: "block key " + hex.EncodeToString(k), Detail: err.Error()})
			bad = append(bad, append([]byte(nil), k...))
		}
	}
	if err := it.Error(); err != nil {
		// Pebble's own checksum of an sstable block failed: the store is damaged
		// below the keys and only a backup brings it back.
		probs = append(probs, Problem{File: idx, Where: "sstable", Detail: err.Error() + " (not repairable here: restore the index from a backup)"})
	}
	if err := it.Close(); err != nil && len(probs) == 0 {
		return probs, err
	}
	if !repair || len(bad) == 0 {
		return probs, nil
	}
	qdir := filepath.Join(filepath.Dir(idx), "quarantine")
	if err := os.MkdirAll(qdir, 0o755); err != nil {
		return probs, err
	}
	b := db.NewBatch()
	for _, k := range bad {
		v, closer, err := db.Get(k)
		if err == nil {
			path := filepath.Join(qdir, "block-"+hex.EncodeToString(k)+".bad")
			werr := os.WriteFile(path, v, 0o644)
			closer.Close()
			if werr != nil {
				return probs, werr
			}
		}
		b.Delete(k, nil)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return probs, err
	}
	if err := db.Flush(); err != nil {
		return probs, err
	}
	for i := range probs {
		if probs[i].File == idx && probs[i].Where != "sstable" && probs[i].Where != "open" {
			probs[i].Dropped = "block deleted, copy in " + qdir
		}
	}
	return probs, nil
}

// quietPebble keeps Pebble's chatter out of a check report; errors reach the
// report through the calls that fail.
type quietPebble struct{}

func (quietPebble) Infof(string, ...interface{})  {}
func (quietPebble) Errorf(string, ...interface{}) {}
func (quietPebble) Fatalf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "strata: index: "+format+"\n", args...)
	os.Exit(1)
}
