package query

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/storage"
)

// Store is what the query handler needs from the storage engine.
type Store interface {
	CreateDatabase(name string, rp *storage.RetentionPolicy) error
	DropDatabase(name string) error
	Databases() []string
	RetentionPolicies(db string) ([]storage.RetentionPolicyInfo, error)
}

// Options configure the query handler.
type Options struct {
	Logger *slog.Logger
}

// Handler serves /query in InfluxDB 1.x's JSON.
type Handler struct {
	store Store
	log   *slog.Logger
}

// NewHandler returns the /query handler.
func NewHandler(store Store, opts Options) *Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Handler{store: store, log: opts.Logger}
}

// Result is one statement's answer, as InfluxDB 1.x renders it.
type Result struct {
	StatementID int       `json:"statement_id"`
	Series      []*Series `json:"series,omitempty"`
	Messages    []Message `json:"messages,omitempty"`
	Partial     bool      `json:"partial,omitempty"`
	Err         string    `json:"error,omitempty"`
}

// Series is one series of a result.
type Series struct {
	Name    string            `json:"name,omitempty"`
	Tags    map[string]string `json:"tags,omitempty"`
	Columns []string          `json:"columns"`
	Values  [][]any           `json:"values,omitempty"`
	Partial bool              `json:"partial,omitempty"`
}

// Message is an informational message attached to a result.
type Message struct {
	Level string `json:"level"`
	Text  string `json:"text"`
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	pretty := r.FormValue("pretty") == "true"
	text := r.FormValue("q")
	if strings.TrimSpace(text) == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `missing required parameter "q"`}, pretty)
		return
	}
	q, err := influxql.ParseQuery(text)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "error parsing query: " + err.Error()}, pretty)
		return
	}
	if p := r.FormValue("params"); p != "" {
		var params map[string]any
		dec := json.NewDecoder(strings.NewReader(p))
		dec.UseNumber()
		if err := dec.Decode(&params); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "error parsing query parameters: " + err.Error()}, pretty)
			return
		}
		if err := q.Bind(params); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "error parsing query: " + err.Error()}, pretty)
			return
		}
	}
	db := r.FormValue("db")
	results := make([]*Result, 0, len(q.Statements))
	for i, stmt := range q.Statements {
		res := h.execute(stmt, db)
		res.StatementID = i
		results = append(results, res)
		if res.Err != "" {
			break // InfluxDB does not run the statements after a failing one
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": results}, pretty)
}

// execute runs one statement. Only the database statements that clients send before
// writing are here yet; the InfluxQL executor (SELECT, SHOW of series and tags)
// is the query-path issue's work.
func (h *Handler) execute(stmt influxql.Statement, db string) *Result {
	switch s := stmt.(type) {
	case *influxql.CreateDatabaseStatement:
		if s.RetentionPolicyCreate {
			return &Result{Err: "retention policy options are not supported: every database keeps its data forever"}
		}
		if err := h.store.CreateDatabase(s.Name, nil); err != nil {
			return &Result{Err: err.Error()}
		}
		return &Result{}
	case *influxql.DropDatabaseStatement:
		if err := h.store.DropDatabase(s.Name); err != nil {
			return &Result{Err: err.Error()}
		}
		return &Result{}
	case *influxql.ShowDatabasesStatement:
		ser := &Series{Name: "databases", Columns: []string{"name"}}
		for _, name := range h.store.Databases() {
			ser.Values = append(ser.Values, []any{name})
		}
		return &Result{Series: []*Series{ser}}
	case *influxql.ShowRetentionPoliciesStatement:
		name := s.Database
		if name == "" {
			name = db
		}
		if name == "" {
			return &Result{Err: "database name required"}
		}
		rps, err := h.store.RetentionPolicies(name)
		if err != nil {
			return &Result{Err: err.Error()}
		}
		ser := &Series{Columns: []string{"name", "duration", "shardGroupDuration", "replicaN", "default"}}
		for _, rp := range rps {
			ser.Values = append(ser.Values, []any{rp.Name, rp.Duration.String(), rp.ShardGroupDuration.String(), rp.Replication, rp.Default})
		}
		return &Result{Series: []*Series{ser}}
	}
	return &Result{Err: fmt.Sprintf("statement not supported yet: %s", stmt.String())}
}

func writeJSON(w http.ResponseWriter, status int, v any, pretty bool) {
	w.Header().Set("Content-Type", "application/json")
	if status >= 400 {
		if m, ok := v.(map[string]string); ok {
			w.Header().Set("X-Influxdb-Error", m["error"])
		}
	}
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	if pretty {
		enc.SetIndent("", "    ")
	}
	if err := enc.Encode(v); err != nil && !errors.Is(err, http.ErrHandlerTimeout) {
		return
	}
}
