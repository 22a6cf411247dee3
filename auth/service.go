package auth

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/strata-db/strata/query/influxql"
)

// Errors with InfluxDB 1.x's texts.
var (
	ErrUserNotFound     = errors.New("user not found")
	ErrUserExists       = errors.New("user already exists")
	ErrUsernameRequired = errors.New("username required")
	// ErrAuthFailed is every failed password check, unknown user included, so a
	// client cannot tell which names exist.
	ErrAuthFailed = errors.New("authorization failed")
	// ErrLastAdmin refuses to leave an auth-enabled server without an admin:
	// nobody could create one again (1.x allows it and locks itself out).
	ErrLastAdmin = errors.New("refusing to remove the last admin user while authentication is enabled")
	// ErrNotFirstUser: a statement that may only create the first admin ran
	// after another request created a user.
	ErrNotFirstUser = errors.New("create admin user first or disable authentication")
)

// Persister makes user records durable; the storage engine implements it.
type Persister interface {
	PutUserRecord(name string, rec []byte) error
	DeleteUserRecord(name string) error
	UserRecords() (map[string][]byte, error)
}

// DatabaseChecker tells whether a database exists (GRANT ON an unknown database
// fails, as in 1.x). Optional.
type DatabaseChecker func(db string) bool

// Options configure a Service.
type Options struct {
	// Enabled: requests must authenticate (strata serve --auth-enabled). Users
	// can be managed either way, as in 1.x.
	Enabled bool
	// BcryptCost is the cost of new hashes; 0 means bcrypt.DefaultCost. Tests
	// use bcrypt.MinCost.
	BcryptCost int
	// CacheSize bounds the verified-credential cache (0: 1024 entries).
	CacheSize int
	// DatabaseExists, if set, is asked before a GRANT on a database.
	DatabaseExists DatabaseChecker
	Logger         *slog.Logger
	// FailedLoginLogInterval: a source's failed logins are logged at most once
	// per interval (0: one minute).
	FailedLoginLogInterval time.Duration
}

// UserInfo is one row of SHOW USERS.
type UserInfo struct {
	Name  string
	Admin bool
}

// Grant is one row of SHOW GRANTS.
type Grant struct {
	Database  string
	Privilege influxql.Privilege
}

// Service holds the users of one server. It is safe for concurrent use.
type Service struct {
	p    Persister
	opts Options
	log  *slog.Logger

	mu    sync.RWMutex
	users map[string]record

	// cache of verified credentials: sha256(name, 0, password, 0, hash) -> name.
	// Keyed on the stored hash too, so a changed password misses even before
	// the cache is cleared; cleared on every change of a user for good measure.
	cacheMu sync.Mutex
	cache   map[[32]byte]struct{}

	failed   atomic.Int64
	limiter  failLimiter
	hashCost int
	// dummy is checked against for unknown users, at the cost real hashes have.
	dummy []byte
}

// New loads the users from p.
func New(p Persister, opts Options) (*Service, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.CacheSize <= 0 {
		opts.CacheSize = 1024
	}
	if opts.FailedLoginLogInterval <= 0 {
		opts.FailedLoginLogInterval = time.Minute
	}
	cost := opts.BcryptCost
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return nil, fmt.Errorf("auth: bcrypt cost %d outside %d..%d", cost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	recs, err := p.UserRecords()
	if err != nil {
		return nil, fmt.Errorf("auth: load users: %w", err)
	}
	s := &Service{p: p, opts: opts, log: opts.Logger, users: map[string]record{}, cache: map[[32]byte]struct{}{}, hashCost: cost}
	s.limiter.init(opts.FailedLoginLogInterval)
	if s.dummy, err = bcrypt.GenerateFromPassword([]byte("strata: no such user"), cost); err != nil {
		return nil, err
	}
	for name, b := range recs {
		r, err := decodeRecord(b)
		if err != nil {
			return nil, fmt.Errorf("auth: user %q: %w", name, err)
		}
		s.users[name] = r
	}
	return s, nil
}

// Enabled tells whether requests must authenticate.
func (s *Service) Enabled() bool { return s.opts.Enabled }

// FailedLogins is the number of failed authentications since start.
func (s *Service) FailedLogins() int64 { return s.failed.Load() }

// UserCount is the number of users.
func (s *Service) UserCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.users)
}

