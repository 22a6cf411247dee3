// Package auth owns users: their durable records, password hashing (bcrypt), the
// cache of verified credentials, and the privilege checks of InfluxDB 1.x.
//
// The HTTP edges (httpapi's /query, ingest's /write and /api/v2/write, the
// operations endpoints) call Service.AuthenticateRequest and get a *Principal:
// who is asking. The query engine asks that principal, through the interface
// query declares, whether each statement may run (AuthorizeStatement, with the
// statement's requirements from RequiredPrivileges) and which databases SHOW
// DATABASES may list; user management statements run on the Service through
// query's UserStore interface.
//
// Records are stored through the Persister interface (the storage engine keeps
// them under their own key kind); their format is record.go's, specified in
// docs/format/keys.md. Add a statement's privilege rule to requirements.go, a
// credential form to http.go.
package auth
