package wal

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Check verifies every segment in dir offline, without changing anything, and
// returns what Replay would skip: damaged bytes (with the segment and offset),
// torn tails and missing segments. An error means dir could not be read at all.
// Records before segment from are not needed (the engine flushed them), so
// segments missing below it are not damage.
func Check(dir string, from SegmentID) ([]Damage, error) { return scanDir(dir, from, false) }

// Repair rewrites every damaged segment in dir to hold just its valid records
// (the skipped bytes go to the quarantine directory first) and returns what it
// dropped. A repaired directory checks clean except for missing segments,
// which it reports but cannot bring back. The log must not be open.
func Repair(dir string, from SegmentID) ([]Damage, error) { return scanDir(dir, from, true) }

func scanDir(dir string, from SegmentID, repair bool) ([]Damage, error) {
	ids, err := listSegments(dir)
	if err != nil {
		return nil, err
	}
	var all []Damage
	if first := max(from, 1); len(ids) > 0 && ids[0] > first {
		all = append(all, Damage{Segment: first, Cause: fmt.Sprintf("%v: segments %d to %d", ErrMissingSegment, first, ids[0]-1)})
	}
	for i, id := range ids {
		if i > 0 && id != ids[i-1]+1 {
			all = append(all, Damage{Segment: ids[i-1] + 1, Cause: fmt.Sprintf("%v: segments %d to %d", ErrMissingSegment, ids[i-1]+1, id-1)})
		}
		d, err := scanSegment(dir, id, repair)
		if err != nil {
			return all, err
		}
		all = append(all, d...)
	}
	return all, nil
}

// scanSegment walks one segment like salvage does and, when repair is set and
// something was skipped, replaces the file by its valid records.
func scanSegment(dir string, id SegmentID, repair bool) ([]Damage, error) {
	path := segmentPath(dir, id)
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("wal: stat segment %d: %w", id, err)
	}
	if fi.Size() > maxSalvage {
		return []Damage{{Segment: id, Length: fi.Size(), Cause: fmt.Sprintf("segment of %d bytes is larger than any this log writes", fi.Size())}}, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("wal: read segment %d: %w", id, err)
	}
	var damage []Damage
	var kept [][]byte
	p := segmentHeaderSize
	headerErr := checkSegmentHeader(data[:min(len(data), segmentHeaderSize)])
	if headerErr != nil {
		if errors.Is(headerErr, ErrUnsupportedVersion) {
			return nil, fmt.Errorf("wal: segment %d: %w", id, headerErr)
		}
		p = 0
	}
	for p < len(data) {
		n, err := checkFrame(data, p)
		if p >= segmentHeaderSize && err == nil {
			kept = append(kept, data[p:p+n])
			p += n
			continue
		}
		if p == 0 {
			err = headerErr
		}
		from := p + 1
		if p == 0 {
			from = segmentHeaderSize
		}
		next := nextFrame(data, from)
		end := next
		if next < 0 {
			end = len(data)
		}
		damage = append(damage, Damage{Segment: id, Offset: int64(p), Length: int64(end - p), Cause: err.Error()})
		p = end
	}
	if !repair || len(damage) == 0 {
		return damage, nil
	}
	for i, d := range damage {
		q, err := writeQuarantine(dir, id, d.Offset, data[d.Offset:d.Offset+d.Length], false)
		if err != nil {
			return damage, fmt.Errorf("wal: quarantine segment %d at %d: %w", id, d.Offset, err)
		}
		damage[i].Quarantine = q
	}
	tmp := path + ".repair"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return damage, fmt.Errorf("wal: repair segment %d: %w", id, err)
	}
	w := io.Writer(f)
	_, err = w.Write(appendSegmentHeader(nil))
	for _, r := range kept {
		if err == nil {
			_, err = w.Write(r)
		}
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		os.Remove(tmp)
		return damage, fmt.Errorf("wal: repair segment %d: %w", id, err)
	}
	return damage, nil
}
