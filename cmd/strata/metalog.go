package main

import (
	"context"
	"fmt"

	"github.com/strata-db/strata/auth"
	"github.com/strata-db/strata/query"
	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/services/cq"
	"github.com/strata-db/strata/services/metalog"
	"github.com/strata-db/strata/storage"
)

// The meta topic's two sides beyond the catalog (kafka.go's metaStore):
// continuous queries and users go through it too. metaCQs and metaUsers are
// what the executor manages them with when --kafka-meta-topic is set: they
// publish and answer once the record is applied here; metaApplier is what
// every node applies the records to.

// metaApplier applies meta records to this node's engine, continuous queries
// and users.
type metaApplier struct {
	*storage.Engine
	cqs   *cq.Service
	users *auth.Service
}

var _ metalog.Applier = metaApplier{}

// DropDatabase drops the database with its continuous queries and grants, as
// the executor does on one node, so that every node drops them alike.
func (a metaApplier) DropDatabase(name string) error {
	if err := a.Engine.DropDatabase(name); err != nil {
		return err
	}
	if err := a.cqs.DropDatabaseContinuousQueries(name); err != nil {
		return err
	}
	return a.users.DropDatabasePrivileges(name)
}

func (a metaApplier) CreateContinuousQuery(db, name, text string) error {
	st, err := influxql.ParseStatement(text)
	if err != nil {
		return fmt.Errorf("continuous query %s.%s: %w", db, name, err)
	}
	c, ok := st.(*influxql.CreateContinuousQueryStatement)
	if !ok || c.Database != db || c.Name != name {
		return fmt.Errorf("continuous query %s.%s: the record's text is not its CREATE CONTINUOUS QUERY", db, name)
	}
	return a.cqs.CreateContinuousQuery(c)
}

func (a metaApplier) DropContinuousQuery(db, name string) error {
	return a.cqs.DropContinuousQuery(db, name)
}

func (a metaApplier) CreateUserHash(name string, hash []byte, admin, onlyFirst bool) error {
	return a.users.CreateUserHash(name, hash, admin, onlyFirst)
}

func (a metaApplier) DropUser(name string) error { return a.users.DropUser(name) }

func (a metaApplier) SetPasswordHash(name string, hash []byte) error {
	return a.users.SetPasswordHash(name, hash)
}

func (a metaApplier) SetPrivilegeByte(user, db string, p byte) error {
	return a.users.SetPrivilege(user, db, influxql.Privilege(p))
}

func (a metaApplier) SetAdmin(user string, admin bool) error { return a.users.SetAdmin(user, admin) }

// metaCQs is the CQ service as the executor sees it with a meta topic.
type metaCQs struct {
	*cq.Service
	meta *metalog.Service
}

func (m metaCQs) CreateContinuousQuery(stmt *influxql.CreateContinuousQueryStatement) error {
	return m.meta.Publish(context.Background(), metalog.Record{Op: metalog.OpCreateContinuousQuery,
		Database: stmt.Database, Name: stmt.Name, Text: stmt.String()})
}

func (m metaCQs) DropContinuousQuery(db, name string) error {
	return m.meta.Publish(context.Background(), metalog.Record{Op: metalog.OpDropContinuousQuery, Database: db, Name: name})
}

// DropDatabaseContinuousQueries: applying DROP DATABASE dropped them already
// (metaApplier.DropDatabase), on every node.
func (m metaCQs) DropDatabaseContinuousQueries(string) error { return nil }

// metaUsers is the user service as the executor sees it with a meta topic.
// Passwords are hashed here: the records carry the bcrypt hash, never the
// password.
type metaUsers struct {
	*auth.Service
	meta *metalog.Service
}

var _ query.UserStore = metaUsers{}

func (m metaUsers) CreateUser(name, password string, admin, onlyFirst bool) error {
	if name == "" {
		return auth.ErrUsernameRequired
	}
	if onlyFirst && m.UserCount() > 0 {
		return auth.ErrNotFirstUser // as on one node; the record checks again when applied
	}
	if m.HasUser(name, password, admin) {
		return nil // 1.x: the same user again is not an error
	}
	hash, err := m.HashPassword(password)
	if err != nil {
		return err
	}
	return m.meta.Publish(context.Background(), metalog.Record{Op: metalog.OpCreateUser, Name: name, Hash: hash, Admin: admin, OnlyFirst: onlyFirst})
}

func (m metaUsers) DropUser(name string) error {
	return m.meta.Publish(context.Background(), metalog.Record{Op: metalog.OpDropUser, Name: name})
}

func (m metaUsers) SetPassword(name, password string) error {
	hash, err := m.HashPassword(password)
	if err != nil {
		return err
	}
	return m.meta.Publish(context.Background(), metalog.Record{Op: metalog.OpSetPassword, Name: name, Hash: hash})
}

func (m metaUsers) SetPrivilege(user, db string, p influxql.Privilege) error {
	return m.meta.Publish(context.Background(), metalog.Record{Op: metalog.OpSetPrivilege, Name: user, Database: db, Privilege: byte(p)})
}

func (m metaUsers) SetAdmin(user string, admin bool) error {
	return m.meta.Publish(context.Background(), metalog.Record{Op: metalog.OpSetAdmin, Name: user, Admin: admin})
}

// DropDatabasePrivileges: applying DROP DATABASE dropped them already.
func (m metaUsers) DropDatabasePrivileges(string) error { return nil }
