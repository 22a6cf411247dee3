package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-db/strata/auth"
	"github.com/strata-db/strata/ingest/deadletter"
	"github.com/strata-db/strata/ingest/lineprotocol"
	"github.com/strata-db/strata/storage"
)

// Store is what the write handlers need from the storage engine.
type Store interface {
	Bucket(db, rp string) (storage.BucketID, error)
	NewBatch(b storage.BucketID) (*storage.Batch, error)
	Write(b *storage.Batch) (storage.WriteResult, error)
}

// Options configure the write handlers.
type Options struct {
	// MaxBodySize limits the request body as sent (compressed or not), like
	// InfluxDB's max-body-size. Default 25,000,000 bytes, InfluxDB's default.
	MaxBodySize int64
	// MaxDecompressedSize limits a compressed body once inflated. Default 8 × MaxBodySize:
	// line protocol compresses about 8:1 with gzip, and an unbounded inflate would
	// let one small request exhaust memory.
	MaxDecompressedSize int64
	Logger              *slog.Logger
	Registerer          prometheus.Registerer
	// Auth authenticates writers and checks their WRITE privilege (nil, or
	// disabled: every write is allowed).
	Auth *auth.Service
	// DeadLetters keeps refused lines and samples (nil: they are only counted).
	DeadLetters DeadLetters
	// PromFieldName is the field remote-write samples are stored in. Default
	// "value", InfluxDB 1.x's.
	PromFieldName string
	// Reader serves remote read (nil: 501).
	Reader PromReader
	// AuthorizeRead tells whether a principal may read a database (remote
	// read); nil allows every authenticated user. The server passes the
	// query engine's privilege check, which this package does not import.
	AuthorizeRead func(p *auth.Principal, db string) bool
	// Inflight caps the bytes of all request bodies being read and parsed at
	// once (nil: a budget of DefaultMaxInflightWriteBytes). Handlers that share
	// one budget share its limit. Over it a write is answered 429 with
	// Retry-After.
	Inflight *ByteBudget
	// MaxFieldsPerLine rejects a line with more fields (400, the rest of the
	// batch is kept). Default DefaultMaxFieldsPerLine; < 0: no limit.
	MaxFieldsPerLine int
}

// DefaultMaxFieldsPerLine is the default limit on fields per line. Real
// schemas stay far below it (TSBS cpu has 10, Telegraf's widest inputs a few
// hundred), and the cost of a line's new fields in the catalog grows with
// their number squared: at 1,000 it is about a millisecond, while one line of
// 100,000 new fields took 51 s and 667 MB before the limit.
const DefaultMaxFieldsPerLine = 1000

// DefaultMaxInflightWriteBytes is the default in-flight body budget. 256 MiB
// holds ten bodies of the default 25 MB --max-body-size at once, or one gzip
// body inflated to its 200 MB limit, or thousands of typical 100 KB batches;
// parsing adds about as much again in the batch, so a write burst stays near
// half a GiB instead of growing with the number of connections.
const DefaultMaxInflightWriteBytes = 256 << 20

// maxKeyLength is InfluxDB's limit on a series key (measurement and tags, escaped).
const maxKeyLength = 65535

// maxReportedLineErrors bounds the parse errors quoted in one response; the dropped
// count stays exact.
const maxReportedLineErrors = 100

// Handler serves /write (InfluxDB 1.x) and /api/v2/write (2.x).
type Handler struct {
	store  Store
	opts   Options
	log    *slog.Logger
	m      *writeMetrics
	states chan *requestState // free request states, see newState
	proms  sync.Pool          // *promState
	zstds  sync.Pool          // *zstd.Decoder, see encoding.go
	gzips  sync.Pool          // *gzipInflater, see encoding.go
}

// requestState is the per-request scratch space, pooled so a write allocates
// nothing per point in the steady state.
type requestState struct {
	lines   *LineWriter
	body    bodyBuffer
	letters []deadletter.Letter
}

