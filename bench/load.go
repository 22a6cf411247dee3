package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxErrorBody bounds how much of a failed response is kept for the report: enough
// for InfluxDB's one-line JSON errors, not a whole echoed body.
const maxErrorBody = 512

// NewClient returns the HTTP client for a run: one Transport that keeps one idle
// connection per worker, so every writer reuses its connection instead of paying a
// TCP handshake per request.
func NewClient(workers int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:               nil, // a benchmark measures the server, never a proxy from the environment
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        workers,
		MaxIdleConnsPerHost: workers,
		IdleConnTimeout:     90 * time.Second,
		// Bodies are sent as generated; the server's answers are tiny.
		DisableCompression: true,
	}}
}

// CreateDatabase runs CREATE DATABASE db through POST /query, as TSBS's loader does.
func CreateDatabase(ctx context.Context, c *http.Client, base, db string) error {
	form := url.Values{"q": {"CREATE DATABASE " + quoteIdent(db)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/query", strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("create database %s: %w", db, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("create database %s: %w", db, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("create database %s: read answer: %w", db, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("create database %s: %s: %s", db, resp.Status, clip(body))
	}
	var r struct {
		Results []struct {
			Err string `json:"error"`
		} `json:"results"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("create database %s: bad answer %q: %w", db, clip(body), err)
	}
	for _, res := range r.Results {
		if res.Err != "" {
			return fmt.Errorf("create database %s: %s", db, res.Err)
		}
	}
	return nil
}

// quoteIdent quotes an InfluxQL identifier when it is not a plain word.
func quoteIdent(s string) string {
	plain := s != ""
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			plain = false
		}
	}
	if plain {
		return s
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func clip(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > maxErrorBody {
		s = s[:maxErrorBody] + "…"
	}
	return s
}

// LoadConfig says where and how to send the bodies.
type LoadConfig struct {
	URL     string // base URL of the server, without a trailing slash
	DB      string
	Workers int
	Client  *http.Client // NewClient(Workers) when nil
}

// LoadResult is what one load measured.
type LoadResult struct {
	Requests      int           `json:"requests"`
	Failed        int           `json:"failed_requests"` // transport errors and answers other than 204
	FirstError    string        `json:"first_error,omitempty"`
	Elapsed       time.Duration `json:"-"`
	Seconds       float64       `json:"seconds"`
	LinesAccepted int64         `json:"lines_accepted"` // lines of the bodies answered with 204
	BytesAccepted int64         `json:"bytes_accepted"` // line protocol bytes (uncompressed) of those bodies
}

// Load POSTs every body of d to <URL>/write?db=<DB> with Workers concurrent writers,
// in the order of the bodies. A failed request is counted and the load goes on; only
// a cancelled ctx stops it early.
func Load(ctx context.Context, cfg LoadConfig, d *Dataset) (LoadResult, error) {
	if cfg.Workers <= 0 {
		return LoadResult{}, fmt.Errorf("workers must be positive, got %d", cfg.Workers)
	}
	client := cfg.Client
	if client == nil {
		client = NewClient(cfg.Workers)
	}
	target := cfg.URL + "/write?" + url.Values{"db": {cfg.DB}}.Encode()
	linesPer := int64(d.Config.BatchLines)
	// Raw sizes per body would need another slice; the average is exact enough for
	// MB/s because only the last body is shorter.
	rawPerLine := float64(d.RawBytes) / float64(max(d.Lines, 1))

	var (
		next     atomic.Int64
		failed   atomic.Int64
		accepted atomic.Int64
		errOnce  sync.Once
		firstErr string
		wg       sync.WaitGroup
	)
	begin := time.Now()
	for range cfg.Workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(len(d.Bodies)) {
					return
				}
				lines := min(linesPer, d.Lines-i*linesPer)
				if err := post(ctx, client, target, d.Bodies[i], d.Config.Gzip); err != nil {
					if ctx.Err() != nil {
						return
					}
					failed.Add(1)
					errOnce.Do(func() { firstErr = fmt.Sprintf("body %d: %v", i, err) })
					continue
				}
				accepted.Add(lines)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(begin)
	if err := ctx.Err(); err != nil {
		return LoadResult{}, fmt.Errorf("load interrupted: %w", err)
	}
	lines := accepted.Load()
	return LoadResult{
		Requests:      len(d.Bodies),
		Failed:        int(failed.Load()),
		FirstError:    firstErr,
		Elapsed:       elapsed,
		Seconds:       elapsed.Seconds(),
		LinesAccepted: lines,
		BytesAccepted: int64(float64(lines) * rawPerLine),
	}, nil
}

// post sends one body and reads the answer to the end so the connection is reused.
func post(ctx context.Context, c *http.Client, target string, body []byte, gz bool) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	if gz {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody+1))
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("%s: %s", resp.Status, clip(msg))
	}
	return nil
}
