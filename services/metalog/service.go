package metalog

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strata-db/strata/storage"
)

// Applier is what the service changes: the storage engine's meta methods
// (version 1), the continuous queries and the users (version 2). The server
// adapts its engine, CQ service and user service to it (cmd/strata).
type Applier interface {
	CreateDatabase(name string, rp *storage.RetentionPolicy) error
	// DropDatabase also drops the database's continuous queries and grants,
	// as the executor does on one node: every node applies it whole.
	DropDatabase(name string) error
	CreateRetentionPolicy(db string, rp storage.RetentionPolicy, makeDefault bool) error
	AlterRetentionPolicy(db, name string, u storage.RetentionPolicyUpdate) error
	DropRetentionPolicy(db, name string) error

	// CreateContinuousQuery stores the normalized statement text.
	CreateContinuousQuery(db, name, text string) error
	DropContinuousQuery(db, name string) error
	// CreateUserHash creates a user whose password has the bcrypt hash;
	// creating it again with the same hash and flag is a no-op.
	CreateUserHash(name string, hash []byte, admin, onlyFirst bool) error
	DropUser(name string) error
	SetPasswordHash(name string, hash []byte) error
	// SetPrivilegeByte sets a user's privilege on a database (0 to 3:
	// none, read, write, all).
	SetPrivilegeByte(user, db string, p byte) error
	SetAdmin(user string, admin bool) error
}

// Options configure a Service.
type Options struct {
	Brokers []string
	// Topic is the meta topic; only its partition 0 is used.
	Topic string
	// Dir holds the applied offset (OffsetFile).
	Dir string
	// Timeout bounds Publish: producing the record and applying it here.
	// Default 10 s.
	Timeout    time.Duration
	ExtraOpts  []kgo.Opt
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// OffsetFile, in Options.Dir, holds the offset of the next meta record to
// apply, in decimal: one line.
const OffsetFile = "META_OFFSET"

// Service consumes the meta topic into an Applier and publishes to it.
type Service struct {
	apply Applier
	opts  Options
	log   *slog.Logger
	cl    *kgo.Client

	applied, failed, corrupt prometheus.Counter

	mu      sync.Mutex // guards waiters and next
	waiters map[[16]byte]chan error
	next    int64 // the offset of the next record to apply
}

// New opens the client, positioned at the stored offset; Run consumes.
func New(apply Applier, opts Options) (*Service, error) {
	if len(opts.Brokers) == 0 || opts.Topic == "" || opts.Dir == "" {
		return nil, errors.New("metalog: brokers, topic and directory are required")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	next, err := readOffset(filepath.Join(opts.Dir, OffsetFile))
	if err != nil {
		return nil, err
	}
	counter := func(n, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: n, Help: help})
	}
	s := &Service{
		apply: apply, opts: opts, log: opts.Logger.With("service", "metalog", "topic", opts.Topic),
		applied: counter("strata_meta_records_applied_total", "Meta-topic records (DDL) applied to this node."),
		failed:  counter("strata_meta_records_failed_total", "Meta-topic records whose operation failed here (logged; the publisher's client got the error)."),
		corrupt: counter("strata_meta_records_corrupt_total", "Meta-topic records that could not be decoded, skipped."),
		waiters: map[[16]byte]chan error{}, next: next,
	}
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(s.applied, s.failed, s.corrupt)
	}
	s.cl, err = kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(opts.Brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{opts.Topic: {0: kgo.NewOffset().At(next)}}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.DefaultProduceTopic(opts.Topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RecordDeliveryTimeout(opts.Timeout),
	}, opts.ExtraOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("metalog: kafka client: %w", err)
	}
	return s, nil
}

// Name implements services.Service.
func (s *Service) Name() string { return "metalog" }

// Run applies the topic's records in order until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	defer s.cl.Close()
	s.log.Info("meta log consumer started", "offset", s.next)
	for ctx.Err() == nil {
		fetches := s.cl.PollFetches(ctx)
		if fetches.IsClientClosed() || ctx.Err() != nil {
			break
		}
		fetches.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.Canceled) {
				s.log.Warn("meta log fetch", "err", err)
			}
		})
		var err error
		fetches.EachRecord(func(r *kgo.Record) {
			if err == nil && r.Partition == 0 {
				err = s.applyRecord(r)
			}
		})
		if err != nil {
			// The offset could not be recorded: stop rather than apply
			// later records over an unknown position.
			return fmt.Errorf("metalog: %w", err)
		}
	}
	s.mu.Lock()
	for id, w := range s.waiters {
		w <- errors.New("meta log stopped before the operation was applied")
		delete(s.waiters, id)
	}
	s.mu.Unlock()
	return nil
}

