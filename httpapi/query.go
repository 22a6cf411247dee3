package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/strata-db/strata/auth"
	"github.com/strata-db/strata/query"
	"github.com/strata-db/strata/query/influxql"
)

// QueryHandler serves /query in InfluxDB 1.x's JSON (or CSV): it parses the
// request, runs the statements on the executor and renders the stream of results
// the executor produces as they come.
type QueryHandler struct {
	exec  *query.Executor
	log   *slog.Logger
	users *auth.Service // nil or disabled: no authentication
	admit *Admission    // nil: no concurrency limit
	bufs  BufferPool    // the response writers' buffers
}

// NewQueryHandler returns the /query handler over exec.
func NewQueryHandler(exec *query.Executor, log *slog.Logger) *QueryHandler {
	if log == nil {
		log = slog.Default()
	}
	return &QueryHandler{exec: exec, log: log}
}

// SetAuth makes the handler authenticate requests and authorize their
// statements through users (when users.Enabled()).
func (h *QueryHandler) SetAuth(users *auth.Service) { h.users = users }

// SetAdmission makes the handler run queries under a's concurrency limit.
func (h *QueryHandler) SetAdmission(a *Admission) { h.admit = a }

func (h *QueryHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodPost:
	case http.MethodOptions:
		w.WriteHeader(http.StatusOK) // CORS preflight, as InfluxDB answers it
		return
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	enc := RequestEncoding(r)
	// Authentication comes first, as in 1.x: a request without valid
	// credentials learns nothing, not even whether its query parses.
	principal, aerr := h.users.AuthenticateRequest(r)
	if aerr != nil {
		httpError(w, enc, aerr.Status, aerr.Message)
		return
	}
	text := r.FormValue("q")
	if strings.TrimSpace(text) == "" {
		httpError(w, enc, http.StatusBadRequest, `missing required parameter "q"`)
		return
	}
	q, err := influxql.ParseQuery(text)
	if err != nil {
		httpError(w, enc, http.StatusBadRequest, "error parsing query: "+err.Error())
		return
	}
	if p := r.FormValue("params"); p != "" {
		var params map[string]any
		dec := json.NewDecoder(strings.NewReader(p))
		dec.UseNumber()
		if err := dec.Decode(&params); err != nil {
			httpError(w, enc, http.StatusBadRequest, "error parsing query parameters: "+err.Error())
			return
		}
		if err := q.Bind(params); err != nil {
			httpError(w, enc, http.StatusBadRequest, "error parsing query: "+err.Error())
			return
		}
	}
	if r.Method == http.MethodGet {
		for _, st := range q.Statements {
			if query.IsMutation(st) {
				// A deliberate difference from 1.x, which runs it with a
				// deprecation warning: a GET must be safe to prefetch, cache or
				// be sent by an <img> tag.
				w.Header().Set("Allow", "POST")
				httpError(w, enc, http.StatusMethodNotAllowed, fmt.Sprintf("%s changes data and must be sent with POST, not GET", st))
				return
			}
		}
	}
	opts := h.options(r)
	if principal != nil {
		if err := principal.AuthorizeQuery(q, opts.Database); err != nil {
			httpError(w, enc, http.StatusForbidden, "error authorizing query: "+err.Error())
			return
		}
		opts.Auth = principal
	}
	tk, err := h.admit.enter(q)
	if err != nil {
		w.Header().Set("Retry-After", retryAfterQueries)
		httpError(w, enc, http.StatusServiceUnavailable, err.Error())
		return
	}
	if r.FormValue("async") == "true" {
		// Fire and forget, as InfluxDB 1.x: the client reads nothing back. The
		// statements outlive the request (its context ends when this returns), while
		// --query-timeout and KILL QUERY still apply: Execute registers them.
		discard := query.SinkFunc(func(*query.StatementResult) error { return nil })
		go func() {
			defer tk.leave()
			ctx := context.WithoutCancel(r.Context())
			if h.awaitTurn(ctx, tk, q, opts.Database) == nil {
				h.exec.Execute(ctx, q, opts, discard)
			}
		}()
		w.WriteHeader(http.StatusNoContent)
		return
	}
	defer tk.leave()
	chunked, size := RequestChunking(r)
	if err := h.awaitTurn(r.Context(), tk, q, opts.Database); err != nil {
		// Killed while queued (or the client left): answered as a stopped
		// query is, in results[0].error.
		w.Header().Set("Content-Type", enc.ContentType())
		rw := NewResponseWriter(w, enc, chunked, size)
		rw.WriteResult(&query.StatementResult{Err: err.Error()})
		rw.Close()
		return
	}
	w.Header().Set("Content-Type", enc.ContentType())
	w.WriteHeader(http.StatusOK)
	rw := NewResponseWriter(w, enc, chunked, size)
	rw.UseBuffers(&h.bufs)
	opts.Budget = h.exec.NewBudget() // the engine and the rendered answer share it
	rw.SetBudget(opts.Budget)
	if enc, ok := rw.RowEncoder(); ok {
		opts.RowEncoder = enc // cached rows come rendered for this writer
	}
	start := time.Now()
	err = h.exec.Execute(r.Context(), q, opts, rw)
	if cerr := rw.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		h.log.Debug("query response not delivered", "err", err)
	}
	if h.log.Enabled(r.Context(), slog.LevelDebug) {
		// Printing a query allocates a string per node: only when it is logged.
		h.log.Debug("query", "q", q.String(), "duration", time.Since(start)) // String redacts passwords
	}
}

// awaitTurn waits for a queued ticket's turn, the query listed by SHOW
// QUERIES as "queued" meanwhile (KILL QUERY ends the wait).
func (h *QueryHandler) awaitTurn(ctx context.Context, tk *ticket, q *influxql.Query, db string) error {
	if !tk.needsWait() {
		return nil
	}
	qctx, done := h.exec.Enqueue(ctx, q, db)
	defer done()
	return tk.wait(qctx)
}

func (h *QueryHandler) options(r *http.Request) query.ExecOptions {
	return query.ExecOptions{
		Database:        r.FormValue("db"),
		RetentionPolicy: r.FormValue("rp"),
		AllowPartial:    r.FormValue("partial") == "true",
		Rollups:         r.FormValue("rollups"),
	}
}

// httpError answers a request-level error as InfluxDB does.
func httpError(w http.ResponseWriter, enc Encoding, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusUnauthorized {
		auth.Challenge(w.Header()) // 1.x sends the challenge instead of X-Influxdb-Error
	} else {
		w.Header().Set("X-Influxdb-Error", msg)
	}
	w.WriteHeader(status)
	e := json.NewEncoder(w)
	if enc.Pretty {
		e.SetIndent("", "    ")
	}
	e.Encode(map[string]string{"error": msg})
}
