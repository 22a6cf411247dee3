package query

import (
	"errors"

	"github.com/strata-db/strata/auth"
	"github.com/strata-db/strata/query/influxql"
)

// Authorizer is who runs a query, as the engine asks it: whether a statement may
// run and which databases the requester may read. auth.Principal implements it.
// A nil Authorizer (authentication disabled) allows everything.
type Authorizer interface {
	// AuthorizeStatement answers nil when stmt may run with db as the default
	// database; its error is 1.x's text without "error authorizing query: ".
	AuthorizeStatement(stmt influxql.Statement, db string) error
	// AuthorizeDatabase tells whether the requester has p on db.
	AuthorizeDatabase(p influxql.Privilege, db string) bool
	// Bootstrap: no user existed when the request came; a CREATE USER it runs
	// must still find none.
	Bootstrap() bool
}

// UserStore runs the user management statements; auth.Service implements it.
type UserStore interface {
	CreateUser(name, password string, admin, onlyFirst bool) error
	DropUser(name string) error
	SetPassword(name, password string) error
	SetPrivilege(user, db string, p influxql.Privilege) error
	Privilege(user, db string) (influxql.Privilege, error)
	SetAdmin(user string, admin bool) error
	DropDatabasePrivileges(db string) error
	Users() []auth.UserInfo
	Grants(user string) ([]auth.Grant, error)
}

var errNoUserStore = errors.New("user management is not available on this server")

// SetUsers gives the executor the users the user statements manage. Without it
// they fail, and SHOW USERS lists none.
func (e *Executor) SetUsers(u UserStore) { e.users = u }

// authorize is the check before each statement: the /query handler checks the
// whole query before it answers, this catches what changed since (a REVOKE in
// an earlier statement, another request's DROP USER) and async queries.
func authorize(stmt influxql.Statement, opts ExecOptions) error {
	if opts.Auth == nil {
		return nil
	}
	if err := opts.Auth.AuthorizeStatement(stmt, opts.Database); err != nil {
		return errorf("error authorizing query: %s", err.Error())
	}
	return nil
}

// executeUserStatement runs the user statements; ok false if stmt is none.
func (e *Executor) executeUserStatement(stmt influxql.Statement, opts ExecOptions) (res *StatementResult, ok bool, err error) {
	switch stmt.(type) {
	case *influxql.CreateUserStatement, *influxql.DropUserStatement, *influxql.SetPasswordUserStatement,
		*influxql.GrantStatement, *influxql.GrantAdminStatement, *influxql.RevokeStatement,
		*influxql.RevokeAdminStatement, *influxql.ShowGrantsForUserStatement, *influxql.ShowUsersStatement:
	default:
		return nil, false, nil
	}
	if e.users == nil {
		if _, show := stmt.(*influxql.ShowUsersStatement); show {
			return result(&ResultSeries{Columns: []string{"user", "admin"}, NoTime: true}), true, nil
		}
		return nil, true, errNoUserStore
	}
	switch s := stmt.(type) {
	case *influxql.CreateUserStatement:
		err = e.users.CreateUser(s.Name, s.Password, s.Admin, opts.Auth != nil && opts.Auth.Bootstrap())
	case *influxql.DropUserStatement:
		err = e.users.DropUser(s.Name)
	case *influxql.SetPasswordUserStatement:
		err = e.users.SetPassword(s.Name, s.Password)
	case *influxql.GrantStatement:
		err = e.users.SetPrivilege(s.User, s.On, s.Privilege) // replaces, as in 1.x
	case *influxql.GrantAdminStatement:
		err = e.users.SetAdmin(s.User, true)
	case *influxql.RevokeStatement:
		p := influxql.NoPrivileges
		if s.Privilege != influxql.AllPrivileges {
			// 1.x clears the revoked bits: REVOKE READ from ALL leaves WRITE.
			var have influxql.Privilege
			if have, err = e.users.Privilege(s.User, s.On); err != nil {
				return nil, true, err
			}
			p = have &^ s.Privilege
		}
		err = e.users.SetPrivilege(s.User, s.On, p)
	case *influxql.RevokeAdminStatement:
		err = e.users.SetAdmin(s.User, false)
	case *influxql.ShowUsersStatement:
		ser := &ResultSeries{Columns: []string{"user", "admin"}, NoTime: true}
		for _, u := range e.users.Users() {
			ser.Rows = append(ser.Rows, Row{Values: []any{u.Name, u.Admin}})
		}
		return result(ser), true, nil
	case *influxql.ShowGrantsForUserStatement:
		grants, gerr := e.users.Grants(s.Name)
		if gerr != nil {
			return nil, true, gerr
		}
		ser := &ResultSeries{Columns: []string{"database", "privilege"}, NoTime: true}
		for _, g := range grants {
			ser.Rows = append(ser.Rows, Row{Values: []any{g.Database, g.Privilege.String()}})
		}
		return result(ser), true, nil
	}
	return nil, true, err
}

// readableDatabases filters SHOW DATABASES for a non-admin as 1.x does: only the
// databases the requester may read.
func readableDatabases(dbs []string, opts ExecOptions) []string {
	if opts.Auth == nil {
		return dbs
	}
	out := dbs[:0:0]
	for _, db := range dbs {
		if opts.Auth.AuthorizeDatabase(influxql.ReadPrivilege, db) {
			out = append(out, db)
		}
	}
	return out
}
