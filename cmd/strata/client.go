package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// client is the HTTP client of the tools that talk to a running server
// (import, export, shell, backup): one base URL and one set of credentials.
type client struct {
	base     *url.URL
	username string
	password string
	http     *http.Client
}

// clientFlags are the connection flags every tool takes.
type clientFlags struct {
	url, host          string
	port               int
	username, password string
	timeout            time.Duration
}

// bind registers --url, --host, --port, --username and --password on fs.
// --host/--port exist for influx CLI habits; --url wins when both are given.
func (c *clientFlags) bind(fs *flag.FlagSet) {
	fs.StringVar(&c.url, "url", "", "server URL, http(s)://HOST:PORT (default http://127.0.0.1:8086, or from --host/--port)")
	fs.StringVar(&c.host, "host", "127.0.0.1", "server host (when --url is not given)")
	fs.IntVar(&c.port, "port", 8086, "server port (when --url is not given)")
	fs.StringVar(&c.username, "username", "", "user name, when the server has --auth-enabled")
	fs.StringVar(&c.password, "password", "", "password of --username (or set STRATA_PASSWORD)")
	fs.DurationVar(&c.timeout, "timeout", 0, "give up on one request after this long (0: no limit)")
}

func (c *clientFlags) client(env func(string) string) (*client, error) {
	raw := c.url
	if raw == "" {
		raw = "http://" + c.host + ":" + strconv.Itoa(c.port)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("invalid --url %q: want http(s)://HOST:PORT", raw)
	}
	pw := c.password
	if pw == "" && env != nil {
		pw = env("STRATA_PASSWORD")
	}
	return &client{base: u, username: c.username, password: pw, http: &http.Client{Timeout: c.timeout}}, nil
}

// serverError is a non-2xx answer, with InfluxDB's JSON error text when the
// server sent one.
type serverError struct {
	Status     int
	Message    string
	RetryAfter time.Duration
}

func (e *serverError) Error() string {
	return fmt.Sprintf("server answered %d: %s", e.Status, e.Message)
}

// retryable tells whether the same request may succeed later: the server asked
// to come back (429, 503) or was unreachable.
func retryable(err error) (time.Duration, bool) {
	var se *serverError
	if errors.As(err, &se) {
		if se.Status == http.StatusTooManyRequests || se.Status == http.StatusServiceUnavailable {
			return max(se.RetryAfter, 100*time.Millisecond), true
		}
		return 0, false
	}
	var ue *url.Error
	if errors.As(err, &ue) && !errors.Is(err, context.Canceled) {
		return time.Second, true
	}
	return 0, false
}

func (c *client) endpoint(path string, q url.Values) string {
	u := *c.base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawQuery = q.Encode()
	return u.String()
}

// do sends the request with credentials and returns the response when its
// status is 2xx; otherwise it reads the error and closes the body.
func (c *client) do(req *http.Request) (*http.Response, error) {
	if c.username != "" {
		req.SetBasicAuth(c.username, c.password)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	se := &serverError{Status: resp.StatusCode, Message: strings.TrimSpace(string(b))}
	var body struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &body) == nil && (body.Error != "" || body.Message != "") {
		se.Message = body.Error + body.Message
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
		se.RetryAfter = time.Duration(s) * time.Second
	}
	return nil, se
}

// write posts a line-protocol body (timestamps in ns) to /write.
func (c *client) write(ctx context.Context, db, rp string, body []byte) error {
	q := url.Values{"db": {db}, "precision": {"ns"}}
	if rp != "" {
		q.Set("rp", rp)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint("/write", q), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp, err := c.do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// query posts q to /query and returns the raw response body for the caller
// to decode (JSON, chunked JSON or CSV, as params ask). POST because the tools
// run statements that change things.
func (c *client) query(ctx context.Context, q string, params url.Values) (*http.Response, error) {
	form := url.Values{"q": {q}}
	for k, v := range params {
		form[k] = v
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint("/query", nil), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// queryResult is InfluxDB 1.x's JSON answer of one statement.
type queryResult struct {
	StatementID int           `json:"statement_id"`
	Series      []querySeries `json:"series"`
	Messages    []struct {
		Level string `json:"level"`
		Text  string `json:"text"`
	} `json:"messages"`
	Partial bool   `json:"partial"`
	Error   string `json:"error"`
}

type querySeries struct {
	Name    string            `json:"name"`
	Tags    map[string]string `json:"tags"`
	Columns []string          `json:"columns"`
	Values  [][]any           `json:"values"`
	Partial bool              `json:"partial"`
}

// queryAll runs q (non-chunked) and returns its statements' results; a
// statement's error is returned as an error.
func (c *client) queryAll(ctx context.Context, q, db string) ([]queryResult, error) {
	params := url.Values{"epoch": {"ns"}}
	if db != "" {
		params.Set("db", db)
	}
	resp, err := c.query(ctx, q, params)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Results []queryResult `json:"results"`
		Error   string        `json:"error"`
	}
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		return nil, fmt.Errorf("decode query answer: %w", err)
	}
	if body.Error != "" {
		return nil, errors.New(body.Error)
	}
	for _, r := range body.Results {
		if r.Error != "" {
			return body.Results, errors.New(r.Error)
		}
	}
	return body.Results, nil
}

// column returns the string values of the first column of every series of r,
// as SHOW MEASUREMENTS / SHOW TAG KEYS answer them.
func (r queryResult) column(i int) []string {
	var out []string
	for _, s := range r.Series {
		for _, row := range s.Values {
			if i < len(row) {
				if v, ok := row[i].(string); ok {
					out = append(out, v)
				}
			}
		}
	}
	return out
}
