package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/strata-db/strata/auth"
	"github.com/strata-db/strata/cluster"
	"github.com/strata-db/strata/compaction"
	"github.com/strata-db/strata/console"
	"github.com/strata-db/strata/httpapi"
	"github.com/strata-db/strata/ingest"
	"github.com/strata-db/strata/ingest/deadletter"
	"github.com/strata-db/strata/query"
	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/query/resultcache"
	"github.com/strata-db/strata/services"
	"github.com/strata-db/strata/services/cq"
	"github.com/strata-db/strata/services/metalog"
	"github.com/strata-db/strata/storage"
)

// influxVersion is the InfluxDB API version Strata answers as in X-Influxdb-Version:
// some clients look at it to pick the 1.x protocol.
const influxVersion = "1.8.10"

type serveConfig struct {
	// Query fan-out to the other nodes of the set (docs/scale-out.md).
	peers       string
	peersDNS    string
	peersPort   string
	peerTimeout time.Duration
	// --cluster-secret-file, and the secret read from it at start.
	clusterSecretFile string
	clusterSecret     []byte

	dataDir     string
	httpAddr    string
	maxBodySize int64
	maxInflight int64
	maxFields   int

	idleTimeout    time.Duration
	readTimeout    time.Duration
	stallTimeout   time.Duration
	maxHeaderBytes int
	maxConns       int
	maxQueries     int
	maxQueued      int
	headMaxBytes   int64
	seriesCache    int64
	postingsCache  int64
	marksCache     int64
	flushInterval  time.Duration
	maxSeries      int
	maxSeriesTotal int // --max-series
	logLevel       string
	logFormat      string
	shutdownWait   time.Duration
	queryTimeout   time.Duration
	maxSelSeries   int
	maxSelBuckets  int64
	maxSelPoints   int64
	maxQueryMem    int64
	queryCache     int64 // --query-cache-size
	retentionTick  time.Duration
	cqLateHorizon  time.Duration // --cq-late-horizon; 0: the source retention
	cqRunInterval  time.Duration // --cq-run-interval
	memoryLimit    int64
	gcPercent      int
	gcHeapFloor    int64
	rpAutoCreate   bool

	authEnabled  bool
	pprofEnabled bool
	metricsAuth  bool
	tlsCert      string
	tlsKey       string
	bcryptCost   int // 0: bcrypt's default; the tests lower it

	promFieldName string
	kafka         kafkaConfig
	nodeID        string // --node-id; "" : a standalone server
	readyMaxLag   int64  // --ready-max-lag
}

// defaultServeConfig is the configuration of `strata serve` without flags; the
// embedded server of `strata bench` and the tests start from it too.
func defaultServeConfig() serveConfig {
	return serveConfig{
		dataDir:     "./strata-data",
		httpAddr:    "127.0.0.1:8086",
		maxBodySize: 25_000_000,
		maxInflight: ingest.DefaultMaxInflightWriteBytes,
		maxFields:   ingest.DefaultMaxFieldsPerLine,

		idleTimeout:    defaultIdleTimeout,
		readTimeout:    defaultReadTimeout,
		stallTimeout:   defaultStallTimeout,
		maxHeaderBytes: defaultMaxHeaderBytes,
		maxConns:       defaultMaxConnections(),
		maxQueries:     httpapi.DefaultMaxConcurrentQueries(),
		maxQueued:      httpapi.DefaultMaxQueuedQueries,
		headMaxBytes:   32 << 20,
		seriesCache:    storage.DefaultSeriesCacheBytes,
		postingsCache:  storage.DefaultPostingsCacheBytes,
		marksCache:     storage.DefaultMarksCacheBytes,
		memoryLimit:    0,
		gcPercent:      50,
		gcHeapFloor:    defaultGCHeapFloor,
		flushInterval:  10 * time.Minute,
		maxSeries:      1_000_000,
		// Six databases of 1 M series each written at once reached 4 GB
		// (~700 bytes per series being written); ten million bounds that near
		// 7 GB on a machine that has not set --memory-limit lower.
		maxSeriesTotal: 10_000_000,
		logLevel:       "info",
		logFormat:      "text",
		shutdownWait:   30 * time.Second,
		queryTimeout:   0,
		maxSelSeries:   1_000_000,
		maxSelBuckets:  1_000_000,
		maxSelPoints:   0,
		// 256 MiB: the largest answer of the TSBS day (SELECT * over 8.6 M values,
		// about 150 MB of JSON) still fits unchunked, while one runaway query
		// (GROUP BY time(1s) over weeks, an unchunked dump) stops with an error at a
		// quarter of a 1 GiB machine instead of taking the process down.
		maxQueryMem:   256 << 20,
		queryCache:    64 << 20, // a dashboard wall's refreshes: 100 series × 6 h of minutes is ~3 MB of rows (docs/cache.md)
		retentionTick: 30 * time.Minute,
		cqRunInterval: time.Second,
		rpAutoCreate:  true,
		promFieldName: "value",
		kafka:         defaultKafkaConfig(),
		readyMaxLag:   defaultReadyMaxLag,
		peerTimeout:   10 * time.Second,
	}
}

