package influxql

import (
	"strconv"
	"strings"
	"time"
)

// ShowDatabasesStatement is SHOW DATABASES.
type ShowDatabasesStatement struct{}

// ShowMeasurementsStatement is SHOW MEASUREMENTS [ON db] [WITH MEASUREMENT
// = name | =~ /re/] [WHERE] [LIMIT] [OFFSET]. Source is nil without WITH.
type ShowMeasurementsStatement struct {
	Database  string
	Source    *Measurement
	Condition Expr
	Limit     int
	Offset    int
}

// ShowMeasurementCardinalityStatement is SHOW MEASUREMENT [EXACT]
// CARDINALITY [ON db] [FROM] [WHERE].
type ShowMeasurementCardinalityStatement struct {
	Exact     bool
	Database  string
	Sources   Sources
	Condition Expr
}

// ShowSeriesCardinalityStatement is SHOW SERIES [EXACT] CARDINALITY [ON db]
// [FROM] [WHERE].
type ShowSeriesCardinalityStatement struct {
	Exact     bool
	Database  string
	Sources   Sources
	Condition Expr
}

// ShowTagKeysStatement is SHOW TAG KEYS [ON db] [FROM] [WHERE] [LIMIT]
// [OFFSET] [SLIMIT] [SOFFSET].
type ShowTagKeysStatement struct {
	Database  string
	Sources   Sources
	Condition Expr
	Limit     int
	Offset    int
	SLimit    int
	SOffset   int
}

// ShowTagValuesStatement is SHOW TAG VALUES [ON db] [FROM] WITH KEY <op>
// <keys> [WHERE] [LIMIT] [OFFSET]. Op is EQ or NEQ with a *VarRef, EQREGEX or
// NEQREGEX with a *RegexLiteral, or IN with a *ListLiteral.
type ShowTagValuesStatement struct {
	Database   string
	Sources    Sources
	Op         Token
	TagKeyExpr Expr
	Condition  Expr
	Limit      int
	Offset     int
}

// ShowFieldKeysStatement is SHOW FIELD KEYS [ON db] [FROM] [LIMIT] [OFFSET].
type ShowFieldKeysStatement struct {
	Database string
	Sources  Sources
	Limit    int
	Offset   int
}

// ShowTagKeyCardinalityStatement is SHOW TAG KEY [EXACT] CARDINALITY [ON db]
// [FROM] [WHERE]: the number of tag keys of each measurement.
type ShowTagKeyCardinalityStatement struct {
	Exact     bool
	Database  string
	Sources   Sources
	Condition Expr
}

// ShowTagValuesCardinalityStatement is SHOW TAG VALUES [EXACT] CARDINALITY
// [ON db] [FROM] WITH KEY <op> <keys> [WHERE]: the number of distinct values of
// the selected keys in each measurement. Op and TagKeyExpr are as in
// ShowTagValuesStatement.
type ShowTagValuesCardinalityStatement struct {
	Exact      bool
	Database   string
	Sources    Sources
	Op         Token
	TagKeyExpr Expr
	Condition  Expr
}

// ShowFieldKeyCardinalityStatement is SHOW FIELD KEY [EXACT] CARDINALITY
// [ON db] [FROM] [WHERE]: the number of field keys of each measurement.
type ShowFieldKeyCardinalityStatement struct {
	Exact     bool
	Database  string
	Sources   Sources
	Condition Expr
}

// ShowSeriesStatement is SHOW SERIES [ON db] [FROM] [WHERE] [LIMIT] [OFFSET].
type ShowSeriesStatement struct {
	Database  string
	Sources   Sources
	Condition Expr
	Limit     int
	Offset    int
}

// ShowRetentionPoliciesStatement is SHOW RETENTION POLICIES [ON db].
type ShowRetentionPoliciesStatement struct {
	Database string
}

// ShowUsersStatement is SHOW USERS.
type ShowUsersStatement struct{}

// ShowContinuousQueriesStatement is SHOW CONTINUOUS QUERIES.
type ShowContinuousQueriesStatement struct{}

// ShowStatsStatement is SHOW STATS [FOR 'module'].
type ShowStatsStatement struct{ Module string }

// ShowDiagnosticsStatement is SHOW DIAGNOSTICS [FOR 'module'].
type ShowDiagnosticsStatement struct{ Module string }

// ShowQueriesStatement is SHOW QUERIES.
type ShowQueriesStatement struct{}

