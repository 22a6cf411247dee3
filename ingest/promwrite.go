package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/snappy"
	"github.com/strata-db/strata/ingest/deadletter"
	"github.com/strata-db/strata/ingest/promremote"
	"github.com/strata-db/strata/storage"
)

// Prometheus remote write, where InfluxDB 1.x serves it (/api/v1/prom/write,
// also answered at /api/v1/write, the path Prometheus' own receiver uses). A
// series becomes points the way 1.x maps them (docs/format/promremote.md):
// measurement = the __name__ label, one field (PromFieldName, default
// "value") holding the sample's exact float bits, tags = the other labels,
// time = the sample's milliseconds. The answers follow the remote-write spec:
// 204 when every sample is stored; 400 for a request that will never succeed
// (so senders do not retry it); 413 when over the body budgets; 415 for a
// Content-Type or Content-Encoding this server does not speak; 429/503 with
// Retry-After when storage pushes back (so senders do retry).

// promState is the scratch space of one remote-write request, pooled.
type promState struct {
	raw     bodyBuffer // the snappy body, reserved from the in-flight budget
	msgBuf  bodyBuffer // the reservation of the inflated message
	msg     []byte
	ts      promremote.TimeSeries
	tags    []storage.Tag
	fields  [1]storage.FieldValue
	reject  []string // reasons quoted in the answer, capped at maxReportedLineErrors
	letters []deadletter.Letter
}

// promSource is the dead letters' source of remote write, whichever path it came by.
const promSource = "http:/api/v1/prom/write"

