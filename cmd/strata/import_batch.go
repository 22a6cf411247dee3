package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// importBatch is one write request's worth of lines of one input, for one
// database and policy, with the rejects found while reading them.
type importBatch struct {
	input   *importInput
	seq     uint64 // order of registration, for the resume tracker
	db, rp  string
	body    []byte
	ends    []int // end offset in body of each line (a line may hold a '\n' inside a string)
	lines   []int // first physical line number of each line
	rejects []importItem
	endLine int  // last physical line of the input this batch covers
	last    bool // the input's final batch: when it is done, so is the input
}

func (b *importBatch) empty() bool { return len(b.ends) == 0 && len(b.rejects) == 0 }

func (r *importRun) bytesRead() int64 {
	var n int64
	for _, in := range r.inputs {
		n += in.read.Load()
	}
	return n
}

// readInput reads one input into batches for the writers, skipping what a
// previous run already imported when resuming.
func (r *importRun) readInput(ctx context.Context, in *importInput) error {
	skip, done, err := r.tracker.start(in)
	if err != nil {
		return err
	}
	if done {
		return nil
	}
	b := &importBatch{input: in}
	flush := func(last bool) error {
		b.last = last
		if b.empty() && !last {
			return nil
		}
		r.tracker.register(b)
		r.inflight.Add(1)
		select {
		case r.batches <- b:
		case <-ctx.Done():
			r.inflight.Done()
			return ctx.Err()
		}
		b = &importBatch{input: in, db: b.db, rp: b.rp}
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		it, err := in.src.next()
		if errors.Is(err, io.EOF) {
			return flush(true)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", in.name, err)
		}
		if it.endLine <= skip {
			continue
		}
		switch it.kind {
		case itemStatement:
			if err := flush(false); err != nil {
				return err
			}
			r.inflight.Wait() // the statement sees every line before it
			if err := r.statement(ctx, in, it); err != nil {
				return err
			}
		case itemReject:
			it.data = append([]byte(nil), it.data...)
			b.rejects = append(b.rejects, it)
		case itemLine:
			if len(b.ends) > 0 && (b.db != it.db || b.rp != it.rp) {
				if err := flush(false); err != nil {
					return err
				}
			}
			b.db, b.rp = it.db, it.rp
			b.body = append(append(b.body, it.data...), '\n')
			b.ends = append(b.ends, len(b.body))
			b.lines = append(b.lines, it.line)
		}
		b.endLine = it.endLine
		if len(b.ends) >= r.cfg.batchLines || len(b.body) >= r.cfg.batchBytes {
			if err := flush(false); err != nil {
				return err
			}
		}
	}
}

// statement runs one DDL statement of an influx -import file. A failing
// statement is a rejected line, as a failing write is.
func (r *importRun) statement(ctx context.Context, in *importInput, it importItem) error {
	b := &importBatch{input: in, endLine: it.endLine}
	r.tracker.register(b)
	_, err := r.c.queryAll(ctx, string(it.data), "")
	var se *serverError
	switch {
	case err == nil:
	case errors.As(err, &se) && se.Status/100 != 4:
		return err
	case errors.As(err, &se) || !isTransport(err):
		it.kind, it.reason = itemReject, err.Error()
		b.rejects = append(b.rejects, it)
	default:
		return err
	}
	if err := r.logRejects(b); err != nil {
		return err
	}
	r.tracker.done(b)
	return nil
}

func isTransport(err error) bool {
	_, ok := retryable(err)
	var se *serverError
	return ok && !errors.As(err, &se)
}

// send writes a batch; when the server refuses some of its lines (400), it
// sends them one by one to learn which and why: the writes are idempotent
// (every line has its timestamp), so resending the accepted ones is harmless.
func (r *importRun) send(ctx context.Context, b *importBatch) error {
	if len(b.ends) > 0 {
		err := r.writeRetry(ctx, b.db, b.rp, b.body)
		var se *serverError
		switch {
		case err == nil:
			r.lines.Add(int64(len(b.ends)))
		case errors.As(err, &se) && se.Status == http.StatusBadRequest:
			if err := r.sendEach(ctx, b); err != nil {
				return err
			}
		default:
			return fmt.Errorf("write to %s: %w", b.db, err)
		}
	}
	return r.logRejects(b)
}

func (r *importRun) sendEach(ctx context.Context, b *importBatch) error {
	start := 0
	for i, end := range b.ends {
		line := b.body[start:end]
		start = end
		err := r.writeRetry(ctx, b.db, b.rp, line)
		var se *serverError
		switch {
		case err == nil:
			r.lines.Add(1)
		case errors.As(err, &se) && se.Status == http.StatusBadRequest:
			reason := strings.TrimPrefix(se.Message, "partial write: ")
			reason = strings.TrimSuffix(reason, " dropped=1")
			b.rejects = append(b.rejects, importItem{kind: itemReject, line: b.lines[i], data: line[:len(line)-1], reason: reason})
		default:
			return fmt.Errorf("write to %s: %w", b.db, err)
		}
	}
	return nil
}

