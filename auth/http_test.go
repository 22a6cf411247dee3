package auth

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func TestCredentials(t *testing.T) {
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("bob:pw:with:colons"))
	tests := []struct {
		url, authz string
		user, pass string
		bearer, ok bool
	}{
		{"/query?u=bob&p=pw", "", "bob", "pw", false, true},
		{"/query?u=bob&p=pw", "Token eve:x", "bob", "pw", false, true}, // the URL first, as 1.x
		{"/query?u=bob", "", "", "", false, false},                     // both u and p are needed
		{"/query", basic, "bob", "pw:with:colons", false, true},
		{"/query", "Token bob:pw", "bob", "pw", false, true},
		{"/query", "Token bob", "", "", false, false},
		{"/query", "Bearer abc.def", "", "", true, true},
		{"/query", "Digest x", "", "", false, false},
		{"/query", "", "", "", false, false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", tt.url, nil)
		if tt.authz != "" {
			r.Header.Set("Authorization", tt.authz)
		}
		u, p, bearer, ok := credentials(r)
		if u != tt.user || p != tt.pass || bearer != tt.bearer || ok != tt.ok {
			t.Errorf("%s %q: %q %q %v %v", tt.url, tt.authz, u, p, bearer, ok)
		}
	}
}

func FuzzCredentials(f *testing.F) {
	f.Add("Basic Ym9iOnB3")
	f.Add("Token a:b")
	f.Add("Bearer x")
	s, err := New(memPersister{}, Options{Enabled: true, BcryptCost: bcrypt.MinCost})
	if err != nil {
		f.Fatal(err)
	}
	s.CreateUser("bob", "pw", true, false)
	f.Fuzz(func(t *testing.T, h string) {
		r := httptest.NewRequest("GET", "/query", nil)
		r.Header["Authorization"] = []string{h}
		p, e := s.AuthenticateRequest(r)
		if (p == nil) == (e == nil) {
			t.Fatalf("%q: principal %v, error %v", h, p, e)
		}
		if e != nil && e.Status != http.StatusUnauthorized {
			t.Fatalf("%q: status %d", h, e.Status)
		}
	})
}

func TestFailLimiter(t *testing.T) {
	var l failLimiter
	l.init(time.Minute)
	now := time.Unix(1000, 0)
	if _, ok := l.allow("a", now); !ok {
		t.Fatal("first failure not logged")
	}
	for i := 0; i < 5; i++ {
		if _, ok := l.allow("a", now.Add(time.Second)); ok {
			t.Fatal("second failure within the interval logged")
		}
	}
	if _, ok := l.allow("b", now); !ok {
		t.Fatal("another source is limited separately")
	}
	if n, ok := l.allow("a", now.Add(2*time.Minute)); !ok || n != 6 {
		t.Fatalf("after the interval: %d %v, want 6 (5 suppressed + this one)", n, ok)
	}
	// The table is bounded.
	for i := 0; i < maxLimiterSources+10; i++ {
		l.allow(string(rune(i+0x100)), now.Add(3*time.Minute))
	}
	if len(l.last) > maxLimiterSources {
		t.Fatalf("limiter holds %d sources", len(l.last))
	}
}

func TestAuthenticateRequestStates(t *testing.T) {
	s, _ := New(memPersister{}, Options{Enabled: false, BcryptCost: bcrypt.MinCost})
	if p, e := s.AuthenticateRequest(httptest.NewRequest("GET", "/", nil)); p != nil || e != nil {
		t.Fatal("disabled: everything allowed without a principal")
	}
	s, _ = New(memPersister{}, Options{Enabled: true, BcryptCost: bcrypt.MinCost})
	if p, e := s.AuthenticateRequest(httptest.NewRequest("GET", "/?u=x&p=y", nil)); e != nil || !p.Bootstrap() {
		t.Fatal("no users: the bootstrap principal, credentials ignored")
	}
	s.CreateUser("bob", "pw", true, false)
	for q, want := range map[string]string{
		"/":             "unable to parse authentication credentials",
		"/?u=bob&p=bad": "authorization failed",
		"/?u=eve&p=pw":  "authorization failed",
	} {
		if _, e := s.AuthenticateRequest(httptest.NewRequest("GET", q, nil)); e == nil || e.Message != want || e.Status != 401 {
			t.Errorf("%s: %v", q, e)
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.SetBasicAuth("", "pw")
	if _, e := s.AuthenticateRequest(r); e == nil || e.Message != "username required" {
		t.Errorf("empty user name: %v", e)
	}
	if s.FailedLogins() != 4 {
		t.Errorf("failed logins %d", s.FailedLogins())
	}
}
