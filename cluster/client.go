package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-db/strata/query"
	"github.com/strata-db/strata/query/funcs"
	"github.com/strata-db/strata/query/nodewire"
)

// Path is the internal endpoint of partial execution; its version moves with
// nodewire.Version.
const Path = "/internal/v2/partial"

// maxAnswer bounds a peer's answer body: raw points of a wide raw SELECT can
// be large, but a body beyond this is refused rather than held (1 GiB).
const maxAnswer = 1 << 30

// Options configure a Client.
type Options struct {
	Peers   Peers
	Timeout time.Duration // per peer request; the query's own deadline also applies
	Scheme  string        // "http" or "https"
	HTTP    *http.Client  // nil: a client of its own
	Reg     prometheus.Registerer
	// Secret signs every request (--cluster-secret-file; sign.go). Nil:
	// requests go unsigned, which peers with --auth-enabled refuse.
	Secret Secret
}

// Client fans statements out to the peers; it implements query.Fanout.
type Client struct {
	opts    Options
	latency *prometheus.HistogramVec
	errs    *prometheus.CounterVec
	bytes   *prometheus.CounterVec
}

// New returns a client; its metrics register with opts.Reg when set.
func New(opts Options) *Client {
	if opts.Scheme == "" {
		opts.Scheme = "http"
	}
	if opts.HTTP == nil {
		opts.HTTP = &http.Client{}
	}
	c := &Client{opts: opts,
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "strata_fanout_peer_seconds",
			Help:    "Time a peer took to answer a partial execution, by peer.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}, []string{"peer"}),
		errs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "strata_fanout_peer_errors_total",
			Help: "Partial executions a peer failed or did not answer in time, by peer."}, []string{"peer"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "strata_fanout_peer_bytes_total",
			Help: "Bytes of partial answers received, by peer."}, []string{"peer"}),
	}
	if opts.Reg != nil {
		opts.Reg.MustRegister(c.latency, c.errs, c.bytes)
	}
	return c
}

var _ query.Fanout = (*Client)(nil)

func (c *Client) Peers(ctx context.Context) ([]string, error) { return c.opts.Peers.Resolve(ctx) }

// PeerError is a peer that failed or did not answer.
type PeerError struct {
	Peer string
	Err  error
}

func (e *PeerError) Error() string { return fmt.Sprintf("node %s: %v", e.Peer, e.Err) }
func (e *PeerError) Unwrap() error { return e.Err }

// Partial sends req to every peer at once and waits for all.
func (c *Client) Partial(ctx context.Context, req query.PartialRequest) ([]query.PeerAnswer, []string, error) {
	peers, err := c.opts.Peers.Resolve(ctx)
	if err != nil {
		return nil, nil, err
	}
	answers := make([]query.PeerAnswer, len(peers))
	errs := make([]error, len(peers))
	var wg sync.WaitGroup
	for i, p := range peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i], errs[i] = c.one(ctx, p, req)
		}()
	}
	wg.Wait()
	var out []query.PeerAnswer
	var missing []string
	for i, err := range errs {
		if err == nil {
			out = append(out, answers[i])
			continue
		}
		if ctx.Err() != nil {
			return nil, nil, ctx.Err() // the query itself was stopped
		}
		if !req.AllowPartial {
			return nil, nil, fmt.Errorf("query fan-out: %w", err)
		}
		missing = append(missing, err.Error())
	}
	return out, missing, nil
}

func (c *Client) one(ctx context.Context, peer string, req query.PartialRequest) (query.PeerAnswer, error) {
	start := time.Now()
	resp, n, err := c.do(ctx, peer, req)
	took := time.Since(start)
	c.latency.WithLabelValues(peer).Observe(took.Seconds())
	if err != nil {
		c.errs.WithLabelValues(peer).Inc()
		return query.PeerAnswer{}, &PeerError{Peer: peer, Err: err}
	}
	return query.PeerAnswer{Peer: peer, Resp: resp, Took: took, Bytes: n}, nil
}