// NewHandler returns write handlers storing into store.
func NewHandler(store Store, opts Options) *Handler {
	if opts.MaxBodySize <= 0 {
		opts.MaxBodySize = 25_000_000
	}
	if opts.MaxDecompressedSize <= 0 {
		opts.MaxDecompressedSize = 8 * opts.MaxBodySize
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.PromFieldName == "" {
		opts.PromFieldName = "value"
	}
	if opts.MaxFieldsPerLine == 0 {
		opts.MaxFieldsPerLine = DefaultMaxFieldsPerLine
	}
	if opts.Inflight == nil {
		opts.Inflight = NewByteBudget(DefaultMaxInflightWriteBytes)
	}
	h := &Handler{store: store, opts: opts, log: opts.Logger, m: newWriteMetrics(opts.Registerer, opts.Inflight)}
	h.states = make(chan *requestState, freeRequestStates)
	return h
}

// apiVersion selects the wording of errors: 1.x answers {"error": "..."}, 2.x
// answers {"code": "...", "message": "..."}.
type apiVersion int

const (
	v1 apiVersion = 1
	v2 apiVersion = 2
)

// ServeV1 handles POST /write?db=&rp=&precision=&consistency=.
func (h *Handler) ServeV1(w http.ResponseWriter, r *http.Request) {
	principal, db, rp, ok := h.v1Request(w, r)
	if !ok {
		return
	}
	if !authorizeWrite(w, v1, principal, db) {
		return
	}
	q := r.URL.Query()
	switch q.Get("consistency") {
	case "", "any", "one", "quorum", "all":
	default:
		writeError(w, v1, http.StatusBadRequest, "invalid consistency level")
		return
	}
	h.serve(w, r, v1, db, rp, precisionV1(q.Get("precision")))
}

// ServeV2 handles POST /api/v2/write?bucket=db[/rp]&org=&precision=.
func (h *Handler) ServeV2(w http.ResponseWriter, r *http.Request) {
	if !h.checkMethod(w, r) {
		return
	}
	principal, ok := h.authenticate(w, r, v2)
	if !ok {
		return
	}
	q := r.URL.Query()
	bucket := q.Get("bucket")
	if bucket == "" {
		writeError(w, v2, http.StatusBadRequest, "bucket is required")
		return
	}
	db, rp, _ := strings.Cut(bucket, "/")
	if !authorizeWrite(w, v2, principal, db) {
		return
	}
	prec, ok := precisionV2(q.Get("precision"))
	if !ok {
		writeError(w, v2, http.StatusBadRequest, fmt.Sprintf("invalid precision %q: use ns, us, ms or s", q.Get("precision")))
		return
	}
	h.serve(w, r, v2, db, rp, prec)
}

// v1Request starts a request of the 1.x API family (/write, remote write and
// read): POST, credentials, ?db= required and ?rp=. ok is false once it has
// answered.
func (h *Handler) v1Request(w http.ResponseWriter, r *http.Request) (principal *auth.Principal, db, rp string, ok bool) {
	if !h.checkMethod(w, r) {
		return nil, "", "", false
	}
	if principal, ok = h.authenticate(w, r, v1); !ok {
		return nil, "", "", false
	}
	q := r.URL.Query()
	if db, rp = q.Get("db"), q.Get("rp"); db == "" {
		writeError(w, v1, http.StatusBadRequest, "database is required")
		return nil, "", "", false
	}
	return principal, db, rp, true
}

func (h *Handler) checkMethod(w http.ResponseWriter, r *http.Request) bool {
	switch r.Method {
	case http.MethodPost:
		return true
	case http.MethodOptions:
		w.WriteHeader(http.StatusOK)
	default:
		w.Header().Set("Allow", "OPTIONS, POST")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusMethodNotAllowed)
		io.WriteString(w, "Method Not Allowed\n")
	}
	return false
}

// precisionV1 maps InfluxDB 1.x's precision parameter; like 1.x, anything it does
// not know (including "ns" and "us") means nanoseconds.
func precisionV1(p string) lineprotocol.Precision {
	switch p {
	case "u":
		return lineprotocol.Microsecond
	case "ms":
		return lineprotocol.Millisecond
	case "s":
		return lineprotocol.Second
	case "m":
		return lineprotocol.Minute
	case "h":
		return lineprotocol.Hour
	}
	return lineprotocol.Nanosecond
}

func precisionV2(p string) (lineprotocol.Precision, bool) {
	switch p {
	case "", "ns":
		return lineprotocol.Nanosecond, true
	case "us":
		return lineprotocol.Microsecond, true
	case "ms":
		return lineprotocol.Millisecond, true
	case "s":
		return lineprotocol.Second, true
	}
	return 0, false
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, api apiVersion, db, rp string, prec lineprotocol.Precision) {
	start := time.Now()
	h.write(w, r, api, db, rp, prec)
	h.m.duration.Observe(time.Since(start).Seconds())
}

