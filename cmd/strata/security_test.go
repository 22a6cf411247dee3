package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestOperationsEndpoints(t *testing.T) {
	// Defaults: no pprof; /metrics, /ping and /health open.
	s, base := startTestServer(t, testConfig(t.TempDir()))
	anon := authClient{t, base, "", ""}
	if code, _ := anon.do("GET", "/debug/pprof/", nil, ""); code != 404 {
		t.Errorf("pprof without --pprof-enabled: %d", code)
	}
	if code, _ := anon.do("GET", "/metrics", nil, ""); code != 200 {
		t.Errorf("/metrics: %d", code)
	}
	s.shutdown(10 * time.Second)

	cfg := testConfig(t.TempDir())
	cfg.authEnabled, cfg.pprofEnabled, cfg.metricsAuth = true, true, true
	s, base = startTestServer(t, cfg)
	defer s.shutdown(10 * time.Second)
	admin := authClient{t, base, "admin", "adm"}
	anon = authClient{t, base, "", ""}
	if code, body := admin.do("POST", "/query", url.Values{"q": {"CREATE USER admin WITH PASSWORD 'adm' WITH ALL PRIVILEGES"}}, ""); code != 200 {
		t.Fatal(code, body)
	}
	admin.do("POST", "/query", url.Values{"q": {"CREATE USER bob WITH PASSWORD 'b'"}}, "")
	bob := authClient{t, base, "bob", "b"}
	for _, tt := range []struct {
		c    authClient
		path string
		want int
	}{
		{anon, "/ping", 204}, {anon, "/health", 200},
		{anon, "/metrics", 401}, {bob, "/metrics", 200}, {admin, "/metrics", 200},
		{anon, "/debug/pprof/", 401}, {bob, "/debug/pprof/", 403}, {admin, "/debug/pprof/", 200},
		{authClient{t, base, "bob", "wrong"}, "/metrics", 401},
	} {
		if code, body := tt.c.do("GET", tt.path, nil, ""); code != tt.want {
			t.Errorf("%s as %q: %d %s, want %d", tt.path, tt.c.user, code, body, tt.want)
		}
	}
	// Failed logins are counted.
	_, metrics := admin.do("GET", "/metrics", nil, "")
	if !strings.Contains(metrics, "\nstrata_auth_failures_total 3\n") {
		i := strings.Index(metrics, "\nstrata_auth_failures_total")
		t.Errorf("failure count: %q", metrics[i:min(len(metrics), i+120)])
	}
	// --metrics-auth alone is refused: nothing to authenticate against.
	bad := testConfig(t.TempDir())
	bad.metricsAuth = true
	if _, err := startServer(bad, quietLogger()); err == nil || !strings.Contains(err.Error(), "--metrics-auth needs --auth-enabled") {
		t.Errorf("--metrics-auth without auth: %v", err)
	}
}

func TestCrossSiteRequestsRefused(t *testing.T) {
	s, base := startTestServer(t, testConfig(t.TempDir()))
	defer s.shutdown(10 * time.Second)
	c := authClient{t, base, "", ""}
	host := strings.TrimPrefix(base, "http://")
	for _, tt := range []struct {
		name string
		hdr  map[string]string
		want int
		msg  string
	}{
		{"same origin", map[string]string{"Origin": base}, 200, ""},
		{"no origin", nil, 200, ""},
		{"localhost name", map[string]string{"Host": "localhost:8086"}, 200, ""},
		{"other site", map[string]string{"Origin": "http://evil.example"}, 403, "cross-origin request refused"},
		{"null origin", map[string]string{"Origin": "null"}, 403, "cross-origin request refused"},
		{"same host other port", map[string]string{"Origin": "http://" + strings.Split(host, ":")[0] + ":1"}, 403, "cross-origin"},
		{"DNS rebinding", map[string]string{"Host": "evil.example:" + strings.Split(host, ":")[1], "Origin": "http://evil.example:" + strings.Split(host, ":")[1]}, 403, "DNS rebinding"},
	} {
		code, body, _ := c.doHeader("POST", "/query", url.Values{"q": {"CREATE DATABASE x"}}, "", tt.hdr)
		if code != tt.want || !strings.Contains(body, tt.msg) {
			t.Errorf("%s: %d %s, want %d %q", tt.name, code, body, tt.want, tt.msg)
		}
	}
	for _, path := range []string{"/ping", "/health"} {
		if code, _, _ := c.doHeader("GET", path, nil, "", map[string]string{"Host": "evil.example", "Origin": "http://evil.example"}); code/100 != 2 {
			t.Errorf("%s behind the guard: %d", path, code)
		}
	}
	if !isLoopbackHost("[::1]:8086") || !isLoopbackHost("127.0.0.2") || isLoopbackHost("127.0.0.1.evil.example") || isLoopbackHost("example.com") {
		t.Error("isLoopbackHost")
	}
	if !sameHost("http", "example.com", "example.com:80") || sameHost("https", "example.com", "example.com:80") {
		t.Error("sameHost default ports")
	}
}