// CreateDatabaseStatement is CREATE DATABASE name [WITH [DURATION d]
// [REPLICATION n] [SHARD DURATION d] [NAME rp]]. The RetentionPolicy* fields
// are meaningful only when RetentionPolicyCreate is set; nil pointers mean
// "not given, use the server default".
type CreateDatabaseStatement struct {
	Name                              string
	RetentionPolicyCreate             bool
	RetentionPolicyDuration           *time.Duration
	RetentionPolicyReplication        *int
	RetentionPolicyShardGroupDuration time.Duration
	RetentionPolicyName               string
}

// DropDatabaseStatement is DROP DATABASE name.
type DropDatabaseStatement struct{ Name string }

// DropMeasurementStatement is DROP MEASUREMENT name.
type DropMeasurementStatement struct{ Name string }

// DropSeriesStatement is DROP SERIES [FROM] [WHERE] (at least one).
type DropSeriesStatement struct {
	Sources   Sources
	Condition Expr
}

// DeleteSeriesStatement is DELETE [FROM] [WHERE] (at least one).
type DeleteSeriesStatement struct {
	Sources   Sources
	Condition Expr
}

// CreateRetentionPolicyStatement is CREATE RETENTION POLICY name ON db
// DURATION d REPLICATION n [SHARD DURATION d] [DEFAULT]. A zero Duration
// means INF.
type CreateRetentionPolicyStatement struct {
	Name               string
	Database           string
	Duration           time.Duration
	Replication        int
	ShardGroupDuration time.Duration
	Default            bool
}

// AlterRetentionPolicyStatement is ALTER RETENTION POLICY name ON db with at
// least one option; nil means unchanged.
type AlterRetentionPolicyStatement struct {
	Name               string
	Database           string
	Duration           *time.Duration
	Replication        *int
	ShardGroupDuration *time.Duration
	Default            bool
}

// DropRetentionPolicyStatement is DROP RETENTION POLICY name ON db.
type DropRetentionPolicyStatement struct {
	Name     string
	Database string
}

// CreateContinuousQueryStatement is CREATE CONTINUOUS QUERY name ON db
// [RESAMPLE [EVERY d] [FOR d]] BEGIN select END.
type CreateContinuousQueryStatement struct {
	Name          string
	Database      string
	Source        *SelectStatement
	ResampleEvery time.Duration
	ResampleFor   time.Duration
}

// DropContinuousQueryStatement is DROP CONTINUOUS QUERY name ON db.
type DropContinuousQueryStatement struct {
	Name     string
	Database string
}

// ExplainStatement is EXPLAIN [ANALYZE] select.
type ExplainStatement struct {
	Statement *SelectStatement
	Analyze   bool
}

// KillQueryStatement is KILL QUERY id [ON host].
type KillQueryStatement struct {
	QueryID uint64
	Host    string
}

func (*SelectStatement) stmt()                     {}
func (*ShowDatabasesStatement) stmt()              {}
func (*ShowMeasurementsStatement) stmt()           {}
func (*ShowMeasurementCardinalityStatement) stmt() {}
func (*ShowSeriesCardinalityStatement) stmt()      {}
func (*ShowTagKeysStatement) stmt()                {}
func (*ShowTagValuesStatement) stmt()              {}
func (*ShowFieldKeysStatement) stmt()              {}
func (*ShowTagKeyCardinalityStatement) stmt()      {}
func (*ShowTagValuesCardinalityStatement) stmt()   {}
func (*ShowFieldKeyCardinalityStatement) stmt()    {}
func (*ShowSeriesStatement) stmt()                 {}
func (*ShowRetentionPoliciesStatement) stmt()      {}
func (*ShowUsersStatement) stmt()                  {}
func (*ShowContinuousQueriesStatement) stmt()      {}
func (*ShowQueriesStatement) stmt()                {}
func (*ShowStatsStatement) stmt()                  {}
func (*ShowDiagnosticsStatement) stmt()            {}
func (*CreateDatabaseStatement) stmt()             {}
func (*DropDatabaseStatement) stmt()               {}
func (*DropMeasurementStatement) stmt()            {}
func (*DropSeriesStatement) stmt()                 {}
func (*DeleteSeriesStatement) stmt()               {}
func (*CreateRetentionPolicyStatement) stmt()      {}
func (*AlterRetentionPolicyStatement) stmt()       {}
func (*DropRetentionPolicyStatement) stmt()        {}
func (*CreateContinuousQueryStatement) stmt()      {}
func (*DropContinuousQueryStatement) stmt()        {}
func (*ExplainStatement) stmt()                    {}
func (*KillQueryStatement) stmt()                  {}

