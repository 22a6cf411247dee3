package query

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/strata-db/strata/query/influxql"
)

// Options configure the query handler.
type Options struct {
	Logger *slog.Logger
	Limits Limits
}

// Handler serves /query in InfluxDB 1.x's JSON (or CSV).
type Handler struct {
	exec *Executor
	log  *slog.Logger
}

// NewHandler returns the /query handler over store.
func NewHandler(store Store, opts Options) *Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Handler{exec: NewExecutor(store, opts.Logger, opts.Limits), log: opts.Logger}
}

// Executor returns the handler's executor.
func (h *Handler) Executor() *Executor { return h.exec }

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
	if r.FormValue("async") == "true" {
		// Fire and forget, as InfluxDB 1.x: the client reads nothing back. The
		// statements outlive the request (its context ends when this returns), while
		// --query-timeout and KILL QUERY still apply: Execute registers them.
		go h.exec.Execute(context.WithoutCancel(r.Context()), q, h.options(r), func(*StatementResult) error { return nil })
		w.WriteHeader(http.StatusNoContent)
		return
	}
	chunked, size := RequestChunking(r)
	w.Header().Set("Content-Type", enc.ContentType())
	w.WriteHeader(http.StatusOK)
	rw := NewResponseWriter(w, enc, chunked, size)
	start := time.Now()
	err = h.exec.Execute(r.Context(), q, h.options(r), rw.WriteResult)
	if cerr := rw.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		h.log.Debug("query response not delivered", "err", err)
	}
	h.log.Debug("query", "q", text, "duration", time.Since(start))
}

func (h *Handler) options(r *http.Request) ExecOptions {
	return ExecOptions{
		Database:        r.FormValue("db"),
		RetentionPolicy: r.FormValue("rp"),
		ReadOnly:        r.Method == http.MethodGet,
	}
}

// httpError answers a request-level error as InfluxDB does.
func httpError(w http.ResponseWriter, enc Encoding, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Influxdb-Error", msg)
	w.WriteHeader(status)
	e := json.NewEncoder(w)
	if enc.Pretty {
		e.SetIndent("", "    ")
	}
	e.Encode(map[string]string{"error": msg})
}
