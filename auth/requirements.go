package auth

import "github.com/strata-db/strata/query/influxql"

// Requirement is one privilege a statement needs, as in InfluxDB 1.x: the admin
// privilege, or Privilege on Database ("" meaning the request's db parameter).
type Requirement struct {
	Admin     bool
	Database  string
	Privilege influxql.Privilege
}

// RequiredPrivileges lists what stmt needs, following 1.x's rules: reads need
// READ on every database they read (a SELECT's sources and its subqueries'
// sources, each in the database it names), SELECT INTO also WRITE on the target's
// database, DELETE and DROP SERIES need WRITE, and everything that changes the
// schema, users or the server needs admin. SHOW DATABASES needs nothing: it lists
// only the databases the user may read.
func RequiredPrivileges(stmt influxql.Statement) []Requirement {
	read := func(db string) Requirement { return Requirement{Database: db, Privilege: influxql.ReadPrivilege} }
	write := func(db string) Requirement { return Requirement{Database: db, Privilege: influxql.WritePrivilege} }
	admin := []Requirement{{Admin: true}}
	// onSources adds the databases that FROM clauses name, beyond the statement's
	// own: Strata's SHOW statements read a source's database when it names one.
	onSources := func(req []Requirement, srcs influxql.Sources, mk func(string) Requirement) []Requirement {
		for _, src := range srcs {
			if m, ok := src.(*influxql.Measurement); ok && m.Database != "" {
				req = append(req, mk(m.Database))
			}
		}
		return req
	}
	switch s := stmt.(type) {
	case *influxql.SelectStatement:
		return selectRequirements(s, nil)
	case *influxql.ExplainStatement:
		return selectRequirements(s.Statement, nil)
	case *influxql.ShowDatabasesStatement:
		return nil
	case *influxql.ShowMeasurementsStatement:
		return []Requirement{read(s.Database)}
	case *influxql.ShowMeasurementCardinalityStatement:
		return onSources([]Requirement{read(s.Database)}, s.Sources, read)
	case *influxql.ShowSeriesCardinalityStatement:
		return onSources([]Requirement{read(s.Database)}, s.Sources, read)
	case *influxql.ShowTagKeysStatement:
		return onSources([]Requirement{read(s.Database)}, s.Sources, read)
	case *influxql.ShowTagValuesStatement:
		return onSources([]Requirement{read(s.Database)}, s.Sources, read)
	case *influxql.ShowFieldKeysStatement:
		return onSources([]Requirement{read(s.Database)}, s.Sources, read)
	case *influxql.ShowTagKeyCardinalityStatement:
		return onSources([]Requirement{read(s.Database)}, s.Sources, read)
	case *influxql.ShowTagValuesCardinalityStatement:
		return onSources([]Requirement{read(s.Database)}, s.Sources, read)
	case *influxql.ShowFieldKeyCardinalityStatement:
		return onSources([]Requirement{read(s.Database)}, s.Sources, read)
	case *influxql.ShowSeriesStatement:
		return onSources([]Requirement{read(s.Database)}, s.Sources, read)
	case *influxql.ShowRetentionPoliciesStatement:
		return []Requirement{read(s.Database)}
	case *influxql.ShowContinuousQueriesStatement, *influxql.ShowQueriesStatement:
		return []Requirement{read("")}
	case *influxql.DropSeriesStatement:
		return onSources([]Requirement{write("")}, s.Sources, write)
	case *influxql.DeleteSeriesStatement:
		return onSources([]Requirement{write("")}, s.Sources, write)
	case *influxql.CreateContinuousQueryStatement:
		return []Requirement{write(s.Database)}
	case *influxql.DropContinuousQueryStatement:
		return []Requirement{write(s.Database)}
	}
	// Users, grants, databases, retention policies, measurements, KILL QUERY,
	// SHOW STATS and DIAGNOSTICS, and anything added later until it is listed.
	return admin
}

func selectRequirements(s *influxql.SelectStatement, req []Requirement) []Requirement {
	if s == nil {
		return req
	}
	for _, src := range s.Sources {
		switch src := src.(type) {
		case *influxql.Measurement:
			req = append(req, Requirement{Database: src.Database, Privilege: influxql.ReadPrivilege})
		case *influxql.SubQuery:
			req = selectRequirements(src.Statement, req)
		}
	}
	if s.Target != nil && s.Target.Measurement != nil {
		req = append(req, Requirement{Database: s.Target.Measurement.Database, Privilege: influxql.WritePrivilege})
	}
	return req
}