func (*SelectStatement) node()                     {}
func (*ShowDatabasesStatement) node()              {}
func (*ShowMeasurementsStatement) node()           {}
func (*ShowMeasurementCardinalityStatement) node() {}
func (*ShowSeriesCardinalityStatement) node()      {}
func (*ShowTagKeysStatement) node()                {}
func (*ShowTagValuesStatement) node()              {}
func (*ShowFieldKeysStatement) node()              {}
func (*ShowTagKeyCardinalityStatement) node()      {}
func (*ShowTagValuesCardinalityStatement) node()   {}
func (*ShowFieldKeyCardinalityStatement) node()    {}
func (*ShowSeriesStatement) node()                 {}
func (*ShowRetentionPoliciesStatement) node()      {}
func (*ShowUsersStatement) node()                  {}
func (*ShowContinuousQueriesStatement) node()      {}
func (*ShowQueriesStatement) node()                {}
func (*ShowStatsStatement) node()                  {}
func (*ShowDiagnosticsStatement) node()            {}
func (*CreateDatabaseStatement) node()             {}
func (*DropDatabaseStatement) node()               {}
func (*DropMeasurementStatement) node()            {}
func (*DropSeriesStatement) node()                 {}
func (*DeleteSeriesStatement) node()               {}
func (*CreateRetentionPolicyStatement) node()      {}
func (*AlterRetentionPolicyStatement) node()       {}
func (*DropRetentionPolicyStatement) node()        {}
func (*CreateContinuousQueryStatement) node()      {}
func (*DropContinuousQueryStatement) node()        {}
func (*ExplainStatement) node()                    {}
func (*KillQueryStatement) node()                  {}

// stmtWriter accumulates a statement's text; the helpers skip empty parts
// so each String method reads like the grammar.
type stmtWriter struct{ strings.Builder }

func (w *stmtWriter) on(db string) {
	if db != "" {
		w.WriteString(" ON ")
		w.WriteString(QuoteIdent(db))
	}
}

func (w *stmtWriter) from(s Sources) {
	if len(s) > 0 {
		w.WriteString(" FROM ")
		w.WriteString(s.String())
	}
}

func (w *stmtWriter) where(e Expr) {
	if e != nil {
		w.WriteString(" WHERE ")
		w.WriteString(e.String())
	}
}

func (w *stmtWriter) limits(limit, offset int) {
	writeIntOption(&w.Builder, " LIMIT ", limit)
	writeIntOption(&w.Builder, " OFFSET ", offset)
}

func (s *ShowDatabasesStatement) String() string { return "SHOW DATABASES" }

func (s *ShowMeasurementsStatement) String() string {
	var w stmtWriter
	w.WriteString("SHOW MEASUREMENTS")
	w.on(s.Database)
	if s.Source != nil {
		w.WriteString(" WITH MEASUREMENT ")
		if s.Source.Regex != nil {
			w.WriteString("=~ ")
		} else {
			w.WriteString("= ")
		}
		w.WriteString(s.Source.String())
	}
	w.where(s.Condition)
	w.limits(s.Limit, s.Offset)
	return w.String()
}

func (s *ShowMeasurementCardinalityStatement) String() string {
	var w stmtWriter
	w.WriteString("SHOW MEASUREMENT ")
	if s.Exact {
		w.WriteString("EXACT ")
	}
	w.WriteString("CARDINALITY")
	w.on(s.Database)
	w.from(s.Sources)
	w.where(s.Condition)
	return w.String()
}

func (s *ShowSeriesCardinalityStatement) String() string {
	var w stmtWriter
	w.WriteString("SHOW SERIES ")
	if s.Exact {
		w.WriteString("EXACT ")
	}
	w.WriteString("CARDINALITY")
	w.on(s.Database)
	w.from(s.Sources)
	w.where(s.Condition)
	return w.String()
}

func (s *ShowTagKeysStatement) String() string {
	var w stmtWriter
	w.WriteString("SHOW TAG KEYS")
	w.on(s.Database)
	w.from(s.Sources)
	w.where(s.Condition)
	w.limits(s.Limit, s.Offset)
	writeIntOption(&w.Builder, " SLIMIT ", s.SLimit)
	writeIntOption(&w.Builder, " SOFFSET ", s.SOffset)
	return w.String()
}

