// Operator: series selection. It pulls a source's series (source.go), keeps
// those matching the tag predicate (on the index for stored measurements, by
// matchTags for subquery series) and groups them into output series by
// measurement and GROUP BY tags, in output order. SLIMIT/SOFFSET (limit.go) then
// choose among the groups, which the scan operators (scan.go, fieldstream.go)
// read.
package query

import (
	"sort"
	"strings"
	"sync"

	"github.com/strata-db/strata/storage"
)

// filterSeries expands stored measurements into their series matching the tag
// predicate (on the index) and filters subquery series by it.
func (r *selectRun) filterSeries(src *source) ([]*seriesRef, error) {
	var out []*seriesRef
	for _, s := range src.series {
		if s.mem != nil {
			if matchTags(r.plan.tagCond, s.tags) {
				out = append(out, s)
			}
			continue
		}
		ids, err := r.e.store.SeriesIDs(s.bucket, s.measurement, r.plan.tagCond)
		if err != nil {
			return nil, err
		}
		if n := len(out) + int(ids.GetCardinality()); n > r.e.limits.MaxSeries {
			return nil, errorf("max-select-series limit exceeded: (%d/%d)", n, r.e.limits.MaxSeries)
		}
		it := ids.Iterator()
		cc := r.e.canceller(r.ctx)
		for it.HasNext() {
			if err := cc.tick(); err != nil {
				return nil, err
			}
			sid := storage.SeriesID(it.Next())
			meta, ok := r.e.seriesMetaOf(sid)
			if !ok {
				continue
			}
			out = append(out, &seriesRef{bucket: s.bucket, id: sid, measurement: meta.measurement, tags: meta.tags, key: meta.key})
		}
	}
	return out, nil
}

// seriesMeta is what a stored series' key says, as the executor uses it:
// immutable once made, shared by every query's seriesRef of the series (its
// tags map is read, never written).
type seriesMeta struct {
	measurement string
	tags        map[string]string
	key         string
}

// seriesMetas caches seriesMeta by series ID (IDs are never reused, so an
// ID's key never changes; the index, not this cache, says which series
// are live). Parsing the key, building the tags map and the sort key for
// every series of every query was a third of the bytes a TSBS 8-host query
// allocated.
type seriesMetas struct {
	mu    sync.RWMutex
	m     map[storage.SeriesID]*seriesMeta
	bytes int
}

// maxSeriesMetaBytes bounds the cache (estimated: keys twice, as strings
// and map entries, plus the map's overhead): 8 MiB holds ~10,000 TSBS
// series; past it the cache starts over rather than tracking use.
const maxSeriesMetaBytes = 8 << 20

// seriesMetaOf returns series sid's measurement, tags and sort key.
func (e *Executor) seriesMetaOf(sid storage.SeriesID) (*seriesMeta, bool) {
	c := &e.metas
	c.mu.RLock()
	meta, ok := c.m[sid]
	c.mu.RUnlock()
	if ok {
		return meta, true
	}
	m, tags, ok := e.store.Series(sid)
	if !ok {
		return nil, false
	}
	meta = &seriesMeta{measurement: string(m), tags: make(map[string]string, len(tags))}
	size := 64 + len(m)
	for _, t := range tags {
		meta.tags[string(t.Key)] = string(t.Value)
		size += 2*(len(t.Key)+len(t.Value)) + 48
	}
	meta.key = storedSeriesKey(m, tags)
	c.mu.Lock()
	if c.m == nil || c.bytes+size > maxSeriesMetaBytes {
		c.m, c.bytes = map[storage.SeriesID]*seriesMeta{}, 0
	}
	c.m[sid] = meta
	c.bytes += size
	c.mu.Unlock()
	return meta, true
}

