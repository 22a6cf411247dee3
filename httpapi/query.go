package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/strata-db/strata/query"
	"github.com/strata-db/strata/query/influxql"
)

// QueryHandler serves /query in InfluxDB 1.x's JSON (or CSV): it parses the
// request, runs the statements on the executor and renders the stream of results
// the executor produces as they come.
type QueryHandler struct {
	exec *query.Executor
	log  *slog.Logger
}

// NewQueryHandler returns the /query handler over exec.
func NewQueryHandler(exec *query.Executor, log *slog.Logger) *QueryHandler {
	if log == nil {
		log = slog.Default()
	}
	return &QueryHandler{exec: exec, log: log}
}

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
		discard := query.SinkFunc(func(*query.StatementResult) error { return nil })
		go h.exec.Execute(context.WithoutCancel(r.Context()), q, h.options(r), discard)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	chunked, size := RequestChunking(r)
	w.Header().Set("Content-Type", enc.ContentType())
	w.WriteHeader(http.StatusOK)
	rw := NewResponseWriter(w, enc, chunked, size)
	opts := h.options(r)
	opts.Budget = h.exec.NewBudget() // the engine and the rendered answer share it
	rw.SetBudget(opts.Budget)
	start := time.Now()
	err = h.exec.Execute(r.Context(), q, opts, rw)
	if cerr := rw.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		h.log.Debug("query response not delivered", "err", err)
	}
	h.log.Debug("query", "q", text, "duration", time.Since(start))
}

func (h *QueryHandler) options(r *http.Request) query.ExecOptions {
	return query.ExecOptions{
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