// ServeProm handles POST /api/v1/prom/write?db=&rp= (and /api/v1/write).
func (h *Handler) ServeProm(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	principal, db, rp, ok := h.v1Request(w, r)
	if !ok {
		return
	}
	defer func() { h.m.duration.Observe(time.Since(start).Seconds()) }()
	if !authorizeWrite(w, v1, principal, db) {
		return
	}
	if msg := promContentError(r.Header); msg != "" {
		writeError(w, v1, http.StatusUnsupportedMediaType, msg)
		return
	}
	bucket, err := h.store.Bucket(db, rp)
	if err != nil {
		h.storeError(w, v1, err)
		return
	}
	if r.ContentLength > h.opts.MaxBodySize {
		w.Header().Set("Connection", "close")
		writeError(w, v1, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	st, _ := h.proms.Get().(*promState)
	if st == nil {
		st = &promState{}
	}
	defer h.releaseProm(st)
	wire := &limitedReader{r: r.Body, left: h.opts.MaxBodySize}
	exceeded, err := st.raw.readFrom(wire, h.opts.MaxBodySize, h.opts.Inflight)
	if status, err := bodyStatus(wire.exceeded || exceeded, err); status != 0 {
		h.refuseBody(w, v1, status, err)
		return
	}
	// The inflated message is reserved before it is allocated.
	if n, err := snappy.DecodedLen(st.raw.buf); err == nil && int64(n) <= h.opts.MaxDecompressedSize {
		if err := st.msgBuf.reserve(int64(n), h.opts.Inflight); err != nil {
			status, err := bodyStatus(false, err)
			h.refuseBody(w, v1, status, err)
			return
		}
		st.msg = st.msgBuf.buf
	}
	st.msg, err = promremote.Inflate(st.msg, st.raw.buf, int(h.opts.MaxDecompressedSize))
	if errors.Is(err, promremote.ErrTooLarge) {
		writeError(w, v1, http.StatusRequestEntityTooLarge, err.Error())
		return
	} else if err != nil {
		h.keepLetters([]deadletter.Letter{Letter(promSource, db, rp, st.raw.buf, err, time.Now())})
		writeError(w, v1, http.StatusBadRequest, err.Error())
		return
	}
	h.m.bytes.Add(float64(len(st.msg)))
	batch, err := h.store.NewBatch(bucket)
	if err != nil {
		h.storeError(w, v1, err)
		return
	}
	defer batch.Release()
	dropped := 0
	err = promremote.Decode(st.msg, &st.ts, func(ts *promremote.TimeSeries) error {
		dropped += h.addPromSeries(st, batch, db, rp, ts)
		return nil
	})
	if err != nil {
		h.keepLetters([]deadletter.Letter{Letter(promSource, db, rp, st.raw.buf, err, time.Now())})
		writeError(w, v1, http.StatusBadRequest, err.Error())
		return
	}
	res, err := h.store.Write(batch)
	if err != nil {
		h.storeError(w, v1, err)
		return
	}
	h.keepLetters(st.letters)
	h.m.points.Add(float64(res.Written))
	for _, e := range res.Errors {
		st.note(e.Error())
	}
	dropped += res.Rejected
	h.m.dropped.Add(float64(dropped))
	if dropped > 0 {
		writeError(w, v1, http.StatusBadRequest, fmt.Sprintf("partial write: %s dropped=%d", strings.Join(st.reject, "\n"), dropped))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// promContentError returns why a request's body is not remote-write 1.0, or "".
// An empty Content-Type or Content-Encoding is taken as 1.0, as InfluxDB 1.x
// does for senders older than the spec.
func promContentError(h http.Header) string {
	if ct := h.Get("Content-Type"); ct != "" {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/x-protobuf" {
			return fmt.Sprintf("unsupported Content-Type %q: remote write sends application/x-protobuf", ct)
		}
		if p := params["proto"]; p != "" && p != "prometheus.WriteRequest" {
			return fmt.Sprintf("unsupported remote-write message %q: this server takes prometheus.WriteRequest (remote write 1.0)", p)
		}
	}
	if ce := h.Get("Content-Encoding"); ce != "" && ce != "snappy" {
		return fmt.Sprintf("unsupported Content-Encoding %q: remote write sends snappy", ce)
	}
	return ""
}

// addPromSeries adds the samples of ts to batch and returns how many it refused.
func (h *Handler) addPromSeries(st *promState, batch *storage.Batch, db, rp string, ts *promremote.TimeSeries) int {
	var name []byte
	st.tags = st.tags[:0]
	for _, l := range ts.Labels {
		switch {
		case string(l.Name) == "__name__":
			name = l.Value
		case len(l.Value) == 0:
			// Prometheus: a label with an empty value is a label that is not there.
		default:
			st.tags = append(st.tags, storage.Tag{Key: l.Name, Value: l.Value})
		}
	}
	reason := ""
	slices.SortFunc(st.tags, func(a, b storage.Tag) int { return bytes.Compare(a.Key, b.Key) })
	for i := 1; i < len(st.tags); i++ {
		if bytes.Equal(st.tags[i].Key, st.tags[i-1].Key) {
			reason = fmt.Sprintf("duplicate label %q", st.tags[i].Key)
		}
	}
	switch {
	case len(name) == 0:
		reason = "series without a metric name (__name__ label)"
	case ts.Histograms > 0:
		reason = fmt.Sprintf("native histograms are not supported (%d dropped)", ts.Histograms)
	}
	if reason != "" {
		n := len(ts.Samples) + ts.Histograms
		st.note(fmt.Sprintf("%s: %s", promSeriesText(ts), reason))
		st.letters = appendLetter(st.letters, promSource, db, rp, []byte(promSeriesText(ts)), errors.New(reason))
		return n
	}
	dropped := 0
	f := &st.fields[0]
	f.Key, f.Type = []byte(h.opts.PromFieldName), storage.Float
	for _, s := range ts.Samples {
		f.Float = s.Value
		if err := batch.Add(name, st.tags, st.fields[:], s.Timestamp*int64(time.Millisecond)); err != nil {
			dropped++
			st.note(err.Error())
			st.letters = appendLetter(st.letters, promSource, db, rp, fmt.Appendf(nil, "%s %v %d", promSeriesText(ts), s.Value, s.Timestamp), err)
		}
	}
	return dropped
}

// promSeriesText renders a series' labels as Prometheus prints them.
func promSeriesText(ts *promremote.TimeSeries) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, l := range ts.Labels {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", l.Name, l.Value)
	}
	b.WriteByte('}')
	return b.String()
}

func (st *promState) note(reason string) {
	if len(st.reject) < maxReportedLineErrors {
		st.reject = append(st.reject, reason)
	}
}

func (h *Handler) releaseProm(st *promState) {
	st.raw.release(h.opts.Inflight)
	st.msgBuf.release(h.opts.Inflight)
	if cap(st.msg) > maxPooledBody {
		st.msg = nil // do not pin what the budget no longer counts
	}
	st.reject, st.letters = st.reject[:0], st.letters[:0]
	h.proms.Put(st)
}