// write does the work of one request and returns the status it answered.
func (h *Handler) write(w http.ResponseWriter, r *http.Request, api apiVersion, db, rp string, prec lineprotocol.Precision) int {
	bucket, err := h.store.Bucket(db, rp)
	if err != nil {
		return h.storeError(w, api, err)
	}
	if r.ContentLength > h.opts.MaxBodySize {
		// Refuse before reading, as InfluxDB does, and close the connection: the
		// client may still be sending a body we will not read.
		w.Header().Set("Connection", "close")
		return writeError(w, api, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
	}
	st := h.newState()
	// The body's reservation is held until the answer, through the store's
	// write and fsync wait: it stands for the batch parsed from it, which
	// costs about as much and is not counted otherwise.
	defer h.release(st)

	now := time.Now().UnixNano()
	if status, err := h.readBody(st, r); err != nil {
		return h.refuseBody(w, api, status, err)
	}
	h.m.admitted.Inc()
	body := st.body.buf
	h.m.bytes.Add(float64(len(body)))

	batch, err := h.store.NewBatch(bucket)
	if err != nil {
		return h.storeError(w, api, err)
	}
	defer batch.Release() // after the response is written: it quotes the batch's errors
	var lineErrs []string
	source := "http:" + r.URL.Path
	parsed, parseFailed := st.lines.AddLines(batch, body, prec, now, func(line []byte, err error, unparsed bool) {
		if unparsed && len(lineErrs) < maxReportedLineErrors {
			lineErrs = append(lineErrs, lineErrorText(err))
		}
		st.letters = appendLetter(st.letters, source, db, rp, line, err)
	})

	res, err := h.store.Write(batch)
	if err != nil {
		return h.storeError(w, api, err) // the client retries: no letters yet
	}
	h.keepLetters(st.letters)
	h.m.points.Add(float64(res.Written))
	dropped := parseFailed + res.Rejected
	h.m.dropped.Add(float64(dropped))
	switch {
	case parseFailed > 0 && parsed == 0:
		return writeError(w, api, http.StatusBadRequest, strings.Join(lineErrs, "\n"))
	case parseFailed > 0:
		return writeError(w, api, http.StatusBadRequest,
			fmt.Sprintf("partial write: %s dropped=%d", strings.Join(lineErrs, "\n"), dropped))
	case res.Rejected > 0:
		return writeError(w, api, http.StatusBadRequest,
			fmt.Sprintf("partial write: %s dropped=%d", storeErrorText(res.Errors[0]), dropped))
	}
	w.WriteHeader(http.StatusNoContent)
	return http.StatusNoContent
}

func (h *Handler) release(st *requestState) {
	st.body.release(h.opts.Inflight)
	st.letters = st.letters[:0]
	select {
	case h.states <- st:
	default: // enough states are free already
	}
}

// freeRequestStates is how many request states (a body buffer of up to
// maxPooledBody, the parser and its known keys) are kept for the next
// requests. Not a sync.Pool: the collector empties a pool every second cycle,
// which under a steady load came sooner than a writer's next batch, so a
// third of TSBS's requests grew a 2 MiB body buffer anew and parsed its 100
// series keys afresh. A handful covers the writers of a small machine.
const freeRequestStates = 4

// newState returns a free request state, or a new one.
func (h *Handler) newState() *requestState {
	select {
	case st := <-h.states:
		return st
	default:
		return &requestState{lines: NewLineWriter(h.opts.MaxFieldsPerLine)}
	}
}

var errTooLarge = errors.New("Request Entity Too Large")

var errBodyTimeout = errors.New("request body not received in time")

// readBody reads the (possibly compressed, see encoding.go) body into st.body,
// enforcing both size limits and the in-flight budget, and returns the status
// of a refusal.
func (h *Handler) readBody(st *requestState, r *http.Request) (int, error) {
	wire := &limitedReader{r: r.Body, left: h.opts.MaxBodySize}
	enc := r.Header.Get("Content-Encoding")
	if enc == "snappy" {
		return h.readSnappy(st, wire)
	}
	var src io.Reader = wire
	limit := h.opts.MaxBodySize
	if enc == "gzip" || enc == "zstd" {
		zr, closeFn, err := h.inflater(enc, wire)
		if err != nil {
			if wire.exceeded {
				return http.StatusRequestEntityTooLarge, errTooLarge
			}
			return http.StatusBadRequest, err
		}
		defer closeFn()
		src = zr
		limit = h.opts.MaxDecompressedSize
	}
	exceeded, err := st.body.readFrom(src, limit, h.opts.Inflight)
	return bodyStatus(wire.exceeded || exceeded, err)
}

// refuseBody answers a body that could not be read: 429 with Retry-After
// over the in-flight budget, and the connection closed where the rest of the
// body stays unread (it cannot be reused).
func (h *Handler) refuseBody(w http.ResponseWriter, api apiVersion, status int, err error) int {
	switch status {
	case http.StatusTooManyRequests:
		h.m.throttled.Inc()
		w.Header().Set("Retry-After", retryAfter)
		fallthrough
	case http.StatusRequestEntityTooLarge, http.StatusRequestTimeout:
		w.Header().Set("Connection", "close")
	}
	return writeError(w, api, status, err.Error())
}

// bodyStatus maps the outcome of reading a body to the status of a refusal
// (0: none).
func bodyStatus(exceeded bool, err error) (int, error) {
	switch {
	case exceeded:
		return http.StatusRequestEntityTooLarge, errTooLarge
	case errors.Is(err, errOverBudget), errors.Is(err, errMemoryPressure):
		return http.StatusTooManyRequests, err
	case errors.Is(err, errLargerThanBudget):
		return http.StatusRequestEntityTooLarge, err
	case errors.Is(err, os.ErrDeadlineExceeded):
		// The server's body deadline (a client sending too slowly).
		return http.StatusRequestTimeout, errBodyTimeout
	case err != nil:
		return http.StatusBadRequest, err
	}
	return 0, nil
}

// limitedReader reads at most left bytes and remembers whether the source had more.
type limitedReader struct {
	r        io.Reader
	left     int64
	exceeded bool
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		var one [1]byte
		if n, _ := l.r.Read(one[:]); n > 0 {
			l.exceeded = true
			return 0, errTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

func (h *Handler) storeError(w http.ResponseWriter, api apiVersion, err error) int {
	var nf *storage.DatabaseNotFoundError
	var rp *storage.RetentionPolicyNotFoundError
	switch {
	case errors.As(err, &nf):
		if api == v2 {
			return writeError(w, api, http.StatusNotFound, fmt.Sprintf("bucket %q not found", nf.Name))
		}
		return writeError(w, api, http.StatusNotFound, err.Error())
	case errors.As(err, &rp):
		if api == v2 {
			return writeError(w, api, http.StatusNotFound, fmt.Sprintf("bucket not found: %s", err.Error()))
		}
		return writeError(w, api, http.StatusInternalServerError, err.Error())
	}
	if storage.IsBatchTooLarge(err) {
		// A legal body can encode to more than one WAL record holds (a 25 MB
		// body of 4 M short lines); nothing was stored, and smaller requests
		// will do. Not 500: the client can act on it.
		return writeError(w, api, http.StatusRequestEntityTooLarge, fmt.Sprintf(
			"Request Entity Too Large: the batch encodes to more than one write can hold (%d MiB; about 3 million single-field points): send it in smaller requests",
			storage.MaxBatchRecordBytes>>20))
	}
	if errors.Is(err, storage.ErrUnavailable) {
		// 503, not 507: the condition is transient (space freed, disk back) and
		// every InfluxDB client and Telegraf retry a 503 and honour Retry-After,
		// while 507 is WebDAV's and most clients treat it as a permanent failure.
		h.log.Warn("write refused: storage unavailable", "err", err)
		w.Header().Set("Retry-After", retryAfter)
		return writeError(w, api, http.StatusServiceUnavailable, err.Error())
	}
	h.log.Error("write failed", "err", err)
	return writeError(w, api, http.StatusInternalServerError, err.Error())
}

// retryAfter is what a refused write tells the client to wait, in seconds: the
// WAL probes a full disk about once a second.
const retryAfter = "1"

// writeError answers an error the way InfluxDB does: JSON body (with Go's escaping,
// as 1.x), the same text in X-Influxdb-Error.
func writeError(w http.ResponseWriter, api apiVersion, status int, msg string) int {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Influxdb-Error", headerError(msg))
	w.WriteHeader(status)
	var body any = map[string]string{"error": msg}
	if api == v2 {
		body = map[string]string{"code": v2Code(status), "message": msg}
	}
	json.NewEncoder(w).Encode(body)
	return status
}

func v2Code(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid"
	case http.StatusNotFound:
		return "not found"
	case http.StatusRequestEntityTooLarge:
		return "request too large"
	case http.StatusTooManyRequests:
		return "too many requests"
	case http.StatusServiceUnavailable:
		return "unavailable"
	}
	return "internal error"
}
