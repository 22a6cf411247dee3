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
// Deliberate differences from InfluxDB 1.x, each closing a hole:
//   - Before any user exists, a query may hold nothing but CREATE USER ... WITH
//     ALL PRIVILEGES (1.x runs the rest of a query whose first statement is one,
//     unchecked), and the creation fails if another request created a user in
//     between.
//   - With authentication on, the last admin cannot be dropped or demoted: 1.x
//     allows it and then answers every request "no user provided" until
//     authentication is turned off.
//   - A password misplaced in a user statement is not quoted in the parse error.
//   - Writes are authorized before the database is looked up, so a user without
//     WRITE learns nothing of which databases exist (1.x answers 404 first).
//   - SHOW USERS lists users by name (1.x: in creation order).
//
// Records are stored through the Persister interface (the storage engine keeps
// them under their own key kind); their format is record.go's, specified in
// docs/format/keys.md. Add a statement's privilege rule to requirements.go, a
// credential form to http.go.
package auth