// Authenticate checks a user's password. A credential verified before (and not
// invalidated since) is answered from the cache, without bcrypt.
func (s *Service) Authenticate(name, password string) error {
	s.mu.RLock()
	r, ok := s.users[name]
	s.mu.RUnlock()
	if !ok {
		// Spend about the time of a real check so timing does not tell which
		// names exist.
		bcrypt.CompareHashAndPassword(s.dummy, []byte(password))
		return ErrAuthFailed
	}
	key := cacheKey(name, password, r.Hash)
	s.cacheMu.Lock()
	_, hit := s.cache[key]
	s.cacheMu.Unlock()
	if hit {
		return nil
	}
	if bcrypt.CompareHashAndPassword(r.Hash, []byte(password)) != nil {
		return ErrAuthFailed
	}
	s.cacheMu.Lock()
	if len(s.cache) >= s.opts.CacheSize {
		clear(s.cache) // the budget: start over rather than grow
	}
	s.cache[key] = struct{}{}
	s.cacheMu.Unlock()
	return nil
}

func cacheKey(name, password string, hash []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{0})
	h.Write([]byte(password))
	h.Write([]byte{0})
	h.Write(hash)
	var k [32]byte
	h.Sum(k[:0])
	return k
}

func (s *Service) invalidate() {
	s.cacheMu.Lock()
	clear(s.cache)
	s.cacheMu.Unlock()
}