func serveCommand(args []string, stdout, stderr io.Writer) int {
	var cfg serveConfig
	fs := serveFlags(&cfg, defaultServeConfig(), stderr)
	if status, ok := parseFlags(fs, args); !ok {
		return status
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "strata serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	logger, err := newLogger(stderr, cfg.logLevel, cfg.logFormat)
	if err != nil {
		fmt.Fprintf(stderr, "strata serve: %v\n", err)
		return 2
	}
	applyMemoryPlan(&cfg, fs)
	if cfg.memoryLimit > 0 {
		debug.SetMemoryLimit(planMemory(cfg.memoryLimit, cfg.maxQueries).goLimit)
	}
	if cfg.gcPercent > 0 && os.Getenv("GOGC") == "" { // an explicit GOGC wins
		debug.SetGCPercent(cfg.gcPercent)
		if cfg.gcHeapFloor > 0 {
			defer startGCFloor(cfg.gcPercent, uint64(cfg.gcHeapFloor))()
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, cfg, logger, nil); err != nil {
		logger.Error("server stopped", "err", err)
		return 1
	}
	return 0
}

// serveFlags binds the flags of `strata serve` to cfg, each defaulting to its
// value in d; the tests parse case settings through it too.
func serveFlags(cfg *serveConfig, d serveConfig, stderr io.Writer) *flag.FlagSet {
	*cfg = d
	fs := flag.NewFlagSet("strata serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.peers, "peers", d.peers, "comma-separated HOST:PORT of the other nodes of the set: every SELECT and SHOW is answered by all of them (docs/scale-out.md)")
	fs.StringVar(&cfg.peersDNS, "peers-dns", d.peersDNS, "NAME or NAME:PORT resolved on each query to the nodes of the set (a Kubernetes headless service); this node's own addresses are left out")
	fs.StringVar(&cfg.peersPort, "peers-port", d.peersPort, "port of the --peers-dns addresses when NAME has none")
	fs.DurationVar(&cfg.peerTimeout, "peer-timeout", d.peerTimeout, "a peer that has not answered a fanned-out query within this fails it, naming the node (or, with partial=true, is left out with a warning)")
	fs.StringVar(&cfg.clusterSecretFile, "cluster-secret-file", d.clusterSecretFile, "file holding the secret every node of the set shares (at least 16 bytes; a trailing newline is dropped): internal requests are signed with it (HMAC-SHA256) and unsigned ones refused; required with --auth-enabled and --peers or --peers-dns (docs/cluster-operations.md)")
	fs.StringVar(&cfg.dataDir, "data-dir", d.dataDir, "directory holding the database (created if missing)")
	fs.StringVar(&cfg.httpAddr, "http-addr", d.httpAddr, "HOST:PORT the HTTP API listens on (port 0 picks a free one)")
	fs.Int64Var(&cfg.maxBodySize, "max-body-size", d.maxBodySize, "largest write request body accepted, in bytes as sent (compressed); larger ones get 413")
	fs.Int64Var(&cfg.maxInflight, "max-inflight-write-bytes", d.maxInflight, "most memory all write request bodies being read and parsed may hold at once, in bytes (inflated gzip counts); past it writes get 429 with Retry-After (0: no limit)")
	fs.IntVar(&cfg.maxFields, "max-fields-per-line", d.maxFields, "reject a line with more fields than this with 400, keeping the rest of the batch (-1: no limit)")
	fs.Int64Var(&cfg.headMaxBytes, "head-max-bytes", d.headMaxBytes, "memory for recent points before they are flushed to column blocks, in bytes (block merging makes small flushes cheap at rest)")
	fs.Int64Var(&cfg.seriesCache, "series-cache-size", d.seriesCache, "memory for series keys and IDs read from the tag index, in bytes: the write path's series lookups beyond it read Pebble (0: the default)")
	fs.Int64Var(&cfg.postingsCache, "postings-cache-size", d.postingsCache, "memory for tag posting lists read from the tag index, in bytes: query tag lookups beyond it read Pebble (0: the default)")
	fs.Int64Var(&cfg.marksCache, "block-marks-cache-size", d.marksCache, "memory for block marks, the decoding states that let a time-range read start in the middle of a stored block (storage/marks.go), in bytes: blocks beyond it are decoded from their start (0: the default)")
	fs.Int64Var(&cfg.memoryLimit, "memory-limit", d.memoryLimit, "memory of the whole process, in bytes (0: none): the budgets not set by their own flags (--max-inflight-write-bytes, --head-max-bytes, --max-query-memory, the index caches) are derived from it (cmd/strata/memory.go), and the Go runtime's soft limit is it less Pebble's 192 MiB of memtables and cache")
	// 50 rather than Go's 100: measured on TSBS cpu (100 hosts x 24 h, strata bench
	// --url --pid), peak RSS 263 MB -> 192 MB for 7.6 -> 6.4 M values/s.
	fs.IntVar(&cfg.gcPercent, "gc-percent", d.gcPercent, "garbage collection target: heap growth over live data before a collection, in percent (Go's GOGC); lower trades CPU for memory")
	fs.Int64Var(&cfg.gcHeapFloor, "gc-heap-floor", d.gcHeapFloor, "smallest heap, in bytes, the collector lets grow before a collection while live data is small: the GC percent is raised after each collection until live data plus its growth reach it, and is --gc-percent again once live data alone does (cmd/strata/gcfloor.go; 0: off; ignored with GOGC set)")
	fs.DurationVar(&cfg.flushInterval, "flush-interval", d.flushInterval, "flush recent points to column blocks at least this often (bounds WAL replay after a crash)")
	fs.IntVar(&cfg.maxSeries, "max-series-per-database", d.maxSeries, "reject points that would create more series in one database (-1: no limit)")
	fs.IntVar(&cfg.maxSeriesTotal, "max-series", d.maxSeriesTotal, "reject points that would create more series in all databases together (0: no limit)")
	fs.DurationVar(&cfg.idleTimeout, "http-idle-timeout", d.idleTimeout, "close a keep-alive connection that has had no request for this long")
	fs.DurationVar(&cfg.readTimeout, "http-read-timeout", d.readTimeout, "longest a request, headers and body, may take to arrive (slower bodies get 408; 0: no limit)")
	fs.DurationVar(&cfg.stallTimeout, "http-stall-timeout", d.stallTimeout, "end a response the client has not read from for this long (a deadline on progress: long chunked answers to a reading client are not cut; 0: no limit)")
	fs.IntVar(&cfg.maxHeaderBytes, "http-max-header-bytes", d.maxHeaderBytes, "largest request line plus headers, in bytes (larger: 431)")
	fs.IntVar(&cfg.maxConns, "max-connections", d.maxConns, "most HTTP connections open at once (default: below the file-descriptor limit); at the cap the longest-idle connection is closed, or new ones wait (0: no limit)")
	fs.IntVar(&cfg.maxQueries, "max-concurrent-queries", d.maxQueries, "most /query requests running at once (default: two per core, at least 4; 0: no limit); SHOW QUERIES and KILL QUERY always run")
	fs.IntVar(&cfg.maxQueued, "max-queued-queries", d.maxQueued, "most /query requests waiting for a turn; beyond them 503 with Retry-After")
	fs.StringVar(&cfg.logLevel, "log-level", d.logLevel, "log level: debug, info, warn or error")
	fs.StringVar(&cfg.logFormat, "log-format", d.logFormat, "log format: text or json")
	fs.DurationVar(&cfg.shutdownWait, "shutdown-timeout", d.shutdownWait, "on SIGINT/SIGTERM, how long in-flight requests may take to finish")
	fs.DurationVar(&cfg.queryTimeout, "query-timeout", d.queryTimeout, "end a query statement that runs longer than this with an error (0: no limit)")
	fs.IntVar(&cfg.maxSelSeries, "max-select-series", d.maxSelSeries, "most series one SELECT may read")
	fs.Int64Var(&cfg.maxSelBuckets, "max-select-buckets", d.maxSelBuckets, "most GROUP BY time windows one SELECT may produce per series")
	fs.Int64Var(&cfg.maxSelPoints, "max-select-points", d.maxSelPoints, "most points one SELECT may read (0: no limit)")
	fs.Int64Var(&cfg.queryCache, "query-cache-size", d.queryCache, "memory for the result cache of GROUP BY time aggregates, in bytes, e.g. 67108864: rendered rows and per-window partial states reused by repeated queries until a write touches their window (docs/cache.md; 0: off)")
	fs.Int64Var(&cfg.maxQueryMem, "max-query-memory", d.maxQueryMem, "most memory one query may hold, in bytes: rows it materializes, window states, decoded blocks, the unchunked answer (0: no limit); past it the statement ends with an error (chunked raw SELECTs stream and stay far below it)")
	fs.BoolVar(&cfg.rpAutoCreate, "retention-autocreate", d.rpAutoCreate, "CREATE DATABASE without a retention policy creates the default policy \"autogen\" (keep forever); false: the database gets none until one is created (InfluxDB's meta.retention-autocreate)")
	fs.DurationVar(&cfg.cqLateHorizon, "cq-late-horizon", d.cqLateHorizon, "how far back (from now) a late write, DELETE or DROP SERIES makes continuous queries recompute the windows it touched (0 or more than the source retention policy's duration: that duration, so expiring raw data never erases rollups)")
	fs.DurationVar(&cfg.cqRunInterval, "cq-run-interval", d.cqRunInterval, "how often continuous queries are checked for due runs and windows made dirty by late data (InfluxDB's continuous_queries.run-interval)")
	fs.DurationVar(&cfg.retentionTick, "retention-check-interval", d.retentionTick, "how often data older than its retention policy is deleted")
	fs.BoolVar(&cfg.authEnabled, "auth-enabled", d.authEnabled, "require credentials (u/p parameters, Basic auth or 'Authorization: Token user:password') and enforce user privileges, as InfluxDB's http.auth-enabled; until a user exists, only CREATE USER ... WITH ALL PRIVILEGES is accepted")
	fs.BoolVar(&cfg.pprofEnabled, "pprof-enabled", d.pprofEnabled, "serve Go profiles under /debug/pprof/ (admin users only when --auth-enabled)")
	fs.BoolVar(&cfg.metricsAuth, "metrics-auth", d.metricsAuth, "require credentials for /metrics (needs --auth-enabled)")
	fs.StringVar(&cfg.tlsCert, "tls-cert", d.tlsCert, "PEM certificate (chain) file: serve HTTPS instead of HTTP (needs --tls-key; reloaded on SIGHUP and when the files change)")
	fs.StringVar(&cfg.tlsKey, "tls-key", d.tlsKey, "PEM private key file of --tls-cert")
	fs.StringVar(&cfg.promFieldName, "prom-field-name", d.promFieldName, "field that Prometheus remote-write samples are stored in (measurement = metric name, tags = labels)")
	kafkaFlags(fs, &cfg.kafka, d.kafka)
	fs.StringVar(&cfg.nodeID, "node-id", d.nodeID, "stable identity of this server in a cluster (in Kubernetes, the pod name): recorded in --data-dir on the first start, refused later on a directory recorded with another; the Kafka static-membership ID unless --kafka-instance-id is given")
	fs.Int64Var(&cfg.readyMaxLag, "ready-max-lag", d.readyMaxLag, "/ready answers 200 once every Kafka partition this server owns is at most this many records behind its high watermark")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: strata serve [flags]

Runs the Strata server: InfluxDB 1.x/2.x write API (/write, /api/v2/write), InfluxQL
queries (/query), /ping, /health, Prometheus metrics (/metrics) and, with
--pprof-enabled, pprof (/debug/pprof/).
SIGINT or SIGTERM stops it gracefully: no new requests, in-flight writes finish, recent
points are flushed, exit status 0.

Flags:
`)
		fs.PrintDefaults()
	}
	return fs
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("bad --log-level %q", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("bad --log-format %q", format)
}

// server is a running Strata: the storage engine and the HTTP API in front of it.
type server struct {
	eng   *storage.Engine
	http  *http.Server
	certs *certReloader // nil without TLS
	ln    net.Listener
	log   *slog.Logger
	done  chan error // Serve's result

	background *services.Group // block merging, retention enforcement
	merger     *compaction.BlockMerger
}

// startServer opens the storage in cfg.dataDir and starts serving HTTP on
// cfg.httpAddr. It returns once requests are accepted.
func startServer(cfg serveConfig, log *slog.Logger) (*server, error) {
	if err := validateFanout(cfg); err != nil {
		return nil, err
	}
	if err := loadClusterSecret(&cfg, log); err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	flushed := make(chan struct{}, 1)
	// The CQ service observes the engine from its first replayed WAL record,
	// so it exists before the engine opens (services/cq, storage/touch.go).
	cqs := cq.New(cq.Options{LateHorizon: cfg.cqLateHorizon, RunInterval: cfg.cqRunInterval, Logger: log, Registerer: reg})
	if err := claimNodeID(cfg.dataDir, cfg.nodeID); err != nil {
		return nil, err
	}
	if cfg.kafka.instance == "" {
		cfg.kafka.instance = cfg.nodeID
	}
	observers := []storage.TouchObserver{cqs}
	var cache *resultcache.Cache
	if cfg.queryCache > 0 {
		// The cache's generations hear of every change, like the CQ service.
		gens := resultcache.NewGenerations()
		cache = resultcache.New(gens, cfg.queryCache)
		observers = append(observers, gens)
		registerCacheMetrics(reg, cache)
	}
	eng, err := storage.Open(storage.Options{
		Observers:             observers,
		Dir:                   cfg.dataDir,
		HeadMaxBytes:          cfg.headMaxBytes,
		SeriesCacheBytes:      cfg.seriesCache,
		PostingsCacheBytes:    cfg.postingsCache,
		MarksCacheBytes:       cfg.marksCache,
		FlushInterval:         cfg.flushInterval,
		MaxSeriesPerDatabase:  cfg.maxSeries,
		MaxSeries:             cfg.maxSeriesTotal,
		NoRetentionAutoCreate: !cfg.rpAutoCreate,
		Logger:                log,
		Registerer:            reg,
		AfterFlush: func() {
			select {
			case flushed <- struct{}{}:
			default: // a merge is already due
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("open storage in %s: %w", cfg.dataDir, err)
	}
	users, certs, err := securitySetup(cfg, eng, log, reg)
	if err != nil {
		eng.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.httpAddr)
	if err != nil {
		eng.Close()
		return nil, err
	}
	letters, err := deadletter.Open(eng, deadletter.Options{Logger: log, Registerer: reg})
	if err != nil {
		ln.Close()
		eng.Close()
		return nil, fmt.Errorf("dead-letter store: %w", err)
	}
	kstatus := &kafkaStatus{}
	cqc, err := newCQCluster(cfg, kstatus, log) // nil: one node (cqcluster.go)
	if err != nil {
		ln.Close()
		eng.Close()
		return nil, err
	}
	if cqc != nil {
		cqs.SetCluster(cqc)
	}
	meta, err := newMetaLog(cfg.kafka, cfg.dataDir, metaApplier{eng, cqs, users}, log, reg)
	if err != nil {
		ln.Close()
		eng.Close()
		return nil, err
	}
	handler := stallDeadline(guardOrigin(newHTTPHandler(eng, cfg, log, reg, users, letters, kstatus, cqs, cache, meta), listensOnLoopback(ln.Addr())), cfg.stallTimeout)
	var connState func(net.Conn, http.ConnState)
	if cfg.maxConns > 0 {
		limiter := newConnLimiter(ln, cfg.maxConns, reg)
		ln, connState = limiter, limiter.connState
	}
	s := &server{
		eng:   eng,
		ln:    ln,
		log:   log,
		certs: certs,
		http: &http.Server{
			Handler:           handler,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       cfg.readTimeout,
			IdleTimeout:       cfg.idleTimeout,
			MaxHeaderBytes:    cfg.maxHeaderBytes,
			ConnState:         connState,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		done: make(chan error, 1),
	}
	log.Info("strata listening", "addr", ln.Addr().String(), "tls", certs != nil, "auth", cfg.authEnabled, "data_dir", cfg.dataDir, "version", version)
	if certs != nil {
		s.http.TLSConfig = certs.tlsConfig()
		go func() { s.done <- s.http.ServeTLS(ln, "", "") }()
	} else {
		go func() { s.done <- s.http.Serve(ln) }()
	}
	s.merger = compaction.NewBlockMerger(eng, log)
	s.background = services.NewGroup(log, reg)
	if err := startServices(s.background, cfg, eng, s.merger, flushed, log, ingestDeps{letters, kstatus, reg, meta, cqc}, cqs); err != nil {
		s.stopServing()
		return nil, err
	}
	return s, nil
}

// startServices starts the server's background work, each piece a service of
// one group that shutdown stops in reverse order.
func startServices(g *services.Group, cfg serveConfig, eng *storage.Engine, merger *compaction.BlockMerger, flushed <-chan struct{}, log *slog.Logger, in ingestDeps, cqs *cq.Service) error {
	// 10 minutes: flushes trigger merges; the timer only catches partitions
	// left several-blocked by a run that stopped before merging.
	err := g.Start(services.Func{ServiceName: "block-merger", Loop: func(ctx context.Context) error {
		merger.Run(ctx, flushed, 10*time.Minute)
		return nil
	}})
	if err == nil && cfg.retentionTick > 0 {
		err = g.Start(services.Func{ServiceName: "retention", Loop: func(ctx context.Context) error {
			compaction.NewRetentionEnforcer(eng, log).Run(ctx, cfg.retentionTick)
			return nil
		}})
	}
	if err == nil && in.cqc != nil {
		err = g.Start(in.cqc.service()) // the CQ runner's producer, stopped after it
	}
	if err == nil {
		// Before the consumers: stopped after them, it sees their last writes.
		err = g.Start(cqs)
	}
	if err == nil && in.meta != nil {
		// Before the consumers: the DDL of the set is applied as they write.
		err = g.Start(in.meta)
	}
	if err == nil {
		err = startKafka(g, cfg.kafka, eng, in, log)
	}
	return err
}

// stopServing stops the background services and the certificate reloader and
// closes the storage, without a final flush: the path of a server that failed.
func (s *server) stopServing() {
	s.http.Close()
	if err := s.background.Stop(); err != nil {
		s.log.Error("background services", "err", err)
	}
	if s.certs != nil {
		s.certs.stop()
	}
	s.eng.Close()
}

// Addr returns the address the server listens on.
func (s *server) Addr() string { return s.ln.Addr().String() }

// shutdown stops accepting requests, lets in-flight ones finish (up to wait), then
// flushes and closes the storage.
func (s *server) shutdown(wait time.Duration) error {
	s.log.Info("shutting down: finishing in-flight requests")
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := s.http.Shutdown(ctx); err != nil {
		s.log.Warn("in-flight requests did not finish in time", "err", err)
	}
	if err := s.background.Stop(); err != nil {
		s.log.Error("background services", "err", err)
	}
	if s.certs != nil {
		s.certs.stop()
	}
	s.log.Info("flushing and closing storage")
	// Flush, then merge what the flushes of this run left in several blocks,
	// holding none back for being written recently (nothing will be), so the
	// data at rest is in its final form.
	if err := s.eng.Flush(); err != nil {
		s.log.Error("flush", "err", err)
	} else if n, err := s.merger.MergeAll(context.Background()); err != nil {
		s.log.Error("block merge", "err", err)
	} else if n > 0 {
		s.log.Info("blocks merged", "partitions", n)
	}
	if err := s.eng.Close(); err != nil {
		return fmt.Errorf("close storage: %w", err)
	}
	s.log.Info("stopped")
	return nil
}

// serve runs the server until ctx is cancelled, then shuts down gracefully. ready, if
// not nil, is called with the listening address once requests are accepted.
func serve(ctx context.Context, cfg serveConfig, log *slog.Logger, ready func(addr string)) error {
	s, err := startServer(cfg, log)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(s.Addr())
	}
	select {
	case err := <-s.done:
		s.stopServing()
		return err
	case <-ctx.Done():
	}
	return s.shutdown(cfg.shutdownWait)
}

func newHTTPHandler(eng *storage.Engine, cfg serveConfig, log *slog.Logger, reg *prometheus.Registry, users *auth.Service, letters *deadletter.Store, kstatus *kafkaStatus, cqs *cq.Service, cache *resultcache.Cache, meta *metalog.Service) http.Handler {
	inflight := ingest.NewByteBudget(cfg.maxInflight)
	admission := httpapi.NewAdmission(cfg.maxQueries, cfg.maxQueued, reg)
	if cfg.memoryLimit > 0 {
		gate := newHeapGate(cfg.memoryLimit, cfg.maxQueries)
		inflight.SetMemoryPressure(gate.near)
		admission.SetMemoryPressure(gate.near)
	}
	writes := ingest.NewHandler(eng, ingest.Options{MaxBodySize: cfg.maxBodySize, Logger: log, Registerer: reg, Auth: users,
		DeadLetters: letters, PromFieldName: cfg.promFieldName, Reader: eng,
		AuthorizeRead: func(p *auth.Principal, db string) bool { return p.AuthorizeDatabase(influxql.ReadPrivilege, db) },
		Inflight:      inflight, MaxFieldsPerLine: cfg.maxFields})
	var store query.Store = eng
	if meta != nil {
		store = metaStore{eng, meta} // DDL through the meta topic
	}
	exec := query.NewExecutor(store, log, query.Limits{
		MaxSeries:  cfg.maxSelSeries,
		MaxBuckets: cfg.maxSelBuckets,
		MaxPoints:  cfg.maxSelPoints,
		Timeout:    cfg.queryTimeout,
		MaxMemory:  cfg.maxQueryMem,
	})
	if meta != nil { // users and continuous queries through the meta topic too (metalog.go)
		exec.SetUsers(metaUsers{users, meta})
		exec.SetContinuousQueries(metaCQs{cqs, meta})
	} else {
		exec.SetUsers(users)
		exec.SetContinuousQueries(cqs)
	}
	exec.SetResultCache(cache)
	exec.SetRollups(cqs) // real-time answers on rollup measurements (docs/rollups.md)
	cqs.SetExecutor(exec)
	if f := newFanout(cfg, reg); f != nil {
		exec.SetFanout(f)
	}
	queries := httpapi.NewQueryHandler(exec, log)
	queries.SetAuth(users)
	queries.SetAdmission(admission)
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "strata_query_rows_examined_total",
		Help: "Rows (points, series) the query engine's loops have handled: its progress, which stops when a query is stopped.",
	}, func() float64 { return float64(exec.RowsExamined()) }))

	mux := http.NewServeMux()
	mux.HandleFunc("/write", writes.ServeV1)
	mux.HandleFunc("/api/v2/write", writes.ServeV2)
	mux.HandleFunc("/api/v1/prom/write", writes.ServeProm) // InfluxDB 1.x's path
	mux.HandleFunc("/api/v1/write", writes.ServeProm)      // Prometheus' own receiver's
	mux.HandleFunc("/api/v1/prom/read", writes.ServePromRead)
	mux.Handle("/query", queries)
	mux.Handle(cluster.Path, httpapi.NewPartialHandler(exec, httpapi.PartialOptions{Node: cfg.httpAddr, Log: log, Secret: cfg.clusterSecret, Users: users}))
	mux.Handle("/internal/v1/cq/", cqMarksHandler(cqs, cfg.clusterSecret, func() bool { return users != nil && users.Enabled() })) // a node set's CQ runner takes the marks (cqcluster.go)
	mux.HandleFunc("/ping", servePing)
	mux.HandleFunc("/status", servePing) // deprecated alias of /ping kept by InfluxDB 1.x
	mux.HandleFunc("/health", healthHandler(eng))
	mux.HandleFunc("/ready", readyHandler(kstatus, cfg.readyMaxLag))
	mux.Handle("/backup", requireUser(users, true, newBackupHandler(eng, cfg.dataDir, log)))
	mux.Handle("/", console.New(reg, cfg.dataDir))
	mux.Handle("/api/v1/kafka/status", requireUser(users, false, kstatus))
	var metrics http.Handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
	if cfg.metricsAuth {
		metrics = requireUser(users, false, metrics)
	}
	mux.Handle("/metrics", metrics)
	if cfg.pprofEnabled {
		pprofHandlers(mux, users)
	}

	responses := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "strata_http_responses_total",
		Help: "HTTP responses by endpoint and status code.",
	}, []string{"path", "code"})
	reg.MustRegister(responses)
	return influxHeaders(countResponses(mux, responses))
}

// influxHeaders sets the headers InfluxDB puts on every response.
func influxHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var id [16]byte
		rand.Read(id[:])
		rid := hex.EncodeToString(id[:])
		h := w.Header()
		h.Set("X-Influxdb-Version", influxVersion)
		h.Set("X-Influxdb-Build", "Strata")
		h.Set("Request-Id", rid)
		h.Set("X-Request-Id", rid)
		next.ServeHTTP(w, r)
	})
}

// knownPaths keeps the metric's label set bounded whatever clients request.
var knownPaths = map[string]bool{"/write": true, "/api/v2/write": true, "/api/v1/prom/write": true, "/api/v1/write": true, "/api/v1/kafka/status": true, "/api/v1/prom/read": true, "/query": true, "/ping": true, "/health": true, "/ready": true, "/metrics": true}

func countResponses(next http.Handler, c *prometheus.CounterVec) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		path := r.URL.Path
		if !knownPaths[path] {
			path = "other"
		}
		c.WithLabelValues(path, strconv.Itoa(sw.status)).Inc()
	})
}

type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wroteHeader {
		s.status, s.wroteHeader = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	s.wroteHeader = true
	return s.ResponseWriter.Write(b)
}

// Flush lets streamed (chunked) query responses through the wrapper.
func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func servePing(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
