package console

import (
	"embed"
	"io/fs"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

//go:embed assets
var assets embed.FS

// csp lets the page load only its own files and talk only to the server that
// served it: no request leaves the browser for anywhere else.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// New registers the console's one metric (DiskUsage) and returns its
// handler, for the server's "/" route.
func New(reg prometheus.Registerer, dataDir string) http.Handler {
	DiskUsage(reg, dataDir)
	return Handler()
}

// Handler serves the console: index.html at "/", the assets under
// /console/. Any other path is a 404, as before the console existed.
func Handler() http.Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.StripPrefix("/console/", http.FileServer(http.FS(sub)))
	wordList := serveWords(wordsJSON())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" && !strings.HasPrefix(r.URL.Path, "/console/") {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		switch {
		case r.URL.Path == "/":
			h.Set("Cache-Control", "no-cache")
			b, _ := fs.ReadFile(sub, "index.html")
			h.Set("Content-Type", "text/html; charset=utf-8")
			w.Write(b)
		case r.URL.Path == "/console/words.json":
			wordList(w, r)
		case strings.HasPrefix(r.URL.Path, "/console/") && !strings.HasSuffix(r.URL.Path, "/"):
			h.Set("Cache-Control", "no-cache") // small files; a new binary must not show an old page
			files.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}

// DiskUsage registers strata_disk_bytes{part="index"|"wal"}: the bytes of the
// data directory's parts, which the status page shows and no other metric
// has. A scrape reads sizes at most every diskUsageTTL.
func DiskUsage(reg prometheus.Registerer, dataDir string) {
	d := &diskUsage{dir: dataDir}
	for _, part := range []string{"index", "wal"} {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "strata_disk_bytes",
			Help:        "Bytes on disk of a part of the data directory (index: Pebble, wal: the write-ahead log).",
			ConstLabels: prometheus.Labels{"part": part},
		}, func() float64 { return float64(d.get(part)) }))
	}
}

// diskUsageTTL: walking a data directory of thousands of sstables takes
// milliseconds; ten seconds keeps frequent scrapes from repeating it.
const diskUsageTTL = 10 * time.Second

type diskUsage struct {
	dir   string
	mu    sync.Mutex
	at    time.Time
	sizes map[string]int64
}

func (d *diskUsage) get(part string) int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	if time.Since(d.at) > diskUsageTTL {
		d.sizes = map[string]int64{}
		for _, p := range []string{"index", "wal"} {
			filepath.WalkDir(filepath.Join(d.dir, p), func(_ string, e fs.DirEntry, err error) error {
				if err == nil && e.Type().IsRegular() {
					if info, err := e.Info(); err == nil {
						d.sizes[p] += info.Size()
					}
				}
				return nil
			})
		}
		d.at = time.Now()
	}
	return d.sizes[part]
}