// CreateUser creates a user. Creating an existing user with the same password
// and admin flag succeeds (1.x does so); otherwise it is ErrUserExists. With
// onlyFirst the user is created only if no user exists yet: the check of the
// unauthenticated first-admin request, atomic with the creation.
func (s *Service) CreateUser(name, password string, admin, onlyFirst bool) error {
	if name == "" {
		return ErrUsernameRequired
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.hashCost)
	if err != nil {
		return fmt.Errorf("hash password: %w", err) // bcrypt's texts never quote the password
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if onlyFirst && len(s.users) > 0 {
		return ErrNotFirstUser
	}
	if u, ok := s.users[name]; ok {
		if u.Admin != admin || bcrypt.CompareHashAndPassword(u.Hash, []byte(password)) != nil {
			return ErrUserExists
		}
		return nil
	}
	return s.putLocked(name, record{Hash: hash, Admin: admin, Privileges: map[string]influxql.Privilege{}})
}

// HashPassword returns the bcrypt hash of password at the service's cost:
// what a node set's meta topic carries instead of the password
// (CreateUserHash, SetPasswordHash).
func (s *Service) HashPassword(password string) ([]byte, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.hashCost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	return hash, nil
}

// HasUser tells whether name exists with that password and admin flag: the
// CREATE USER that 1.x accepts as a no-op.
func (s *Service) HasUser(name, password string, admin bool) bool {
	s.mu.RLock()
	u, ok := s.users[name]
	s.mu.RUnlock()
	return ok && u.Admin == admin && bcrypt.CompareHashAndPassword(u.Hash, []byte(password)) == nil
}

// CreateUserHash creates a user whose password has the given bcrypt hash (a
// record of the meta topic). Creating it again with the same hash and admin
// flag is a no-op, so a record applied twice is harmless; another existing
// user of the name is ErrUserExists. onlyFirst as in CreateUser.
func (s *Service) CreateUserHash(name string, hash []byte, admin, onlyFirst bool) error {
	if name == "" {
		return ErrUsernameRequired
	}
	if _, err := bcrypt.Cost(hash); err != nil {
		return fmt.Errorf("user %q: not a bcrypt hash: %w", name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.users[name]; ok {
		if u.Admin == admin && string(u.Hash) == string(hash) {
			return nil
		}
		return ErrUserExists
	}
	if onlyFirst && len(s.users) > 0 {
		return ErrNotFirstUser
	}
	return s.putLocked(name, record{Hash: append([]byte(nil), hash...), Admin: admin, Privileges: map[string]influxql.Privilege{}})
}

// SetPasswordHash sets a user's password hash (a record of the meta topic).
func (s *Service) SetPasswordHash(name string, hash []byte) error {
	if _, err := bcrypt.Cost(hash); err != nil {
		return fmt.Errorf("user %q: not a bcrypt hash: %w", name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[name]
	if !ok {
		return ErrUserNotFound
	}
	u.Hash = append([]byte(nil), hash...)
	return s.putLocked(name, u)
}

// DropUser removes a user.
func (s *Service) DropUser(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[name]
	if !ok {
		return ErrUserNotFound
	}
	if u.Admin && s.lastAdminLocked(name) {
		return ErrLastAdmin
	}
	if err := s.p.DeleteUserRecord(name); err != nil {
		return err
	}
	delete(s.users, name)
	s.invalidate()
	return nil
}

// SetPassword changes a user's password; cached credentials of the old one stop
// working at once.
func (s *Service) SetPassword(name, password string) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.hashCost)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[name]
	if !ok {
		return ErrUserNotFound
	}
	u.Hash = hash
	return s.putLocked(name, u)
}

// SetPrivilege sets (replaces) a user's privilege on a database, as 1.x's GRANT
// and REVOKE do.
func (s *Service) SetPrivilege(name, db string, p influxql.Privilege) error {
	if s.opts.DatabaseExists != nil && !s.opts.DatabaseExists(db) {
		return fmt.Errorf("database not found: %s", db)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[name]
	if !ok {
		return ErrUserNotFound
	}
	privs := make(map[string]influxql.Privilege, len(u.Privileges)+1)
	for k, v := range u.Privileges {
		privs[k] = v
	}
	privs[db] = p
	u.Privileges = privs
	return s.putLocked(name, u)
}

// Privilege is a user's privilege on db (NoPrivileges when none was granted).
func (s *Service) Privilege(name, db string) (influxql.Privilege, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.users[name]
	if !ok {
		return 0, ErrUserNotFound
	}
	return u.Privileges[db], nil
}

// SetAdmin grants or revokes the admin privilege.
func (s *Service) SetAdmin(name string, admin bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[name]
	if !ok {
		return ErrUserNotFound
	}
	if u.Admin && !admin && s.lastAdminLocked(name) {
		return ErrLastAdmin
	}
	u.Admin = admin
	return s.putLocked(name, u)
}

// lastAdminLocked tells whether name is the only admin while auth is enabled.
func (s *Service) lastAdminLocked(name string) bool {
	if !s.opts.Enabled {
		return false
	}
	for n, u := range s.users {
		if n != name && u.Admin {
			return false
		}
	}
	return true
}

func (s *Service) putLocked(name string, r record) error {
	if err := s.p.PutUserRecord(name, encodeRecord(r)); err != nil {
		return err
	}
	s.users[name] = r
	s.invalidate()
	return nil
}

// Users lists the users by name.
func (s *Service) Users() []UserInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]UserInfo, 0, len(s.users))
	for n, u := range s.users {
		out = append(out, UserInfo{Name: n, Admin: u.Admin})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Grants lists a user's privileges by database.
func (s *Service) Grants(name string) ([]Grant, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.users[name]
	if !ok {
		return nil, ErrUserNotFound
	}
	out := make([]Grant, 0, len(u.Privileges))
	for db, p := range u.Privileges {
		out = append(out, Grant{Database: db, Privilege: p})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Database < out[j].Database })
	return out, nil
}

// Vouched is the principal of a user another node of the cluster
// authenticated, named in an internal request the cluster secret signed
// (httpapi/partial.go): no password is checked here, privileges are, at
// each check. False when this node does not know the user (users are not
// replicated between nodes yet): the sending node's check then stands
// alone (docs/format/node-protocol.md, "Authentication").
func (s *Service) Vouched(name string) (*Principal, bool) {
	if name == "" {
		return nil, false
	}
	s.mu.RLock()
	_, ok := s.users[name]
	s.mu.RUnlock()
	if !ok {
		return nil, false
	}
	return &Principal{svc: s, name: name}, true
}

// lookup returns a user's admin flag and privilege on db; ok false if the user
// no longer exists.
func (s *Service) lookup(name, db string) (admin bool, p influxql.Privilege, ok bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.users[name]
	return u.Admin, u.Privileges[db], ok
}

// DropDatabasePrivileges removes every grant on db, as 1.x does when the
// database is dropped.
func (s *Service) DropDatabasePrivileges(db string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, u := range s.users {
		if _, ok := u.Privileges[db]; !ok {
			continue
		}
		privs := make(map[string]influxql.Privilege, len(u.Privileges))
		for k, v := range u.Privileges {
			if k != db {
				privs[k] = v
			}
		}
		u.Privileges = privs
		if err := s.putLocked(name, u); err != nil {
			return err
		}
	}
	return nil
}
