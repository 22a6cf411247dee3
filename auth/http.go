package auth

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Error is a failed authentication or authorization at the HTTP edge: the
// status (401 or 403) and 1.x's message. It never contains a password.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string { return e.Message }

// Realm is the realm of the WWW-Authenticate challenge sent with every 401.
const Realm = "InfluxDB"

// Challenge sets the header 1.x sends with a 401.
func Challenge(h http.Header) { h.Set("WWW-Authenticate", `Basic realm="`+Realm+`"`) }

// credentials reads a request's credentials as 1.x does: u and p in the URL
// first, then the Authorization header (Bearer, Basic, or the 2.x compatibility
// form "Token user:password").
func credentials(r *http.Request) (user, pass string, bearer, ok bool) {
	q := r.URL.Query()
	if u, p := q.Get("u"), q.Get("p"); u != "" && p != "" {
		return u, p, false, true
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", "", false, false
	}
	if scheme, rest, found := strings.Cut(h, " "); found {
		switch scheme {
		case "Bearer":
			return "", "", true, true
		case "Token":
			if u, p, found := strings.Cut(strings.TrimSpace(rest), ":"); found {
				return u, p, false, true
			}
			return "", "", false, false
		}
	}
	if u, p, found := r.BasicAuth(); found {
		return u, p, false, true
	}
	return "", "", false, false
}

// AuthenticateRequest tells who sends r. With authentication disabled it returns
// (nil, nil): everything is allowed. Before any user exists it returns the
// bootstrap principal without looking at credentials, as 1.x does; otherwise the
// credentials must name a user and its password.
func (s *Service) AuthenticateRequest(r *http.Request) (*Principal, *Error) {
	if s == nil || !s.opts.Enabled {
		return nil, nil
	}
	if s.UserCount() == 0 {
		return &Principal{svc: s, bootstrap: true}, nil
	}
	user, pass, bearer, ok := credentials(r)
	switch {
	case !ok:
		return nil, s.fail(r, "", &Error{http.StatusUnauthorized, "unable to parse authentication credentials"})
	case bearer:
		// 1.x's text, typo included: clients match on it. Strata has no JWT
		// shared secret.
		return nil, s.fail(r, "", &Error{http.StatusUnauthorized, "bearer auth disabld"})
	case user == "":
		return nil, s.fail(r, "", &Error{http.StatusUnauthorized, "username required"})
	}
	if err := s.Authenticate(user, pass); err != nil {
		return nil, s.fail(r, user, &Error{http.StatusUnauthorized, ErrAuthFailed.Error()})
	}
	return &Principal{svc: s, name: user}, nil
}

// fail counts a failed authentication and logs it, at most once per source per
// interval so a client retrying in a loop cannot flood the log.
func (s *Service) fail(r *http.Request, user string, e *Error) *Error {
	s.failed.Add(1)
	src := r.RemoteAddr
	if h, _, err := net.SplitHostPort(src); err == nil {
		src = h
	}
	if n, ok := s.limiter.allow(src, time.Now()); ok {
		s.log.Warn("authentication failed", "source", src, "user", user, "reason", e.Message, "path", r.URL.Path, "failures_since_last_log", n)
	}
	return e
}

// failLimiter remembers when each source's failures were last logged.
type failLimiter struct {
	mu       sync.Mutex
	interval time.Duration
	last     map[string]limitEntry
}

type limitEntry struct {
	at         time.Time
	suppressed int
}

// maxLimiterSources bounds the limiter's memory under a spray of sources.
const maxLimiterSources = 10000

func (l *failLimiter) init(interval time.Duration) {
	l.interval = interval
	l.last = map[string]limitEntry{}
}

// allow reports whether a failure from src may be logged now, and how many were
// suppressed before it.
func (l *failLimiter) allow(src string, now time.Time) (int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, seen := l.last[src]
	if seen && now.Sub(e.at) < l.interval {
		e.suppressed++
		l.last[src] = e
		return 0, false
	}
	if !seen && len(l.last) >= maxLimiterSources {
		for k, v := range l.last {
			if now.Sub(v.at) >= l.interval {
				delete(l.last, k)
			}
		}
		if len(l.last) >= maxLimiterSources {
			return 0, false // still full: drop the log line, the metric counts it
		}
	}
	l.last[src] = limitEntry{at: now}
	return e.suppressed + 1, true
}
