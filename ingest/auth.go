package ingest

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/strata-db/strata/auth"
)

// Authentication and authorization of writes, at the edge of the handlers: who
// sends the request (before anything else is looked at, as 1.x does), then
// whether that user may write into the database named.

// authenticate answers 401 and returns false when r's credentials do not hold.
// The principal is nil with authentication disabled.
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request, api apiVersion) (*auth.Principal, bool) {
	p, err := h.opts.Auth.AuthenticateRequest(r)
	if err != nil {
		authError(w, api, err.Status, err.Message)
		return nil, false
	}
	return p, true
}

// authorizeWrite answers 403 and returns false when p may not write into db.
func authorizeWrite(w http.ResponseWriter, api apiVersion, p *auth.Principal, db string) bool {
	switch {
	case p == nil:
		return true
	case p.Bootstrap():
		authError(w, api, http.StatusForbidden, fmt.Sprintf("user is required to write to database %q", db))
		return false
	case !p.AuthorizeWrite(db):
		authError(w, api, http.StatusForbidden, fmt.Sprintf("%q user is not authorized to write to database %q", p.Name(), db))
		return false
	}
	return true
}

// authError answers as 1.x (v1) or 2.x (v2) do: a 401 carries the challenge
// instead of X-Influxdb-Error.
func authError(w http.ResponseWriter, api apiVersion, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusUnauthorized {
		auth.Challenge(w.Header())
	} else {
		w.Header().Set("X-Influxdb-Error", msg)
	}
	w.WriteHeader(status)
	var body any = map[string]string{"error": msg}
	if api == v2 {
		code := "forbidden"
		if status == http.StatusUnauthorized {
			code = "unauthorized"
		}
		body = map[string]string{"code": code, "message": msg}
	}
	json.NewEncoder(w).Encode(body)
}
