package main

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-db/strata/auth"
	"github.com/strata-db/strata/storage"
)

// The security edge of the server: the operations endpoints' access rules,
// the cross-site request guard, and TLS with certificate reloading.

// jsonError answers {"error": msg} as the InfluxDB endpoints do.
func jsonError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusUnauthorized {
		auth.Challenge(w.Header())
	} else {
		w.Header().Set("X-Influxdb-Error", msg)
	}
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// requireUser lets a request through when authentication is disabled or its
// credentials hold; with admin, only for admins.
func requireUser(users *auth.Service, admin bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := users.AuthenticateRequest(r)
		if err != nil {
			jsonError(w, err.Status, err.Message)
			return
		}
		if p != nil && (p.Bootstrap() || admin && !p.IsAdmin()) {
			jsonError(w, http.StatusForbidden, "admin privilege required")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// pprofHandlers mounts /debug/pprof/ (admin-only when authentication is on).
func pprofHandlers(mux *http.ServeMux, users *auth.Service) {
	h := func(f http.HandlerFunc) http.Handler { return requireUser(users, true, f) }
	mux.Handle("/debug/pprof/", h(pprof.Index))
	mux.Handle("/debug/pprof/cmdline", h(pprof.Cmdline))
	mux.Handle("/debug/pprof/profile", h(pprof.Profile))
	mux.Handle("/debug/pprof/symbol", h(pprof.Symbol))
	mux.Handle("/debug/pprof/trace", h(pprof.Trace))
}

// guardOrigin refuses requests a browser sends on another site's behalf: an
// Origin whose host differs from the Host the request was sent to (a page on
// evil.example posting to this server), and, when the server listens only on
// loopback, a Host that is not a loopback name. The second closes DNS
// rebinding: evil.example re-pointed to 127.0.0.1 makes the browser's request
// same-origin, but its Host still says evil.example.
//
// /ping, /status and /health stay open whatever the headers: they change
// nothing, tell nothing, and health checkers send odd Host names.
func guardOrigin(next http.Handler, loopbackOnly bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ping", "/status", "/health":
			next.ServeHTTP(w, r)
			return
		}
		if loopbackOnly && !isLoopbackHost(r.Host) {
			jsonError(w, http.StatusForbidden, fmt.Sprintf("request refused: Host %q is not a loopback address, and this server listens on loopback only (DNS rebinding protection)", r.Host))
			return
		}
		if o := r.Header.Get("Origin"); o != "" {
			u, err := url.Parse(o)
			if err != nil || u.Host == "" || !sameHost(u.Scheme, u.Host, r.Host) {
				jsonError(w, http.StatusForbidden, fmt.Sprintf("cross-origin request refused: Origin %q does not match Host %q", o, r.Host))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// sameHost compares an Origin's host with a Host header, default ports aside.
func sameHost(scheme, origin, host string) bool {
	strip := func(h string) string {
		h = strings.ToLower(h)
		switch {
		case scheme == "http" && strings.HasSuffix(h, ":80"):
			return strings.TrimSuffix(h, ":80")
		case scheme == "https" && strings.HasSuffix(h, ":443"):
			return strings.TrimSuffix(h, ":443")
		}
		return h
	}
	return strip(origin) == strip(host)
}

func isLoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// listensOnLoopback tells whether addr is a loopback address (not a wildcard).
func listensOnLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// certReloader serves the certificate of --tls-cert/--tls-key, reloading it on
// Reload (SIGHUP) and when either file's modification time changes (checked at
// most once a second, on a handshake). A failed reload keeps the old
// certificate and is logged: a half-written file must not take TLS down.
type certReloader struct {
	certFile, keyFile string
	log               *slog.Logger

	hup chan os.Signal // SIGHUP; see stop

	mu       sync.Mutex
	cert     *tls.Certificate
	modCert  time.Time
	modKey   time.Time
	lastStat time.Time
}

func newCertReloader(certFile, keyFile string, log *slog.Logger) (*certReloader, error) {
	c := &certReloader{certFile: certFile, keyFile: keyFile, log: log}
	if err := c.load(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *certReloader) load() error {
	ci, err1 := os.Stat(c.certFile)
	ki, err2 := os.Stat(c.keyFile)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("tls: %w", firstErr(err1, err2))
	}
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("tls: load %s / %s: %w", c.certFile, c.keyFile, err)
	}
	c.mu.Lock()
	c.cert, c.modCert, c.modKey = &cert, ci.ModTime(), ki.ModTime()
	c.mu.Unlock()
	return nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// stop ends the SIGHUP handling (on shutdown).
func (c *certReloader) stop() {
	if c.hup != nil {
		signal.Stop(c.hup)
		close(c.hup)
		c.hup = nil
	}
}

// Reload loads the files again.
func (c *certReloader) Reload() {
	if err := c.load(); err != nil {
		c.log.Error("TLS certificate not reloaded, keeping the old one", "err", err)
		return
	}
	c.log.Info("TLS certificate reloaded", "cert", c.certFile)
}

func (c *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	check := time.Since(c.lastStat) >= time.Second
	if check {
		c.lastStat = time.Now()
	}
	modCert, modKey := c.modCert, c.modKey
	c.mu.Unlock()
	if check {
		ci, err1 := os.Stat(c.certFile)
		ki, err2 := os.Stat(c.keyFile)
		if err1 == nil && err2 == nil && (!ci.ModTime().Equal(modCert) || !ki.ModTime().Equal(modKey)) {
			c.Reload()
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cert, nil
}

// tlsConfig is the server's TLS configuration: TLS 1.2 or later only.
func (c *certReloader) tlsConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: c.GetCertificate}
}

// securitySetup checks the security flags and builds the user service (always:
// users can be managed with authentication off, as in 1.x) and, with TLS, the
// certificate reloader, reloading it on SIGHUP until the process ends.
func securitySetup(cfg serveConfig, eng *storage.Engine, log *slog.Logger, reg prometheus.Registerer) (*auth.Service, *certReloader, error) {
	if cfg.metricsAuth && !cfg.authEnabled {
		return nil, nil, errors.New("--metrics-auth needs --auth-enabled: without users there is nobody to authenticate")
	}
	if (cfg.tlsCert == "") != (cfg.tlsKey == "") {
		return nil, nil, errors.New("--tls-cert and --tls-key go together")
	}
	users, err := auth.New(eng, auth.Options{
		Enabled:    cfg.authEnabled,
		BcryptCost: cfg.bcryptCost,
		Logger:     log,
		DatabaseExists: func(db string) bool {
			return slices.Contains(eng.Databases(), db)
		},
	})
	if err != nil {
		return nil, nil, err
	}
	if cfg.authEnabled && users.UserCount() > 0 && !slices.ContainsFunc(users.Users(), func(u auth.UserInfo) bool { return u.Admin }) {
		// Possible only if the users were managed with authentication off.
		log.Warn("authentication is enabled but no user is an admin: nobody can manage users or databases; restart without --auth-enabled and GRANT ALL PRIVILEGES TO a user")
	}
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "strata_auth_failures_total",
		Help: "Requests refused because their credentials were missing or wrong (401).",
	}, func() float64 { return float64(users.FailedLogins()) }))
	if cfg.tlsCert == "" {
		return users, nil, nil
	}
	certs, err := newCertReloader(cfg.tlsCert, cfg.tlsKey, log)
	if err != nil {
		return nil, nil, err
	}
	certs.hup = make(chan os.Signal, 1)
	signal.Notify(certs.hup, syscall.SIGHUP)
	go func() {
		for range certs.hup {
			certs.Reload()
		}
	}()
	return users, certs, nil
}
