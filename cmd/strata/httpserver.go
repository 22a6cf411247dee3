package main

import (
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// HTTP server hygiene: what stops clients that connect and do nothing, send
// slowly, or stop reading, from holding the server's memory and descriptors.
// Without it 2,000 idle keep-alive connections were still open after 60 s,
// ~21,000 exhausted the descriptors (then /ping timed out), and two clients
// that never read their answers held 2.1 GB for as long as they liked.

const (
	// defaultIdleTimeout closes a keep-alive connection with no request for
	// this long. Two minutes spans the flush interval of every common writer
	// (Telegraf's default is 10 s) and Grafana's refreshes, so busy clients keep
	// their connection, while an abandoned one is gone within minutes.
	defaultIdleTimeout = 2 * time.Minute
	// defaultReadTimeout is how long a request (headers and body) may take to
	// arrive: the 25 MB largest body at 200 KB/s. A client trickling a byte now
	// and then cannot hold its connection (and its buffer) longer.
	defaultReadTimeout = 2 * time.Minute
	// defaultStallTimeout ends a response the client has not read from for
	// this long. It is a deadline on progress, not on the whole answer, so a
	// chunked query may stream for hours to a reader that keeps up.
	defaultStallTimeout = time.Minute
	// defaultMaxHeaderBytes bounds the request line and headers. 64 KiB is far
	// above any client's (a long query in the URL included; long queries go in
	// POST bodies) and far below Go's default 1 MiB per connection.
	defaultMaxHeaderBytes = 64 << 10
	// maxConnectionsCeiling caps the default connection limit: each open
	// connection costs about 20 KB (buffers and a goroutine), so 10,000 of
	// them are 200 MB, which a server of modest size can afford.
	maxConnectionsCeiling = 10_000
	// fdReserve is the descriptors kept for the engine: Pebble opens up to
	// 1,000 tables by default, plus the WAL, the block files and the logs.
	fdReserve = 2_048
)

// defaultMaxConnections is the connection cap below the descriptor limit
// (which Go raises to the hard limit at start-up).
func defaultMaxConnections() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur > 1<<31 {
		return maxConnectionsCeiling
	}
	return max(64, min(maxConnectionsCeiling, int(rl.Cur)-fdReserve))
}

// stallDeadline moves the connection's write deadline forward as the
// response is written (through http.ResponseController, so it must wrap the
// server's own ResponseWriter): every write must make progress within
// timeout. It is not http.Server's WriteTimeout on purpose: that is a
// deadline on the whole response, which would cut a long chunked query off
// from a client reading it as fast as it comes.
//
// The read side needs no such care: http.Server's ReadTimeout bounds the
// request's headers and body, and net/http lifts it once the body is read, so
// it never cancels a long query.
func stallDeadline(next http.Handler, timeout time.Duration) http.Handler {
	if timeout <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		// A deadline left by an earlier request on this connection must not
		// fail this one's first write.
		rc.SetWriteDeadline(time.Time{})
		sw := &stallWriter{ResponseWriter: w, rc: rc, timeout: timeout}
		next.ServeHTTP(sw, r)
		// What net/http still writes after the handler (buffered bytes, the
		// last chunk) is bounded too.
		rc.SetWriteDeadline(time.Now().Add(timeout))
	})
}

// stallWriter moves the write deadline forward as the response is written.
type stallWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	armed   time.Time // when the deadline was last moved
}

// stallSlack is how stale the deadline may get before it is moved: moving it
// on every small write would cost a timer update each; a second of slack on a
// one-minute deadline changes nothing (shorter deadlines get a quarter).
const stallSlack = time.Second

func (s *stallWriter) arm() {
	now := time.Now()
	if now.Sub(s.armed) >= min(stallSlack, s.timeout/4) {
		s.armed = now
		s.rc.SetWriteDeadline(now.Add(s.timeout))
	}
}

func (s *stallWriter) WriteHeader(code int) {
	s.arm()
	s.ResponseWriter.WriteHeader(code)
}

func (s *stallWriter) Write(b []byte) (int, error) {
	s.arm()
	return s.ResponseWriter.Write(b)
}

// Flush lets streamed (chunked) query responses through the wrapper.
func (s *stallWriter) Flush() {
	s.arm()
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection through the wrapper.
func (s *stallWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// connLimiter caps the connections the server holds open. At the cap, Accept
// first closes the connection that has waited longest without a request in
// progress (idle keep-alive, or new and silent), so a flood of idle
// connections cannot lock out real clients; only when every connection is
// busy does Accept wait for one to end (new clients then queue in the
// kernel's backlog rather than being refused).
type connLimiter struct {
	net.Listener
	slots chan struct{}
	done  chan struct{}
	once  sync.Once

	mu      sync.Mutex
	waiting map[net.Conn]time.Time // connections without a request in progress, since when

	open    prometheus.GaugeFunc
	evicted prometheus.Counter
}

func newConnLimiter(ln net.Listener, max int, reg prometheus.Registerer) *connLimiter {
	l := &connLimiter{
		Listener: ln,
		slots:    make(chan struct{}, max),
		done:     make(chan struct{}),
		waiting:  map[net.Conn]time.Time{},
		evicted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_http_connections_evicted_total",
			Help: "Connections without a request in progress closed to make room under --max-connections.",
		}),
	}
	l.open = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "strata_http_connections",
		Help: "Open HTTP connections (limit: --max-connections).",
	}, func() float64 { return float64(len(l.slots)) })
	reg.MustRegister(l.open, l.evicted,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "strata_http_connections_limit",
			Help: "The --max-connections in force.",
		}, func() float64 { return float64(cap(l.slots)) }))
	return l
}

// Accept takes the next connection, then a slot for it: making room only
// once a client is really waiting.
func (l *connLimiter) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	select {
	case l.slots <- struct{}{}:
	default:
		l.evictOldest()
		select {
		case l.slots <- struct{}{}:
		case <-l.done:
			c.Close()
			return nil, net.ErrClosed
		}
	}
	return &limitedConn{Conn: c, release: func() { <-l.slots }}, nil
}

func (l *connLimiter) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// evictOldest closes the connection that has waited longest without a request.
func (l *connLimiter) evictOldest() {
	l.mu.Lock()
	var oldest net.Conn
	var since time.Time
	for c, t := range l.waiting {
		if oldest == nil || t.Before(since) {
			oldest, since = c, t
		}
	}
	delete(l.waiting, oldest)
	l.mu.Unlock()
	if oldest != nil {
		l.evicted.Inc()
		oldest.Close()
	}
}

// connState is the http.Server's ConnState hook: it tracks which connections
// have no request in progress.
func (l *connLimiter) connState(c net.Conn, st http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch st {
	case http.StateNew, http.StateIdle:
		l.waiting[c] = time.Now()
	default:
		delete(l.waiting, c)
	}
}

// limitedConn gives its slot back once, when closed.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
