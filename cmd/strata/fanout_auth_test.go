package main

import (
	"bytes"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-db/strata/cluster"
)

const testClusterSecret = "0123456789abcdef-test-cluster-secret"

func writeSecret(t *testing.T, secret string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cluster-secret")
	if err := os.WriteFile(p, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// postPartial sends a partial-execution request for q to base, signed with
// secret dated at (nil secret: unsigned), as user.
func postPartial(t *testing.T, base, q string, secret cluster.Secret, user string, at time.Time) response {
	t.Helper()
	body := []byte(url.Values{"q": {q}, "db": {"benchmark"}, "now": {"0"}}.Encode())
	return postSigned(t, base+cluster.Path, "application/x-www-form-urlencoded", body, secret, user, at)
}

// postSigned posts body to an internal endpoint, signed with secret dated
// at (nil secret: unsigned), as user.
func postSigned(t *testing.T, target, contentType string, body []byte, secret cluster.Secret, user string, at time.Time) response {
	t.Helper()
	req, err := http.NewRequest("POST", target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	secret.Sign(req, body, user, at)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return response{resp.StatusCode, b.String(), resp.Header}
}

// signingCase is a request to an internal endpoint, signed or not, and what
// the endpoint must answer: its status and a part of its body.
type signingCase struct {
	name   string
	secret cluster.Secret
	at     time.Time
	status int
	error  string
}

// signingCases are the refusals every internal endpoint owes, and the
// signed request it serves (okBody: a part of its answer, "" for any).
func signingCases(now time.Time, okBody string) []signingCase {
	right, wrong := cluster.Secret(testClusterSecret), cluster.Secret("another-secret-of-16-bytes")
	return []signingCase{
		{"unsigned", nil, now, 401, "not signed"},
		{"wrong secret", wrong, now, 401, "does not match"},
		{"stale", right, now.Add(-10 * time.Minute), 401, "replayed, or the nodes' clocks disagree"},
		{"future", right, now.Add(10 * time.Minute), 401, "replayed, or the nodes' clocks disagree"},
		{"signed", right, now, 200, okBody},
	}
}

// TestFanoutAuth: with --auth-enabled and a cluster secret, the internal
// endpoint refuses unsigned, wrongly signed and stale requests with 401 and a
// JSON error, and a user's privileges are checked on the peers that know the
// user, while signed fan-out answers as one node holding all the data.
func TestFanoutAuth(t *testing.T) {
	fs := startFanoutSetWith(t, 4, time.Hour, fanoutSetup{secretFile: writeSecret(t, testClusterSecret), auth: true})
	const q = `SELECT count(usage_user), max(usage_system) FROM cpu GROUP BY region`
	peer := fs.bases[1]
	right, now := cluster.Secret(testClusterSecret), time.Now()
	for _, c := range signingCases(now, "") {
		t.Run(c.name, func(t *testing.T) {
			r := postPartial(t, peer, q, c.secret, "admin", c.at)
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.body)
			}
			if c.status == 200 {
				if ct := r.header.Get("Content-Type"); ct != "application/x-strata-partial" {
					t.Fatalf("Content-Type %q: %.200s", ct, r.body)
				}
				return
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" || !strings.HasPrefix(r.body, `{"error":"`) || !strings.Contains(r.body, c.error) {
				t.Fatalf("want a JSON error with %q, got %s %s", c.error, ct, r.body)
			}
		})
	}
	// The same signed request replayed after the window: refused.
	old := postPartial(t, peer, q, right, "admin", now.Add(-cluster.MaxSkew-time.Minute))
	if old.status != 401 {
		t.Fatalf("a request dated past the window: %d %s", old.status, old.body)
	}

	want := queryOn(t, fs.ref, q, nil)
	if got := queryOn(t, fs.bases[0], q, fs.creds); got.body != want.body {
		t.Fatalf("signed fan-out with auth:\n got %s\nwant %s", got.body, want.body)
	}
	// Users are each node's own until they are replicated: "reader" may read
	// on node 0 and node 1 and is unknown to node 2, whose check is node 0's;
	// "partly" may read on node 0 and is known without privileges on node 1.
	admin := func(base, stmt string) {
		t.Helper()
		r := do(t, "POST", base+"/query?"+fs.creds.Encode(), []byte(url.Values{"q": {stmt}}.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
		if r.status != 200 || strings.Contains(r.body, `"error"`) {
			t.Fatalf("%s: %d %s", stmt, r.status, r.body)
		}
	}
	for _, b := range fs.bases[:2] {
		admin(b, "CREATE USER reader WITH PASSWORD 'r'")
		admin(b, "GRANT READ ON benchmark TO reader")
		admin(b, "CREATE USER partly WITH PASSWORD 'p'")
	}
	admin(fs.bases[0], "GRANT READ ON benchmark TO partly")
	if got := queryOn(t, fs.bases[0], q, url.Values{"u": {"reader"}, "p": {"r"}}); got.body != want.body {
		t.Fatalf("reader through node 0:\n got %s\nwant %s", got.body, want.body)
	}
	r := queryOn(t, fs.bases[0], q, url.Values{"u": {"partly"}, "p": {"p"}})
	if !strings.Contains(r.body, `"error"`) || !strings.Contains(r.body, "403") || !strings.Contains(r.body, `user \"partly\" on node `+fs.nodes[1].Addr()) {
		t.Fatalf("a user without privileges on a peer that knows it must fail naming it: %d %s", r.status, r.body)
	}
	// SHOW fans out signed too.
	show := `SHOW TAG VALUES WITH KEY = hostname`
	if got, want := queryOn(t, fs.bases[2], show, fs.creds), queryOn(t, fs.ref, show, nil); got.body != want.body {
		t.Fatalf("%s:\n got %s\nwant %s", show, got.body, want.body)
	}
}

// TestClusterSecretFlags: the combinations of peers, authentication and the
// secret that the server refuses at start, and the endpoint of a node with
// --auth-enabled and no secret, which answers no one.
func TestClusterSecretFlags(t *testing.T) {
	for _, c := range []struct {
		name   string
		set    func(cfg *serveConfig)
		refuse string // "": starts
	}{
		{"auth and peers without a secret", func(cfg *serveConfig) { cfg.authEnabled, cfg.peers = true, "127.0.0.1:1" }, "needs --cluster-secret-file"},
		{"auth and DNS peers without a secret", func(cfg *serveConfig) { cfg.authEnabled, cfg.peersDNS = true, "strata:8086" }, "needs --cluster-secret-file"},
		{"short secret", func(cfg *serveConfig) { cfg.peers, cfg.clusterSecretFile = "127.0.0.1:1", writeSecret(t, "short") }, "5 bytes, want at least 16"},
		{"missing secret file", func(cfg *serveConfig) { cfg.clusterSecretFile = filepath.Join(t.TempDir(), "none") }, "no such file"},
		{"peers without auth or secret", func(cfg *serveConfig) { cfg.peers = "127.0.0.1:1" }, ""},
		{"auth and peers with a secret", func(cfg *serveConfig) {
			cfg.authEnabled, cfg.peers, cfg.clusterSecretFile = true, "127.0.0.1:1", writeSecret(t, testClusterSecret)
		}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig(t.TempDir())
			c.set(&cfg)
			s, err := startServer(cfg, quietLogger())
			if c.refuse == "" {
				if err != nil {
					t.Fatal(err)
				}
				s.shutdown(10 * time.Second)
				return
			}
			if err == nil {
				s.shutdown(10 * time.Second)
				t.Fatalf("started, want refused with %q", c.refuse)
			}
			if !strings.Contains(err.Error(), c.refuse) {
				t.Fatalf("refused with %q, want %q", err, c.refuse)
			}
		})
	}
	cfg := testConfig(t.TempDir())
	cfg.authEnabled = true
	s, base := startTestServer(t, cfg)
	defer s.shutdown(10 * time.Second)
	for _, secret := range []cluster.Secret{nil, cluster.Secret(testClusterSecret)} {
		r := postPartial(t, base, "SHOW MEASUREMENTS", secret, "admin", time.Now())
		if r.status != 401 || !strings.Contains(r.body, "no --cluster-secret-file") {
			t.Fatalf("a node with --auth-enabled and no secret must answer no internal request: %d %s", r.status, r.body)
		}
	}
}

// TestCQEndpointsSigned: the CQ runner's endpoints check signatures as
// /internal/v2/partial does: with a secret, unsigned, wrongly signed and
// stale requests get 401; a signed one is served. With --auth-enabled and no
// secret they answer nothing.
func TestCQEndpointsSigned(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.clusterSecretFile = writeSecret(t, testClusterSecret)
	_, base := startTestServer(t, cfg)
	post := func(base string, secret cluster.Secret, at time.Time) response {
		return postSigned(t, base+cqTakePath, "application/json", []byte(`{"progress":[]}`), secret, "", at)
	}
	now := time.Now()
	for _, c := range signingCases(now, `"token"`) {
		if r := post(base, c.secret, c.at); r.status != c.status || !strings.Contains(r.body, c.error) {
			t.Errorf("%s: %d %s, want %d and %q", c.name, r.status, r.body, c.status, c.error)
		}
	}
	right := cluster.Secret(testClusterSecret)

	closed := testConfig(t.TempDir())
	closed.authEnabled = true
	_, cbase := startTestServer(t, closed)
	if r := post(cbase, right, now); r.status != 401 || !strings.Contains(r.body, "no --cluster-secret-file") {
		t.Errorf("auth on, no secret: %d %s, want 401", r.status, r.body)
	}
}