func (c *Client) do(ctx context.Context, peer string, req query.PartialRequest) (*nodewire.Response, int, error) {
	if c.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, c.opts.Timeout, fmt.Errorf("no answer within --peer-timeout %s", c.opts.Timeout))
		defer cancel()
	}
	form := EncodeRequest(req)
	if dl, ok := ctx.Deadline(); ok {
		form.Set("deadline", strconv.FormatInt(dl.UnixNano(), 10))
	}
	reqBody := []byte(form.Encode())
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.opts.Scheme+"://"+peer+Path, bytes.NewReader(reqBody))
	if err != nil {
		return nil, 0, err
	}
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	c.opts.Secret.Sign(hr, reqBody, req.User, time.Now())
	resp, err := c.opts.HTTP.Do(hr)
	if err != nil {
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			return nil, 0, cause
		}
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		if cause := context.Cause(ctx); cause != nil {
			return nil, 0, cause
		}
		return nil, 0, err
	}
	if len(body) > maxAnswer {
		return nil, 0, fmt.Errorf("answer larger than %d bytes", maxAnswer)
	}
	c.bytes.WithLabelValues(peer).Add(float64(len(body)))
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("%s: %s", resp.Status, errorText(resp.Header.Get("Content-Type"), body))
	}
	ans, err := nodewire.Decode(body)
	return ans, len(body), err
}

// errorText is a refused request's message: the "error" of a JSON body
// (authentication, authorization), or the body as text.
func errorText(contentType string, body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if strings.HasPrefix(contentType, "application/json") && json.Unmarshal(body, &e) == nil && e.Error != "" {
		return e.Error
	}
	return string(bytes.TrimSpace(body))
}

// EncodeRequest is the form of a partial-execution request
// (docs/format/node-protocol.md).
func EncodeRequest(req query.PartialRequest) url.Values {
	v := url.Values{"q": {req.Statement}, "db": {req.Database}, "rp": {req.RetentionPolicy},
		"now": {strconv.FormatInt(req.Now.UnixNano(), 10)}}
	fields := make([]string, 0, len(req.Schema.Fields))
	for f, t := range req.Schema.Fields {
		fields = append(fields, t.String()+":"+f)
	}
	sort.Strings(fields)
	if len(fields) > 0 {
		v["field"] = fields
	}
	if len(req.Schema.Tags) > 0 {
		v["tag"] = append([]string(nil), req.Schema.Tags...)
	}
	return v
}

// fieldTypes are the names a request's field entries give types by.
var fieldTypes = map[string]funcs.Type{"float": funcs.Float, "integer": funcs.Integer,
	"unsigned": funcs.Unsigned, "string": funcs.String, "boolean": funcs.Boolean}

// DecodeRequest reads the form EncodeRequest writes, and the deadline the
// sender's query has (zero: none).
func DecodeRequest(form url.Values) (query.PartialRequest, time.Time, error) {
	req := query.PartialRequest{Statement: form.Get("q"), Database: form.Get("db"), RetentionPolicy: form.Get("rp")}
	if req.Statement == "" {
		return req, time.Time{}, errors.New("missing q")
	}
	now, err := strconv.ParseInt(form.Get("now"), 10, 64)
	if err != nil {
		return req, time.Time{}, fmt.Errorf("now: %w", err)
	}
	req.Now = time.Unix(0, now).UTC()
	for _, f := range form["field"] {
		typ, name, ok := strings.Cut(f, ":")
		t, known := fieldTypes[typ]
		if !ok || !known || name == "" {
			return req, time.Time{}, fmt.Errorf("field %q: want type:name", f)
		}
		if req.Schema.Fields == nil {
			req.Schema.Fields = map[string]funcs.Type{}
		}
		req.Schema.Fields[name] = t
	}
	req.Schema.Tags = form["tag"]
	var dl time.Time
	if s := form.Get("deadline"); s != "" {
		ns, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return req, time.Time{}, fmt.Errorf("deadline: %w", err)
		}
		dl = time.Unix(0, ns)
	}
	return req, dl, nil
}
