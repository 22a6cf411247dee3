package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/strata-db/strata/auth"
	"github.com/strata-db/strata/cluster"
	"github.com/strata-db/strata/query"
	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/query/nodewire"
)

// maxPartialRequest bounds a partial-execution request's body, which is
// read whole to check its signature: a statement and its sources' schema
// (field and tag names) are kilobytes; 10 MiB is net/http's own bound on a
// form body.
const maxPartialRequest = 10 << 20

// PartialOptions configure a PartialHandler.
type PartialOptions struct {
	Node string // names this node in answers
	Log  *slog.Logger
	// Secret is the cluster secret requests must be signed with (nil: none
	// configured; then, with Users enabled, every request is refused).
	Secret cluster.Secret
	// Users, when enabled, are whose privileges a signed request's user must
	// have here, if this node knows the user.
	Users *auth.Service
	Now   func() time.Time // time.Now unless set
}

// PartialHandler serves POST /internal/v2/partial: a SELECT the node that
// received it fans out, executed over this node's data
// (query.Executor.ExecutePartial), answered in the node protocol's binary
// envelope (docs/format/node-protocol.md). With a cluster secret every
// request must be signed with it and dated within cluster.MaxSkew; with
// --auth-enabled and no secret none is served. The sender's deadline bounds
// the work; a sender that goes away cancels it.
type PartialHandler struct {
	exec *query.Executor
	opts PartialOptions
	// lastWarn is when a refused request was last logged (Unix ns): at
	// most one line per refuseLogInterval, so a scanner cannot flood the log.
	lastWarn atomic.Int64
}

// refuseLogInterval: one line in ten seconds tells an operator that the
// secrets differ or something probes the port, without a line per request.
const refuseLogInterval = 10 * time.Second

// NewPartialHandler returns the handler.
func NewPartialHandler(exec *query.Executor, opts PartialOptions) *PartialHandler {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	return &PartialHandler{exec: exec, opts: opts}
}

func (h *PartialHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPartialRequest+1))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if len(body) > maxPartialRequest {
		partialError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("request larger than %d bytes", maxPartialRequest))
		return
	}
	authOn := h.opts.Users != nil && h.opts.Users.Enabled()
	user, err := h.opts.Secret.Authenticate(r, body, h.opts.Now(), authOn)
	if err != nil {
		if now, last := h.opts.Now().UnixNano(), h.lastWarn.Load(); !errors.Is(err, cluster.ErrNoSecret) && now-last >= int64(refuseLogInterval) && h.lastWarn.CompareAndSwap(last, now) {
			h.opts.Log.Warn("internal request refused", "source", r.RemoteAddr, "err", err)
		}
		partialError(w, http.StatusUnauthorized, err)
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req, deadline, err := cluster.DecodeRequest(form)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var who query.Authorizer
	if authOn {
		if user == "" {
			partialError(w, http.StatusForbidden, errors.New("the sending node named no user, and this node has --auth-enabled: enable authentication on every node of the set"))
			return
		}
		// A user this node does not know (users are not replicated) runs
		// on the sending node's check alone; one it knows needs its
		// privileges here too.
		if p, known := h.opts.Users.Vouched(user); known {
			q, err := influxql.ParseQuery(req.Statement)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			if err := p.AuthorizeQuery(q, req.Database); err != nil {
				partialError(w, http.StatusForbidden, fmt.Errorf("user %q on node %s: %w", user, h.opts.Node, err))
				return
			}
			who = p
		}
	}
	req.User = user
	ctx := r.Context()
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	ans, err := h.exec.ExecutePartial(ctx, req, who, h.opts.Node)
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnprocessableEntity)
		return
	}
	out, err := nodewire.Append(nil, ans)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-strata-partial")
	if _, err := w.Write(out); err != nil {
		h.opts.Log.Debug("partial answer not sent", "err", err)
	}
}

// partialError answers a refused request as {"error": "..."}, the form of
// /query's errors; the sending node puts the text in its own error.
func partialError(w http.ResponseWriter, status int, err error) {
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{err.Error()})
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Strata-HMAC-SHA256 realm="strata-cluster"`)
	}
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