func (s *ShowTagValuesStatement) String() string {
	var w stmtWriter
	w.WriteString("SHOW TAG VALUES")
	w.on(s.Database)
	w.from(s.Sources)
	w.WriteString(" WITH KEY ")
	w.WriteString(s.Op.String())
	w.WriteByte(' ')
	if s.TagKeyExpr != nil {
		w.WriteString(s.TagKeyExpr.String())
	}
	w.where(s.Condition)
	w.limits(s.Limit, s.Offset)
	return w.String()
}

func (s *ShowFieldKeysStatement) String() string {
	var w stmtWriter
	w.WriteString("SHOW FIELD KEYS")
	w.on(s.Database)
	w.from(s.Sources)
	w.limits(s.Limit, s.Offset)
	return w.String()
}

func (w *stmtWriter) cardinality(what string, exact bool) {
	w.WriteString("SHOW ")
	w.WriteString(what)
	if exact {
		w.WriteString(" EXACT")
	}
	w.WriteString(" CARDINALITY")
}

func (s *ShowTagKeyCardinalityStatement) String() string {
	var w stmtWriter
	w.cardinality("TAG KEY", s.Exact)
	w.on(s.Database)
	w.from(s.Sources)
	w.where(s.Condition)
	return w.String()
}

func (s *ShowTagValuesCardinalityStatement) String() string {
	var w stmtWriter
	w.cardinality("TAG VALUES", s.Exact)
	w.on(s.Database)
	w.from(s.Sources)
	w.WriteString(" WITH KEY ")
	w.WriteString(s.Op.String())
	w.WriteByte(' ')
	if s.TagKeyExpr != nil {
		w.WriteString(s.TagKeyExpr.String())
	}
	w.where(s.Condition)
	return w.String()
}

func (s *ShowFieldKeyCardinalityStatement) String() string {
	var w stmtWriter
	w.cardinality("FIELD KEY", s.Exact)
	w.on(s.Database)
	w.from(s.Sources)
	w.where(s.Condition)
	return w.String()
}

func (s *ShowStatsStatement) String() string { return "SHOW STATS" + forModule(s.Module) }

func (s *ShowDiagnosticsStatement) String() string {
	return "SHOW DIAGNOSTICS" + forModule(s.Module)
}

func forModule(m string) string {
	if m == "" {
		return ""
	}
	return " FOR " + QuoteString(m)
}

func (s *ShowSeriesStatement) String() string {
	var w stmtWriter
	w.WriteString("SHOW SERIES")
	w.on(s.Database)
	w.from(s.Sources)
	w.where(s.Condition)
	w.limits(s.Limit, s.Offset)
	return w.String()
}

func (s *ShowRetentionPoliciesStatement) String() string {
	var w stmtWriter
	w.WriteString("SHOW RETENTION POLICIES")
	w.on(s.Database)
	return w.String()
}

func (s *ShowUsersStatement) String() string             { return "SHOW USERS" }
func (s *ShowContinuousQueriesStatement) String() string { return "SHOW CONTINUOUS QUERIES" }
func (s *ShowQueriesStatement) String() string           { return "SHOW QUERIES" }

func (s *CreateDatabaseStatement) String() string {
	var w stmtWriter
	w.WriteString("CREATE DATABASE ")
	w.WriteString(QuoteIdent(s.Name))
	if s.RetentionPolicyCreate {
		// Options that print nothing (a zero shard duration) leave no WITH
		// behind, so the output always parses.
		var opts stmtWriter
		if s.RetentionPolicyDuration != nil {
			opts.WriteString(" DURATION ")
			opts.WriteString(FormatDuration(*s.RetentionPolicyDuration))
		}
		if s.RetentionPolicyReplication != nil {
			opts.WriteString(" REPLICATION ")
			opts.WriteString(strconv.Itoa(*s.RetentionPolicyReplication))
		}
		if s.RetentionPolicyShardGroupDuration > 0 {
			opts.WriteString(" SHARD DURATION ")
			opts.WriteString(FormatDuration(s.RetentionPolicyShardGroupDuration))
		}
		if s.RetentionPolicyName != "" {
			opts.WriteString(" NAME ")
			opts.WriteString(QuoteIdent(s.RetentionPolicyName))
		}
		if opts.Len() > 0 {
			w.WriteString(" WITH")
			w.WriteString(opts.String())
		}
	}
	return w.String()
}