// writeRetry writes body, waiting and resending while the server says it is
// busy (429/503, after its Retry-After) or cannot be reached.
func (r *importRun) writeRetry(ctx context.Context, db, rp string, body []byte) error {
	for attempt := 0; ; attempt++ {
		err := r.c.write(ctx, db, rp, body)
		wait, again := retryable(err)
		if err == nil || !again || attempt >= maxBatchRetries || ctx.Err() != nil {
			return err
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (r *importRun) logRejects(b *importBatch) error {
	if len(b.rejects) == 0 {
		return nil
	}
	r.rejected.Add(int64(len(b.rejects)))
	return r.rejects.write(b.input.name, b.rejects)
}

// rejectLog is the --rejects file: for each rejected line a comment naming
// file, line and reason, then the line itself, so the file can be fixed and
// imported again (line protocol skips the comments).
type rejectLog struct {
	path   string
	resume bool
	mu     sync.Mutex
	f      *os.File
	w      *bufio.Writer
}

func openRejectLog(path string, resume bool) (*rejectLog, error) {
	l := &rejectLog{path: path, resume: resume}
	if !resume {
		// A previous run's rejects would be mistaken for this one's.
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	return l, nil
}

func (l *rejectLog) write(file string, items []importItem) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil { // created on the first reject: a clean import leaves no file
		f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("open rejects file: %w", err)
		}
		l.f, l.w = f, bufio.NewWriter(f)
	}
	for _, it := range items {
		fmt.Fprintf(l.w, "# %s:%d: %s\n", file, it.line, strings.ReplaceAll(it.reason, "\n", " "))
		l.w.Write(it.data)
		l.w.WriteByte('\n')
	}
	return l.w.Flush()
}

func (l *rejectLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		l.w.Flush()
		l.f.Close()
	}
}

// importState is the --state file: per input (by absolute path), its size
// when the import began and how many of its lines are written (every line up
// to Lines is written or rejected; batches complete out of order, so this is
// the longest completed prefix).
type importState struct {
	Version int                         `json:"version"`
	Files   map[string]*importFileState `json:"files"`
}

type importFileState struct {
	Size  int64 `json:"size"`
	Lines int   `json:"lines"`
	Done  bool  `json:"done"`
}

// importStateVersion is the version of the --state file's JSON.
const importStateVersion = 1

// resumeTracker turns out-of-order batch completions into each input's
// completed prefix and saves it (at most once a second, and at the end).
type resumeTracker struct {
	path     string
	mu       sync.Mutex
	state    importState
	seq      uint64
	next     uint64 // the oldest batch not yet done
	pending  map[uint64]*importBatch
	finished map[uint64]bool
	saved    time.Time
}

func openResumeTracker(path string, resume bool) (*resumeTracker, error) {
	t := &resumeTracker{path: path, state: importState{Version: importStateVersion, Files: map[string]*importFileState{}},
		pending: map[uint64]*importBatch{}, finished: map[uint64]bool{}}
	if !resume {
		return t, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--resume: %w", err)
	}
	if err := json.Unmarshal(b, &t.state); err != nil {
		return nil, fmt.Errorf("--resume: %s is not an import state file: %w", path, err)
	}
	if t.state.Version != importStateVersion {
		return nil, fmt.Errorf("--resume: %s has state version %d, this build reads %d", path, t.state.Version, importStateVersion)
	}
	if t.state.Files == nil {
		t.state.Files = map[string]*importFileState{}
	}
	return t, nil
}

// start returns how many lines of in to skip, or done if a previous run
// imported all of it. A file that changed size since cannot be resumed.
func (t *resumeTracker) start(in *importInput) (skip int, done bool, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.state.Files[in.key]
	if st == nil {
		t.state.Files[in.key] = &importFileState{Size: in.size}
		return 0, false, nil
	}
	if st.Size != in.size {
		return 0, false, fmt.Errorf("--resume: %s is %d bytes now, %d when the import began: start over without --resume", in.name, in.size, st.Size)
	}
	if st.Done {
		in.read.Store(in.size)
	}
	return st.Lines, st.Done, nil
}

func (t *resumeTracker) register(b *importBatch) {
	t.mu.Lock()
	b.seq = t.seq
	t.seq++
	t.pending[b.seq] = b
	t.mu.Unlock()
}

func (t *resumeTracker) done(b *importBatch) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.finished[b.seq] = true
	for t.finished[t.next] {
		p := t.pending[t.next]
		st := t.state.Files[p.input.key]
		st.Lines = max(st.Lines, p.endLine)
		st.Done = st.Done || p.last
		delete(t.pending, t.next)
		delete(t.finished, t.next)
		t.next++
	}
	if time.Since(t.saved) > time.Second {
		if err := t.saveLocked(); err == nil {
			t.saved = time.Now()
		}
	}
}

func (t *resumeTracker) save() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.saveLocked()
}

// saveLocked replaces the state file atomically: a crash leaves the old one
// or the new one.
func (t *resumeTracker) saveLocked() error {
	b, err := json.MarshalIndent(t.state, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(t.path), ".strata-import-state-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	tmp.Close()
	return os.Rename(tmp.Name(), t.path)
}
