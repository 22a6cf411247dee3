package cluster

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func signedRequest(t *testing.T, s Secret, body []byte, user string, at time.Time) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, "http://node-b:8086"+Path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	s.Sign(r, body, user, at)
	return r
}

// TestVerify: what a peer accepts of a signed request, and what it refuses
// with which error, one line per tampering.
func TestVerify(t *testing.T) {
	secret := Secret("a-cluster-secret-of-some-length")
	body := []byte("q=SELECT+count%28v%29+FROM+m&db=db&now=0")
	now := time.Unix(1_800_000_000, 0)
	for _, c := range []struct {
		name   string
		user   string
		mutate func(r *http.Request) []byte // returns the body the peer reads
		want   string                       // "" accepted; else a substring of the error
	}{
		{"as signed", "alice", nil, ""},
		{"no user", "", nil, ""},
		{"user needing escapes", "ali ce/ü\n", nil, ""},
		{"body changed", "alice", func(*http.Request) []byte { return []byte("q=SELECT+count%28v%29+FROM+n&db=db&now=0") }, "does not match"},
		{"user changed", "alice", func(r *http.Request) []byte { r.Header.Set(HeaderUser, "admin"); return body }, "does not match"},
		{"user dropped", "alice", func(r *http.Request) []byte { r.Header.Del(HeaderUser); return body }, "does not match"},
		{"date changed", "alice", func(r *http.Request) []byte { r.Header.Set(HeaderDate, "1800000001"); return body }, "does not match"},
		{"path changed", "alice", func(r *http.Request) []byte { r.URL.Path = "/internal/v3/partial"; return body }, "does not match"},
		{"method changed", "alice", func(r *http.Request) []byte { r.Method = http.MethodPut; return body }, "does not match"},
		{"wrong secret", "alice", func(r *http.Request) []byte {
			Secret("another-secret-entirely").Sign(r, body, "alice", now)
			return body
		}, "does not match"},
		{"unsigned", "alice", func(r *http.Request) []byte { r.Header.Del(HeaderSignature); return body }, "not signed"},
		{"no date", "alice", func(r *http.Request) []byte { r.Header.Del(HeaderDate); return body }, "not signed"},
		{"other scheme", "alice", func(r *http.Request) []byte {
			r.Header.Set(HeaderSignature, strings.Replace(r.Header.Get(HeaderSignature), "v1=", "v2=", 1))
			return body
		}, "want v1=<hex>"},
		{"short signature", "alice", func(r *http.Request) []byte {
			r.Header.Set(HeaderSignature, r.Header.Get(HeaderSignature)[:40])
			return body
		}, "want 64 hex digits"},
		{"date not a number", "alice", func(r *http.Request) []byte { r.Header.Set(HeaderDate, "yesterday"); return body }, "want Unix seconds"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := signedRequest(t, secret, body, c.user, now)
			got := body
			if c.mutate != nil {
				got = c.mutate(r)
			}
			user, err := secret.Verify(r, got, now)
			if c.want == "" {
				if err != nil || user != c.user {
					t.Fatalf("Verify = %q, %v; want %q, nil", user, err, c.user)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Verify = %q, %v; want an error with %q", user, err, c.want)
			}
		})
	}
}

// TestVerifyWindow: a request is accepted up to MaxSkew either side of the
// peer's clock, and refused beyond as stale.
func TestVerifyWindow(t *testing.T) {
	secret := Secret("a-cluster-secret-of-some-length")
	now := time.Unix(1_800_000_000, 0)
	for _, c := range []struct {
		age   time.Duration
		stale bool
	}{
		{0, false}, {MaxSkew, false}, {-MaxSkew, false},
		{MaxSkew + time.Second, true}, {-MaxSkew - time.Second, true}, {24 * time.Hour, true},
	} {
		r := signedRequest(t, secret, nil, "u", now.Add(-c.age))
		_, err := secret.Verify(r, nil, now)
		var se *StaleError
		if stale := errors.As(err, &se); stale != c.stale {
			t.Errorf("dated %v ago: %v, want stale %v", c.age, err, c.stale)
		}
	}
}

// BenchmarkSignVerify: the cost the secret adds to one internal request,
// both sides, for a request body of a typical statement and schema.
func BenchmarkSignVerify(b *testing.B) {
	secret := Secret("a-cluster-secret-of-some-length")
	body := bytes.Repeat([]byte("field=float%3Ausage_user&"), 40) // ~1 KB
	now := time.Unix(1_800_000_000, 0)
	r, err := http.NewRequest(http.MethodPost, "http://node-b:8086"+Path, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		secret.Sign(r, body, "alice", now)
		if _, err := secret.Verify(r, body, now); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAuthenticate: every internal endpoint's decision, by whether the node
// has a secret and authenticates its clients.
func TestAuthenticate(t *testing.T) {
	secret := Secret("0123456789abcdef0123")
	now := time.Unix(1_800_000_000, 0)
	body := []byte("q=SELECT+1")
	req := func(sign Secret) *http.Request {
		r, err := http.NewRequest("POST", "http://node:8086"+Path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		sign.Sign(r, body, "ann", now)
		return r
	}
	for _, c := range []struct {
		name         string
		have, signed Secret
		authOn       bool
		user         string
		err          error
	}{
		{"no secret, no auth: a trusted network", nil, nil, false, "", nil},
		{"no secret, auth on: closed", nil, secret, true, "", ErrNoSecret},
		{"secret, unsigned", secret, nil, false, "", ErrNotSigned},
		{"secret, signed", secret, secret, true, "ann", nil},
		{"secret, other secret", secret, Secret("another-secret-of-16"), false, "", ErrBadSignature},
	} {
		user, err := c.have.Authenticate(req(c.signed), body, now, c.authOn)
		if !errors.Is(err, c.err) || user != c.user {
			t.Errorf("%s: %q, %v; want %q, %v", c.name, user, err, c.user, c.err)
		}
	}
}