func (s *DropDatabaseStatement) String() string { return "DROP DATABASE " + QuoteIdent(s.Name) }

func (s *DropMeasurementStatement) String() string {
	return "DROP MEASUREMENT " + QuoteIdent(s.Name)
}

func (s *DropSeriesStatement) String() string {
	var w stmtWriter
	w.WriteString("DROP SERIES")
	w.from(s.Sources)
	w.where(s.Condition)
	return w.String()
}

func (s *DeleteSeriesStatement) String() string {
	var w stmtWriter
	w.WriteString("DELETE")
	w.from(s.Sources)
	w.where(s.Condition)
	return w.String()
}

func (s *CreateRetentionPolicyStatement) String() string {
	var w stmtWriter
	w.WriteString("CREATE RETENTION POLICY ")
	w.WriteString(QuoteIdent(s.Name))
	w.on(s.Database)
	w.WriteString(" DURATION ")
	w.WriteString(rpDuration(s.Duration))
	w.WriteString(" REPLICATION ")
	w.WriteString(strconv.Itoa(s.Replication))
	if s.ShardGroupDuration > 0 {
		w.WriteString(" SHARD DURATION ")
		w.WriteString(FormatDuration(s.ShardGroupDuration))
	}
	if s.Default {
		w.WriteString(" DEFAULT")
	}
	return w.String()
}

// rpDuration prints a retention duration; zero is infinite and reads INF.
func rpDuration(d time.Duration) string {
	if d == 0 {
		return "INF"
	}
	return FormatDuration(d)
}

func (s *AlterRetentionPolicyStatement) String() string {
	var w stmtWriter
	w.WriteString("ALTER RETENTION POLICY ")
	w.WriteString(QuoteIdent(s.Name))
	w.on(s.Database)
	if s.Duration != nil {
		w.WriteString(" DURATION ")
		w.WriteString(rpDuration(*s.Duration))
	}
	if s.Replication != nil {
		w.WriteString(" REPLICATION ")
		w.WriteString(strconv.Itoa(*s.Replication))
	}
	if s.ShardGroupDuration != nil {
		w.WriteString(" SHARD DURATION ")
		w.WriteString(rpDuration(*s.ShardGroupDuration))
	}
	if s.Default {
		w.WriteString(" DEFAULT")
	}
	return w.String()
}

func (s *DropRetentionPolicyStatement) String() string {
	var w stmtWriter
	w.WriteString("DROP RETENTION POLICY ")
	w.WriteString(QuoteIdent(s.Name))
	w.on(s.Database)
	return w.String()
}

func (s *CreateContinuousQueryStatement) String() string {
	var w stmtWriter
	w.WriteString("CREATE CONTINUOUS QUERY ")
	w.WriteString(QuoteIdent(s.Name))
	w.on(s.Database)
	if s.ResampleEvery > 0 || s.ResampleFor > 0 {
		w.WriteString(" RESAMPLE")
		if s.ResampleEvery > 0 {
			w.WriteString(" EVERY ")
			w.WriteString(FormatDuration(s.ResampleEvery))
		}
		if s.ResampleFor > 0 {
			w.WriteString(" FOR ")
			w.WriteString(FormatDuration(s.ResampleFor))
		}
	}
	w.WriteString(" BEGIN ")
	w.WriteString(s.Source.String())
	w.WriteString(" END")
	return w.String()
}

func (s *DropContinuousQueryStatement) String() string {
	var w stmtWriter
	w.WriteString("DROP CONTINUOUS QUERY ")
	w.WriteString(QuoteIdent(s.Name))
	w.on(s.Database)
	return w.String()
}

func (s *ExplainStatement) String() string {
	if s.Analyze {
		return "EXPLAIN ANALYZE " + s.Statement.String()
	}
	return "EXPLAIN " + s.Statement.String()
}

func (s *KillQueryStatement) String() string {
	var w stmtWriter
	w.WriteString("KILL QUERY ")
	w.WriteString(strconv.FormatUint(s.QueryID, 10))
	if s.Host != "" {
		w.WriteString(" ON ")
		w.WriteString(QuoteIdent(s.Host))
	}
	return w.String()
}
