package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"time"

	"github.com/strata-db/strata/auth"
	"github.com/strata-db/strata/ingest/promremote"
	"github.com/strata-db/strata/storage"
	"github.com/strata-db/strata/storage/block"
)

// Prometheus remote read (POST /api/v1/prom/read?db=&rp=, InfluxDB 1.x's
// path), so a Prometheus server can query the history Strata keeps. The
// mapping is remote write's, read backwards: each measurement is a metric,
// its tags the labels, its float field PromFieldName the samples; series
// without that field are not Prometheus series and are left out.

// PromReader is what remote read needs of the storage engine.
type PromReader interface {
	Bucket(db, rp string) (storage.BucketID, error)
	Measurements(b storage.BucketID) ([]string, error)
	ReadSeries(b storage.BucketID, m string, expr *storage.TagExpr, min, max int64, fn func(*storage.SeriesData) error) error
}

// maxReadSamples bounds the samples of one remote-read answer: 5 M samples
// are about 80 MB of protobuf before compression, a week of 10 s samples of
// 80 series; a larger answer is refused (400) rather than built in memory.
const maxReadSamples = 5_000_000

var errTooManySamples = fmt.Errorf("remote read: more than %d samples; narrow the time range or the matchers", maxReadSamples)

// ServePromRead handles POST /api/v1/prom/read?db=&rp=.
func (h *Handler) ServePromRead(w http.ResponseWriter, r *http.Request) {
	principal, db, rp, ok := h.v1Request(w, r)
	if !ok {
		return
	}
	if !h.authorizeRead(w, principal, db) {
		return
	}
	if h.opts.Reader == nil {
		writeError(w, v1, http.StatusNotImplemented, "remote read is not enabled")
		return
	}
	if msg := promContentError(r.Header); msg != "" {
		writeError(w, v1, http.StatusUnsupportedMediaType, msg)
		return
	}
	bucket, err := h.opts.Reader.Bucket(db, rp)
	if err != nil {
		h.storeError(w, v1, err)
		return
	}
	var raw bytes.Buffer
	wire := &limitedReader{r: r.Body, left: h.opts.MaxBodySize}
	if _, err := raw.ReadFrom(wire); err != nil {
		status := http.StatusBadRequest
		if wire.exceeded {
			status = http.StatusRequestEntityTooLarge
		}
		writeError(w, v1, status, err.Error())
		return
	}
	msg, err := promremote.Inflate(nil, raw.Bytes(), int(h.opts.MaxDecompressedSize))
	if err != nil {
		writeError(w, v1, http.StatusBadRequest, err.Error())
		return
	}
	queries, err := promremote.DecodeReadRequest(msg)
	if err != nil {
		writeError(w, v1, http.StatusBadRequest, err.Error())
		return
	}
	results := make([][]promremote.TimeSeries, len(queries))
	samples := 0
	for i, pq := range queries {
		if results[i], err = h.readQuery(bucket, pq, &samples); err != nil {
			if errors.Is(err, errTooManySamples) || errors.Is(err, errBadMatcher) {
				writeError(w, v1, http.StatusBadRequest, err.Error())
				return
			}
			h.storeError(w, v1, err)
			return
		}
	}
	body := promremote.Compress(nil, promremote.AppendReadResponse(nil, results))
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Header().Set("Content-Encoding", "snappy")
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// authorizeRead answers 403 and returns false when p may not read db.
func (h *Handler) authorizeRead(w http.ResponseWriter, p *auth.Principal, db string) bool {
	if p == nil || h.opts.AuthorizeRead == nil || h.opts.AuthorizeRead(p, db) {
		return true
	}
	authError(w, v1, http.StatusForbidden, fmt.Sprintf("%q user is not authorized to read from database %q", p.Name(), db))
	return false
}

var errBadMatcher = errors.New("remote read: bad matcher")

// readQuery returns the series of one query, adding their samples to *samples.
func (h *Handler) readQuery(bucket storage.BucketID, q promremote.Query, samples *int) ([]promremote.TimeSeries, error) {
	var names []nameMatcher
	var expr *storage.TagExpr
	for i := range q.Matchers {
		m := &q.Matchers[i]
		if m.Name == "__name__" {
			nm := nameMatcher{m: m}
			if m.Type == promremote.MatchRegexp || m.Type == promremote.MatchNotRegexp {
				re, err := anchored(m.Value)
				if err != nil {
					return nil, err
				}
				nm.re = re
			}
			names = append(names, nm)
			continue
		}
		e, err := tagMatcher(m)
		if err != nil {
			return nil, err
		}
		if expr == nil {
			expr = e
		} else {
			expr = &storage.TagExpr{Op: storage.TagAnd, LHS: expr, RHS: e}
		}
	}
	ms, err := h.opts.Reader.Measurements(bucket)
	if err != nil {
		return nil, err
	}
	min, max := q.StartMs*int64(time.Millisecond), q.EndMs*int64(time.Millisecond)+int64(time.Millisecond)-1
	if q.EndMs > math.MaxInt64/int64(time.Millisecond)-1 {
		max = math.MaxInt64
	}
	var out []promremote.TimeSeries
	for _, m := range ms {
		if !matchName(names, m) {
			continue
		}
		err = h.opts.Reader.ReadSeries(bucket, m, expr, min, max, func(s *storage.SeriesData) error {
			col := s.Fields[h.opts.PromFieldName]
			if col == nil || col.Type != block.Float || len(col.Times) == 0 {
				return nil
			}
			if *samples += len(col.Times); *samples > maxReadSamples {
				return errTooManySamples
			}
			ts := promremote.TimeSeries{Labels: []promremote.Label{{Name: []byte("__name__"), Value: []byte(m)}}}
			for _, t := range s.Tags {
				ts.Labels = append(ts.Labels, promremote.Label{Name: bytes.Clone(t.Key), Value: bytes.Clone(t.Value)})
			}
			slices.SortFunc(ts.Labels, func(a, b promremote.Label) int { return bytes.Compare(a.Name, b.Name) })
			ts.Samples = make([]promremote.Sample, len(col.Times))
			for i, t := range col.Times {
				// Floor division: times before 1970 stay in their millisecond.
				ms := t / int64(time.Millisecond)
				if t%int64(time.Millisecond) < 0 {
					ms--
				}
				ts.Samples[i] = promremote.Sample{Value: col.Floats[i], Timestamp: ms}
			}
			out = append(out, ts)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// tagMatcher turns a label matcher into a tag predicate; both treat a missing
// label as the empty string. Prometheus regexps are anchored at both ends.
func tagMatcher(m *promremote.Matcher) (*storage.TagExpr, error) {
	switch m.Type {
	case promremote.MatchEqual:
		return &storage.TagExpr{Op: storage.TagEq, Key: m.Name, Value: m.Value}, nil
	case promremote.MatchNotEqual:
		return &storage.TagExpr{Op: storage.TagNotEq, Key: m.Name, Value: m.Value}, nil
	}
	re, err := anchored(m.Value)
	if err != nil {
		return nil, err
	}
	op := storage.TagMatch
	if m.Type == promremote.MatchNotRegexp {
		op = storage.TagNotMatch
	}
	return &storage.TagExpr{Op: op, Key: m.Name, Regex: re}, nil
}

func anchored(expr string) (*regexp.Regexp, error) {
	re, err := regexp.Compile("^(?:" + expr + ")$")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errBadMatcher, err)
	}
	return re, nil
}

// nameMatcher is a matcher of __name__, its regexp compiled once per query.
type nameMatcher struct {
	m  *promremote.Matcher
	re *regexp.Regexp
}

// matchName applies the __name__ matchers to measurement m.
func matchName(names []nameMatcher, m string) bool {
	for _, n := range names {
		switch n.m.Type {
		case promremote.MatchEqual:
			if m != n.m.Value {
				return false
			}
		case promremote.MatchNotEqual:
			if m == n.m.Value {
				return false
			}
		default:
			if n.re.MatchString(m) != (n.m.Type == promremote.MatchRegexp) {
				return false
			}
		}
	}
	return true
}
