package cluster

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The headers of a signed internal request (docs/format/node-protocol.md,
// "Authentication"). They are part of the node protocol's contract.
const (
	HeaderDate      = "X-Strata-Date"      // Unix seconds, decimal
	HeaderUser      = "X-Strata-User"      // the query's user, percent-encoded; absent: none
	HeaderSignature = "X-Strata-Signature" // "v1=" and 64 hex digits
)

// signatureScheme opens the signed string and names the signature's version
// in the header; a different canonical form gets another.
const signatureScheme = "v1"

// MaxSkew is how far a request's date may be from the receiver's clock.
// Five minutes: NTP keeps a set's clocks within milliseconds, and the window
// bounds how long a captured request can be replayed (TLS is what keeps it
// from being captured).
const MaxSkew = 5 * time.Minute

// MinSecretLen is the shortest cluster secret accepted: 16 bytes, 128 bits
// if random, which no brute force of HMAC-SHA256 reaches.
const MinSecretLen = 16

// Secret is the shared cluster secret every node of a set holds
// (--cluster-secret-file). A nil Secret signs nothing and verifies nothing.
type Secret []byte

// ErrNotSigned and the other verification errors are what a peer answers
// with 401; their texts name what is wrong, never the secret.
var (
	ErrNotSigned    = errors.New("internal request not signed: the sending node has no --cluster-secret-file")
	ErrBadSignature = errors.New("internal request signature does not match: the nodes' --cluster-secret-file differ")
)

// ErrNoSecret: a node that authenticates its clients (--auth-enabled) but
// has no cluster secret answers no internal request, which would otherwise
// read every database for anyone who reaches the port.
var ErrNoSecret = errors.New("this node has --auth-enabled and no --cluster-secret-file: its internal endpoints answer no request")

// Authenticate is every internal endpoint's check of a request: signed with
// s when the node has a secret (Verify), refused with ErrNoSecret when it
// has none and authenticates its clients (authOn), let through otherwise
// (a trusted network: no secret, no authentication). It returns the user the
// sending node named.
func (s Secret) Authenticate(r *http.Request, body []byte, now time.Time, authOn bool) (string, error) {
	switch {
	case s != nil:
		return s.Verify(r, body, now)
	case authOn:
		return "", ErrNoSecret
	}
	return "", nil
}

// StaleError is a request whose date is outside MaxSkew of the receiver's
// clock: a replay, or clocks that disagree.
type StaleError struct {
	Date, Now time.Time
}

func (e *StaleError) Error() string {
	d, side := e.Now.Sub(e.Date), "behind"
	if d < 0 {
		d, side = -d, "ahead of"
	}
	return fmt.Sprintf("internal request dated %s, %s %s this node's clock (at most %s either way): replayed, or the nodes' clocks disagree",
		e.Date.UTC().Format(time.RFC3339), d.Round(time.Second), side, MaxSkew)
}

// canonical is the string the signature covers: the scheme, the method, the
// path, the date, the user (as sent, percent-encoded) and the SHA-256 of the
// body, one per line. Each part but the user is of a fixed alphabet without
// newlines, and the user is percent-encoded, so no two requests share one.
func canonical(method, path, date, user string, body []byte) []byte {
	sum := sha256.Sum256(body)
	var b strings.Builder
	b.Grow(len(method) + len(path) + len(date) + len(user) + 2*len(sum) + 24)
	for _, s := range []string{signatureScheme, method, path, date, user} {
		b.WriteString(s)
		b.WriteByte('\n')
	}
	b.WriteString(hex.EncodeToString(sum[:]))
	return []byte(b.String())
}

func (s Secret) mac(msg []byte) []byte {
	m := hmac.New(sha256.New, s)
	m.Write(msg)
	return m.Sum(nil)
}

// Sign sets r's date, user and signature headers for body, dated now. user
// is the authenticated user the query runs as ("" when the sending node does
// not authenticate).
func (s Secret) Sign(r *http.Request, body []byte, user string, now time.Time) {
	if s == nil {
		return
	}
	date := strconv.FormatInt(now.Unix(), 10)
	u := url.PathEscape(user)
	r.Header.Set(HeaderDate, date)
	if user != "" {
		r.Header.Set(HeaderUser, u)
	} else {
		r.Header.Del(HeaderUser)
	}
	sig := s.mac(canonical(r.Method, r.URL.Path, date, u, body))
	r.Header.Set(HeaderSignature, signatureScheme+"="+hex.EncodeToString(sig))
}

// Verify checks r's signature over body with the secret, in constant time,
// and that its date is within MaxSkew of now. It returns the user the
// sending node authenticated ("" when none).
func (s Secret) Verify(r *http.Request, body []byte, now time.Time) (string, error) {
	h := r.Header.Get(HeaderSignature)
	date := r.Header.Get(HeaderDate)
	if h == "" || date == "" {
		return "", ErrNotSigned
	}
	scheme, hexSig, ok := strings.Cut(h, "=")
	if !ok || scheme != signatureScheme {
		return "", fmt.Errorf("internal request signature %q: want %s=<hex>", truncate(h, 16), signatureScheme)
	}
	sig, err := hex.DecodeString(hexSig)
	if err != nil || len(sig) != sha256.Size {
		return "", fmt.Errorf("internal request signature: want %d hex digits", 2*sha256.Size)
	}
	secs, err := strconv.ParseInt(date, 10, 64)
	if err != nil {
		return "", fmt.Errorf("internal request %s %q: want Unix seconds", HeaderDate, truncate(date, 24))
	}
	u := r.Header.Get(HeaderUser)
	// The signature first: a stale date on a forged request says nothing
	// about the clocks.
	if !hmac.Equal(sig, s.mac(canonical(r.Method, r.URL.Path, date, u, body))) {
		return "", ErrBadSignature
	}
	at := time.Unix(secs, 0)
	if d := now.Sub(at); d > MaxSkew || d < -MaxSkew {
		return "", &StaleError{Date: at, Now: now}
	}
	user, err := url.PathUnescape(u)
	if err != nil {
		return "", fmt.Errorf("internal request %s: %v", HeaderUser, err)
	}
	return user, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
