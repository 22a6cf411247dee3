package cq

import (
	"encoding/binary"
	"errors"
	"sort"
)

// span is a half-open range [from, to) of window starts, both on window
// boundaries of its query.
type span struct{ from, to int64 }

// spans is a sorted set of disjoint, non-adjacent spans.
type spans []span

// add returns s with x merged in.
func (s spans) add(x span) spans {
	if x.from >= x.to {
		return s
	}
	i := sort.Search(len(s), func(i int) bool { return s[i].to >= x.from })
	if i < len(s) && s[i].from <= x.from && x.to <= s[i].to {
		return s // already marked: the common case of many late points in one window
	}
	j := i
	for j < len(s) && s[j].from <= x.to {
		x.from, x.to = min(x.from, s[j].from), max(x.to, s[j].to)
		j++
	}
	out := append(s[:i:i], x)
	return append(out, s[j:]...)
}

// windows counts the windows of width interval the spans cover.
func (s spans) windows(interval int64) int64 {
	var n int64
	for _, x := range s {
		n += (x.to - x.from) / interval
	}
	return n
}

// Dirty marks and progress are checkpointed in the engine's observer state
// (namespace "cq", docs/format/keys.md "Continuous query state"):
//
//	'p' lp(db) lp(name)            -> u8 1 · u64 since · u64 watermark
//	'd' lp(db) lp(name) lp(group)  -> u8 1 · uvarint n · n × (varint from · varint to)
const stateVersion = 1

var errBadState = errors.New("cq: malformed checkpoint state")

func appendLP(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func readLP(b []byte) (string, []byte, error) {
	n, w := binary.Uvarint(b)
	if w <= 0 || uint64(len(b)-w) < n {
		return "", nil, errBadState
	}
	return string(b[w : w+int(n)]), b[w+int(n):], nil
}

func progressKey(db, name string) []byte { return appendLP(appendLP([]byte{'p'}, db), name) }

func dirtyPrefix(db, name string) []byte { return appendLP(appendLP([]byte{'d'}, db), name) }

func dirtyKey(db, name, group string) []byte { return appendLP(dirtyPrefix(db, name), group) }

func encodeProgress(since, watermark int64) []byte {
	v := []byte{stateVersion}
	v = binary.BigEndian.AppendUint64(v, uint64(since))
	return binary.BigEndian.AppendUint64(v, uint64(watermark))
}

func decodeProgress(v []byte) (since, watermark int64, err error) {
	if len(v) != 17 || v[0] != stateVersion {
		return 0, 0, errBadState
	}
	return int64(binary.BigEndian.Uint64(v[1:])), int64(binary.BigEndian.Uint64(v[9:])), nil
}

func encodeSpans(s spans) []byte {
	v := binary.AppendUvarint([]byte{stateVersion}, uint64(len(s)))
	for _, x := range s {
		v = binary.AppendVarint(v, x.from)
		v = binary.AppendVarint(v, x.to)
	}
	return v
}

func decodeSpans(v []byte) (spans, error) {
	if len(v) == 0 || v[0] != stateVersion {
		return nil, errBadState
	}
	v = v[1:]
	n, w := binary.Uvarint(v)
	if w <= 0 || n > uint64(len(v)) {
		return nil, errBadState
	}
	v = v[w:]
	var out spans
	for ; n > 0; n-- {
		from, w1 := binary.Varint(v)
		if w1 <= 0 {
			return nil, errBadState
		}
		to, w2 := binary.Varint(v[w1:])
		if w2 <= 0 || from >= to {
			return nil, errBadState
		}
		v = v[w1+w2:]
		out = out.add(span{from, to})
	}
	if len(v) != 0 {
		return nil, errBadState
	}
	return out, nil
}

// parseStateKey splits a checkpoint key into its kind, query and group.
func parseStateKey(k []byte) (kind byte, db, name, group string, err error) {
	if len(k) == 0 || (k[0] != 'p' && k[0] != 'd') {
		return 0, "", "", "", errBadState
	}
	kind, rest := k[0], k[1:]
	if db, rest, err = readLP(rest); err != nil {
		return
	}
	if name, rest, err = readLP(rest); err != nil {
		return
	}
	if kind == 'd' {
		if group, rest, err = readLP(rest); err != nil {
			return
		}
	}
	if len(rest) != 0 {
		err = errBadState
	}
	return
}
