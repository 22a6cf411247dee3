package httpapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/strata-db/strata/cluster"
	"github.com/strata-db/strata/query"
	"github.com/strata-db/strata/query/nodewire"
)

// PartialHandler serves POST /internal/v2/partial: a SELECT the node that
// received it fans out, executed over this node's data
// (query.Executor.ExecutePartial), answered in the node protocol's binary
// envelope (docs/format/node-protocol.md). The sender's deadline bounds the
// work; a sender that goes away cancels it.
type PartialHandler struct {
	exec *query.Executor
	node string
	log  *slog.Logger
}

// NewPartialHandler returns the handler; node names this node in answers.
func NewPartialHandler(exec *query.Executor, node string, log *slog.Logger) *PartialHandler {
	return &PartialHandler{exec: exec, node: node, log: log}
}

func (h *PartialHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req, deadline, err := cluster.DecodeRequest(r.PostForm)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	ans, err := h.exec.ExecutePartial(ctx, req, nil, h.node)
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnprocessableEntity)
		return
	}
	body, err := nodewire.Append(nil, ans)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-strata-partial")
	if _, err := w.Write(body); err != nil {
		h.log.Debug("partial answer not sent", "err", err)
	}
}