// writeCert writes a self-signed certificate for 127.0.0.1 with the given
// common name and returns the CA pool that trusts it.
func writeCert(t *testing.T, certFile, keyFile, cn string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

// TestPasswordsNotLogged: a debug-level server log of user statements and
// failed logins holds no password.
func TestPasswordsNotLogged(t *testing.T) {
	var buf syncBuffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := testConfig(t.TempDir())
	cfg.authEnabled = true
	s, err := startServer(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + s.Addr()
	admin := authClient{t, base, "admin", "Adm1nPw"}
	for _, q := range []string{
		"CREATE USER admin WITH PASSWORD 'Adm1nPw' WITH ALL PRIVILEGES",
		"CREATE USER bob WITH PASSWORD 'B0bPw'; SET PASSWORD FOR bob = 'N3wPw'",
		"SET PASSWORD FOR bob 'Typ0Pw'", // a parse error around a password
	} {
		admin.do("POST", "/query", url.Values{"q": {q}}, "")
	}
	(authClient{t, base, "bob", "Wr0ngPw"}).do("GET", "/query", url.Values{"q": {"SHOW DATABASES"}}, "")
	_, body := admin.do("POST", "/query", url.Values{"q": {"SET PASSWORD FOR bob 'Typ0Pw'"}}, "")
	s.shutdown(10 * time.Second)
	out := buf.String() + body
	for _, pw := range []string{"Adm1nPw", "B0bPw", "N3wPw", "Typ0Pw", "Wr0ngPw"} {
		if strings.Contains(out, pw) {
			t.Errorf("password %s in the log or an error:\n%s", pw, out)
		}
	}
	if !strings.Contains(out, "[REDACTED]") || !strings.Contains(out, "authentication failed") {
		t.Errorf("expected the redacted query and the failed login in the log:\n%s", out)
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestTLSEndToEnd(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	pool := writeCert(t, certFile, keyFile, "first")
	cfg := testConfig(t.TempDir())
	cfg.tlsCert, cfg.tlsKey = certFile, keyFile
	s, _ := startTestServer(t, cfg)
	defer s.shutdown(10 * time.Second)
	base := "https://" + s.Addr()

	client := func(pool *x509.CertPool, maxVersion uint16) *http.Client {
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: maxVersion},
		}}
	}
	get := func(c *http.Client) (*http.Response, error) {
		resp, err := c.Get(base + "/query?q=" + url.QueryEscape("SHOW DATABASES"))
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return resp, err
	}
	resp, err := get(client(pool, 0))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.TLS == nil || resp.TLS.PeerCertificates[0].Subject.CommonName != "first" {
		t.Fatalf("HTTPS answer: %d %+v", resp.StatusCode, resp.TLS)
	}
	if resp.TLS.Version < tls.VersionTLS12 {
		t.Errorf("negotiated %x", resp.TLS.Version)
	}
	// TLS 1.1 is refused.
	if _, err := get(client(pool, tls.VersionTLS11)); err == nil {
		t.Error("TLS 1.1 handshake succeeded")
	}
	// Plain HTTP on the TLS port gets no answer an HTTP client accepts as data.
	if resp, err := http.Get("http://" + s.Addr() + "/ping"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 204 {
			t.Error("plain HTTP answered on the TLS listener")
		}
	}

	// A new certificate in the files is picked up (file change), then again on
	// SIGHUP.
	time.Sleep(1100 * time.Millisecond) // the modification check runs at most once a second
	pool2 := writeCert(t, certFile, keyFile, "second")
	future := time.Now().Add(2 * time.Second)
	os.Chtimes(certFile, future, future)
	var cn string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		c := client(pool2, 0)
		if resp, err := get(c); err == nil {
			cn = resp.TLS.PeerCertificates[0].Subject.CommonName
			break
		}
	}
	if cn != "second" {
		t.Fatalf("after the files changed, the server presents %q", cn)
	}
	s.certs.mu.Lock()
	s.certs.lastStat = time.Now().Add(time.Hour) // no modification checks: only SIGHUP reloads now
	s.certs.mu.Unlock()
	pool3 := writeCert(t, certFile, keyFile, "third")
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	cn = ""
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err := get(client(pool3, 0)); err == nil {
			cn = resp.TLS.PeerCertificates[0].Subject.CommonName
			break
		}
	}
	if cn != "third" {
		t.Fatalf("after SIGHUP, the server presents %q", cn)
	}
	// A broken file keeps the old certificate.
	os.WriteFile(certFile, []byte("garbage"), 0o600)
	s.certs.Reload()
	if resp, err := get(client(pool3, 0)); err != nil || resp.TLS.PeerCertificates[0].Subject.CommonName != "third" {
		t.Fatalf("after a failed reload: %v", err)
	}
}