// matchTags evaluates a tag predicate on a tag set (for in-memory series).
func matchTags(x *storage.TagExpr, tags map[string]string) bool {
	if x == nil {
		return true
	}
	switch x.Op {
	case storage.TagAnd:
		return matchTags(x.LHS, tags) && matchTags(x.RHS, tags)
	case storage.TagOr:
		return matchTags(x.LHS, tags) || matchTags(x.RHS, tags)
	case storage.TagEq:
		return tags[x.Key] == x.Value
	case storage.TagNotEq:
		return tags[x.Key] != x.Value
	case storage.TagMatch:
		return x.Regex.MatchString(tags[x.Key])
	case storage.TagNotMatch:
		return !x.Regex.MatchString(tags[x.Key])
	}
	return false
}

func seriesKey(m string, tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(m)
	for _, k := range keys {
		b.WriteByte(0)
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(tags[k])
	}
	return b.String()
}

// appendGroupKey appends seriesKey of m and the tags of keys (sorted) to b,
// taking their values from tags ("" for a key tags lacks).
func appendGroupKey(b []byte, m string, keys []string, tags map[string]string) []byte {
	b = append(b, m...)
	for _, k := range keys {
		b = append(b, 0)
		b = append(b, k...)
		b = append(b, 0)
		b = append(b, tags[k]...)
	}
	return b
}

// storedSeriesKey is seriesKey of a stored series, from its measurement and
// tags as the catalog holds them: sorted by key bytes, keys unique
// (docs/format/keys.md, "Series key"), so no map and no sort; building the
// key through them was a third of a dashboard query's series resolution.
func storedSeriesKey(m []byte, tags []storage.Tag) string {
	n := len(m)
	for _, t := range tags {
		n += 2 + len(t.Key) + len(t.Value)
	}
	var b strings.Builder
	b.Grow(n)
	b.Write(m)
	for _, t := range tags {
		b.WriteByte(0)
		b.Write(t.Key)
		b.WriteByte(0)
		b.Write(t.Value)
	}
	return b.String()
}

// groupSeries splits series into output series: by measurement and the values of
// the GROUP BY tags.
func (r *selectRun) groupSeries(refs []*seriesRef) []*group {
	sort.Slice(refs, func(i, j int) bool { return refs[i].key < refs[j].key })
	// The set of GROUP BY keys is the same for every series of a statement: with
	// GROUP BY * or a regex, the union of the matching tag keys; else the keys
	// named, without reading every series' tags (TSBS's cpu has ten per
	// series; with a key built once per series, BenchmarkGroupSeries went
	// from 72 to 40 µs).
	var all []string
	if r.plan.groupAll || len(r.plan.groupRegex) > 0 {
		seen := map[string]bool{}
		for _, s := range refs {
			for k := range s.tags {
				if !seen[k] {
					seen[k] = true
					all = append(all, k)
				}
			}
		}
		sort.Strings(all)
	}
	keys := r.plan.groupTagKeys(all) // sorted
	byKey := map[string]*group{}
	var out []*group
	var kb []byte
	for _, s := range refs {
		// seriesKey of the group's tags, without making them for a group
		// already made (a missing tag key's value is "" either way).
		kb = appendGroupKey(kb[:0], s.measurement, keys, s.tags)
		if g := byKey[string(kb)]; g != nil {
			g.series = append(g.series, s)
			continue
		}
		var tags map[string]string
		if len(keys) > 0 {
			tags = make(map[string]string, len(keys))
			for _, k := range keys {
				tags[k] = s.tags[k]
			}
		}
		g := &group{measurement: s.measurement, tags: tags, key: string(kb), series: []*seriesRef{s}}
		byKey[g.key] = g
		out = append(out, g)
	}
	// Series come in key order; under ORDER BY time DESC, InfluxDB 1.x emits them
	// in reverse key order too.
	sort.Slice(out, func(i, j int) bool {
		if r.plan.ascending {
			return out[i].key < out[j].key
		}
		return out[i].key > out[j].key
	})
	return out
}

func allMem(g *group) bool {
	for _, s := range g.series {
		if s.mem == nil {
			return false
		}
	}
	return true
}
