package auth

import (
	"fmt"

	"github.com/strata-db/strata/query/influxql"
)

// Principal is who sends a request on an auth-enabled server: an authenticated
// user, or (before any user exists) the anonymous client allowed to create the
// first admin. Privileges are looked up at each check, so a REVOKE or DROP USER
// applies to statements of a query already running.
type Principal struct {
	svc       *Service
	name      string
	bootstrap bool
}

// Name is the user's name ("" for the first-admin bootstrap).
func (p *Principal) Name() string { return p.name }

// Bootstrap tells that no user existed when the request came: it may only
// create the first admin (and only if still no user exists then).
func (p *Principal) Bootstrap() bool { return p.bootstrap }

// IsAdmin tells whether the user has the admin privilege now.
func (p *Principal) IsAdmin() bool {
	if p.bootstrap {
		return false
	}
	admin, _, ok := p.svc.lookup(p.name, "")
	return ok && admin
}

// AuthorizeDatabase tells whether the user may use db with priv: admins may
// everything; others need the privilege itself or ALL on db.
func (p *Principal) AuthorizeDatabase(priv influxql.Privilege, db string) bool {
	if p.bootstrap {
		return false
	}
	admin, have, ok := p.svc.lookup(p.name, db)
	if !ok {
		return false
	}
	return admin || priv == influxql.NoPrivileges || have == priv || have == influxql.AllPrivileges
}

// AuthorizeQuery checks every statement of q before any runs, as 1.x does, so an
// unauthorized query answers 403 and changes nothing. db is the request's db
// parameter. The error's text is 1.x's, without the "error authorizing query: "
// prefix the HTTP layer adds.
func (p *Principal) AuthorizeQuery(q *influxql.Query, db string) error {
	if p.bootstrap && len(q.Statements) == 0 {
		return ErrNotFirstUser
	}
	for _, st := range q.Statements {
		if err := p.AuthorizeStatement(st, db); err != nil {
			return err
		}
	}
	return nil
}

// AuthorizeStatement checks one statement; the executor asks it again right
// before running each statement.
func (p *Principal) AuthorizeStatement(stmt influxql.Statement, db string) error {
	if p.bootstrap {
		// 1.x lets the rest of a query whose first statement creates the admin
		// run unchecked; Strata lets nothing but that statement through.
		if cu, ok := stmt.(*influxql.CreateUserStatement); ok && cu.Admin {
			return nil
		}
		return ErrNotFirstUser
	}
	if p.IsAdmin() {
		return nil
	}
	if _, _, ok := p.svc.lookup(p.name, ""); !ok {
		return fmt.Errorf("%s not authorized to execute statement '%s', user not found", p.name, stmt)
	}
	for _, r := range RequiredPrivileges(stmt) {
		if r.Admin {
			return fmt.Errorf("%s not authorized to execute statement '%s', requires admin privilege", p.name, stmt)
		}
		d := r.Database
		if d == "" {
			d = db
		}
		if !p.AuthorizeDatabase(r.Privilege, d) {
			return fmt.Errorf("%s not authorized to execute statement '%s', requires %s on %s", p.name, stmt, r.Privilege, d)
		}
	}
	return nil
}

// AuthorizeWrite tells whether the user may write points into db.
func (p *Principal) AuthorizeWrite(db string) bool {
	return p.AuthorizeDatabase(influxql.WritePrivilege, db)
}