// applyRecord applies one record, records the next offset, and answers its
// publisher if it is waiting here.
func (s *Service) applyRecord(kr *kgo.Record) error {
	r, derr := Decode(kr.Value)
	var opErr error
	if derr != nil {
		s.corrupt.Inc()
		s.log.Error("meta record skipped", "offset", kr.Offset, "err", derr)
	} else {
		opErr = s.do(r)
		if opErr != nil {
			s.failed.Inc()
			s.log.Warn("meta operation failed", "offset", kr.Offset, "op", r.Op, "database", r.Database, "name", r.Name, "err", opErr)
		} else {
			s.applied.Inc()
		}
	}
	if err := writeOffset(s.opts.Dir, kr.Offset+1); err != nil {
		return err
	}
	s.mu.Lock()
	s.next = kr.Offset + 1
	if w := s.waiters[r.ID]; derr == nil && w != nil {
		w <- opErr
		delete(s.waiters, r.ID)
	}
	s.mu.Unlock()
	return nil
}

func (s *Service) do(r Record) error {
	switch r.Op {
	case OpCreateDatabase:
		if r.HasRP {
			rp := r.RP
			return s.apply.CreateDatabase(r.Database, &rp)
		}
		return s.apply.CreateDatabase(r.Database, nil)
	case OpDropDatabase:
		return s.apply.DropDatabase(r.Database)
	case OpCreateRetentionPolicy:
		return s.apply.CreateRetentionPolicy(r.Database, r.RP, r.MakeDefault)
	case OpAlterRetentionPolicy:
		return s.apply.AlterRetentionPolicy(r.Database, r.Name, r.Update)
	case OpDropRetentionPolicy:
		return s.apply.DropRetentionPolicy(r.Database, r.Name)
	case OpCreateContinuousQuery:
		return s.apply.CreateContinuousQuery(r.Database, r.Name, r.Text)
	case OpDropContinuousQuery:
		return s.apply.DropContinuousQuery(r.Database, r.Name)
	case OpCreateUser:
		return s.apply.CreateUserHash(r.Name, r.Hash, r.Admin, r.OnlyFirst)
	case OpDropUser:
		return s.apply.DropUser(r.Name)
	case OpSetPassword:
		return s.apply.SetPasswordHash(r.Name, r.Hash)
	case OpSetPrivilege:
		return s.apply.SetPrivilegeByte(r.Name, r.Database, r.Privilege)
	case OpSetAdmin:
		return s.apply.SetAdmin(r.Name, r.Admin)
	}
	return fmt.Errorf("unknown operation 0x%02x", byte(r.Op))
}

// Publish sends r to the meta topic and returns once this node has applied
// it, with the operation's error: read-your-writes. With Kafka unreachable
// it fails after Options.Timeout, and nothing is applied anywhere.
func (s *Service) Publish(ctx context.Context, r Record) error {
	rand.Read(r.ID[:])
	w := make(chan error, 1)
	s.mu.Lock()
	s.waiters[r.ID] = w
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.waiters, r.ID)
		s.mu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	rec := &kgo.Record{Partition: 0, Value: r.Append(nil)}
	if err := s.cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
		return fmt.Errorf("meta topic %s: the operation was not published (is Kafka reachable?): %w", s.opts.Topic, err)
	}
	select {
	case err := <-w:
		return err
	case <-ctx.Done():
		return fmt.Errorf("meta topic %s: published at offset %d but not applied here within %v: it will be once this node's meta log catches up", s.opts.Topic, rec.Offset, s.opts.Timeout)
	}
}

func readOffset(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s: not an offset: %q", path, b)
	}
	return n, nil
}

// writeOffset replaces the offset file: temporary file, fsync, rename.
func writeOffset(dir string, next int64) error {
	tmp, err := os.CreateTemp(dir, ".meta-offset-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(strconv.FormatInt(next, 10) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, OffsetFile))
	}
	if err != nil {
		return fmt.Errorf("record meta offset %d: %w", next, err)
	}
	return nil
}
