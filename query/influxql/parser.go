package influxql

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // tz('Zone') must work on hosts without a zoneinfo database
)

// ParseError is a syntax error. Error() returns InfluxDB's text without the
// "error parsing query: " prefix, which the HTTP layer adds, e.g.
// "found FROM, expected identifier, string, number, bool at line 1, char 44".
// Either Message is set, or Found and Expected are.
type ParseError struct {
	Message  string
	Found    string
	Expected []string
	// Pos is where the error is; Line -1 means the error has no position
	// (InfluxDB prints some errors, such as the ORDER BY one, without one).
	Pos Pos
}

// noPos marks a ParseError that prints without "at line, char".
var noPos = Pos{Line: -1}

func newParseError(found string, expected []string, pos Pos) *ParseError {
	return &ParseError{Found: found, Expected: expected, Pos: pos}
}

func (e *ParseError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = fmt.Sprintf("found %s, expected %s", e.Found, strings.Join(e.Expected, ", "))
	}
	if e.Pos.Line < 0 {
		return msg
	}
	return fmt.Sprintf("%s at line %d, char %d", msg, e.Pos.Line+1, e.Pos.Char+1)
}

// ParseQuery parses one or more ';'-separated statements. Empty statements
// are skipped, so "" yields a Query with no statements.
func ParseQuery(s string) (*Query, error) {
	p := newParser(s)
	q := &Query{}
	semi := true
	for {
		it := p.scanIgnoreWS()
		switch {
		case it.tok == EOF:
			return q, nil
		case it.tok == SEMICOLON:
			semi = true
		case !semi:
			return nil, newParseError(it.str(), []string{";"}, it.pos)
		default:
			p.unscan(it)
			st, err := p.parseStatement()
			if err != nil {
				return nil, err
			}
			q.Statements = append(q.Statements, st)
			semi = false
		}
	}
}

// ParseStatement parses exactly one statement (a trailing ';' is allowed).
func ParseStatement(s string) (Statement, error) {
	p := newParser(s)
	st, err := p.parseStatement()
	if err != nil {
		return nil, err
	}
	if it := p.scanIgnoreWS(); it.tok == SEMICOLON {
		it = p.scanIgnoreWS()
		if it.tok != EOF {
			return nil, newParseError(it.str(), []string{"EOF"}, it.pos)
		}
	} else if it.tok != EOF {
		return nil, newParseError(it.str(), []string{";"}, it.pos)
	}
	return st, nil
}

// ParseExpr parses a standalone expression, e.g. a WHERE condition.
func ParseExpr(s string) (Expr, error) {
	p := newParser(s)
	e, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	if it := p.scanIgnoreWS(); it.tok != EOF {
		return nil, newParseError(it.str(), []string{"EOF"}, it.pos)
	}
	return e, nil
}

// item is one scanned token.
type item struct {
	tok Token
	pos Pos
	lit string
}

// str is how InfluxDB names a token in "found X": its literal text when it
// has one, otherwise the token's spelling.
func (it item) str() string {
	if it.lit != "" {
		return it.lit
	}
	return it.tok.String()
}

// parser is a recursive-descent parser over a Scanner with an unbounded
// push-back stack (the grammar never needs more than a few tokens of it).
type parser struct {
	s    *Scanner
	back []item
	// depth counts open parentheses, calls and subqueries so that hostile
	// input cannot recurse without bound.
	depth int
}

// maxDepth bounds expression and subquery nesting. Real queries (Grafana
// nests subqueries two or three deep) stay far below it, and it keeps the
// recursive parser, printer and analyses within a few MB of stack.
const maxDepth = 500

// enter records one more level of nesting at pos and fails past maxDepth;
// callers pair it with leave.
func (p *parser) enter(pos Pos) error {
	p.depth++
	if p.depth > maxDepth {
		return &ParseError{Message: "query nested too deeply", Pos: pos}
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func newParser(s string) *parser { return &parser{s: NewScanner(s)} }

func (p *parser) scan() item {
	if n := len(p.back); n > 0 {
		it := p.back[n-1]
		p.back = p.back[:n-1]
		return it
	}
	tok, pos, lit := p.s.Scan()
	return item{tok, pos, lit}
}

func (p *parser) scanIgnoreWS() item {
	for {
		if it := p.scan(); it.tok != WS {
			return it
		}
	}
}

func (p *parser) unscan(it item) { p.back = append(p.back, it) }

// expect consumes the next non-whitespace token, which must be tok.
func (p *parser) expect(tok Token) error {
	if it := p.scanIgnoreWS(); it.tok != tok {
		return newParseError(it.str(), []string{tok.String()}, it.pos)
	}
	return nil
}

// parseIdent parses an identifier (bare or double-quoted).
func (p *parser) parseIdent() (string, error) {
	it := p.scanIgnoreWS()
	if it.tok != IDENT {
		return "", newParseError(it.str(), []string{"identifier"}, it.pos)
	}
	return it.lit, nil
}

// parseOn parses an optional `ON db`.
func (p *parser) parseOn() (string, error) {
	if it := p.scanIgnoreWS(); it.tok != ON {
		p.unscan(it)
		return "", nil
	}
	return p.parseIdent()
}

// parseOptionalFrom parses an optional FROM list without subqueries.
func (p *parser) parseOptionalFrom() (Sources, error) {
	if it := p.scanIgnoreWS(); it.tok != FROM {
		p.unscan(it)
		return nil, nil
	}
	return p.parseSources(false)
}

var statementStarts = []string{"SELECT", "DELETE", "SHOW", "CREATE", "DROP", "EXPLAIN", "GRANT", "REVOKE", "ALTER", "SET", "KILL"}

func (p *parser) parseStatement() (Statement, error) {
	it := p.scanIgnoreWS()
	switch it.tok {
	case SELECT:
		return p.parseSelectStatement(false)
	case DELETE:
		return p.parseDeleteStatement()
	case SHOW:
		return p.parseShowStatement()
	case CREATE:
		return p.parseCreateStatement()
	case DROP:
		return p.parseDropStatement()
	case EXPLAIN:
		return p.parseExplainStatement()
	case ALTER:
		kw := p.scanIgnoreWS()
		if kw.tok != RETENTION {
			return nil, newParseError(kw.str(), []string{"RETENTION"}, kw.pos)
		}
		if err := p.expect(POLICY); err != nil {
			return nil, err
		}
		return p.parseAlterRetentionPolicy()
	case KILL:
		return p.parseKillQueryStatement()
	case GRANT:
		return p.parseGrantRevoke(TO)
	case REVOKE:
		return p.parseGrantRevoke(FROM)
	case SET:
		return p.parseSetPassword()
	}
	return nil, newParseError(it.str(), statementStarts, it.pos)
}

func (p *parser) parseShowStatement() (Statement, error) {
	it := p.scanIgnoreWS()
	switch it.tok {
	case CONTINUOUS:
		if err := p.expect(QUERIES); err != nil {
			return nil, err
		}
		return &ShowContinuousQueriesStatement{}, nil
	case DATABASES:
		return &ShowDatabasesStatement{}, nil
	case DIAGNOSTICS, STATS:
		module, err := p.parseForModule()
		if err != nil {
			return nil, err
		}
		if it.tok == STATS {
			return &ShowStatsStatement{Module: module}, nil
		}
		return &ShowDiagnosticsStatement{Module: module}, nil
	case FIELD:
		kw := p.scanIgnoreWS()
		switch kw.tok {
		case KEYS:
			return p.parseShowFieldKeys()
		case KEY:
			exact, err := p.parseCardinalityKeyword()
			if err != nil {
				return nil, err
			}
			s := &ShowFieldKeyCardinalityStatement{Exact: exact}
			if s.Database, s.Sources, s.Condition, err = p.parseOnFromWhere(); err != nil {
				return nil, err
			}
			return s, nil
		}
		return nil, newParseError(kw.str(), []string{"KEYS"}, kw.pos) // as 1.x words it
	case MEASUREMENT:
		exact, err := p.parseCardinalityKeyword()
		if err != nil {
			return nil, err
		}
		s := &ShowMeasurementCardinalityStatement{Exact: exact}
		if s.Database, s.Sources, s.Condition, err = p.parseOnFromWhere(); err != nil {
			return nil, err
		}
		return s, nil
	case MEASUREMENTS:
		return p.parseShowMeasurements()
	case QUERIES:
		return &ShowQueriesStatement{}, nil
	case RETENTION:
		if err := p.expect(POLICIES); err != nil {
			return nil, err
		}
		db, err := p.parseOn()
		if err != nil {
			return nil, err
		}
		return &ShowRetentionPoliciesStatement{Database: db}, nil
	case SERIES:
		nx := p.scanIgnoreWS()
		p.unscan(nx)
		if nx.tok == EXACT || nx.tok == CARDINALITY {
			exact, err := p.parseCardinalityKeyword()
			if err != nil {
				return nil, err
			}
			s := &ShowSeriesCardinalityStatement{Exact: exact}
			if s.Database, s.Sources, s.Condition, err = p.parseOnFromWhere(); err != nil {
				return nil, err
			}
			return s, nil
		}
		return p.parseShowSeries()
	case TAG:
		kw := p.scanIgnoreWS()
		switch kw.tok {
		case KEYS:
			return p.parseShowTagKeys()
		case KEY:
			exact, err := p.parseCardinalityKeyword()
			if err != nil {
				return nil, err
			}
			s := &ShowTagKeyCardinalityStatement{Exact: exact}
			if s.Database, s.Sources, s.Condition, err = p.parseOnFromWhere(); err != nil {
				return nil, err
			}
			return s, nil
		case VALUES:
			nx := p.scanIgnoreWS()
			p.unscan(nx)
			if nx.tok == EXACT || nx.tok == CARDINALITY {
				exact, err := p.parseCardinalityKeyword()
				if err != nil {
					return nil, err
				}
				v, err := p.parseShowTagValuesClauses()
				if err != nil {
					return nil, err
				}
				return &ShowTagValuesCardinalityStatement{Exact: exact, Database: v.Database, Sources: v.Sources,
					Op: v.Op, TagKeyExpr: v.TagKeyExpr, Condition: v.Condition}, nil
			}
			return p.parseShowTagValues()
		}
		return nil, newParseError(kw.str(), []string{"KEYS", "VALUES"}, kw.pos) // 1.x leaves KEY out too
	case USERS:
		return &ShowUsersStatement{}, nil
	case GRANTS:
		return p.parseShowGrants()
	}
	return nil, newParseError(it.str(), []string{"CONTINUOUS", "DATABASES", "DIAGNOSTICS", "FIELD", "GRANTS", "MEASUREMENT", "MEASUREMENTS", "QUERIES", "RETENTION", "SERIES", "STATS", "TAG", "USERS"}, it.pos)
}

// parseForModule parses SHOW STATS' and SHOW DIAGNOSTICS' optional FOR 'module'.
func (p *parser) parseForModule() (string, error) {
	it := p.scanIgnoreWS()
	if it.tok != FOR {
		p.unscan(it)
		return "", nil
	}
	m := p.scanIgnoreWS()
	if m.tok != STRING {
		return "", newParseError(m.str(), []string{"string"}, m.pos)
	}
	return m.lit, nil
}

// parseCardinalityKeyword parses `[EXACT] CARDINALITY`.
func (p *parser) parseCardinalityKeyword() (exact bool, err error) {
	it := p.scanIgnoreWS()
	if it.tok == EXACT {
		exact = true
		it = p.scanIgnoreWS()
	}
	if it.tok != CARDINALITY {
		expected := []string{"CARDINALITY"}
		if !exact {
			expected = []string{"EXACT", "CARDINALITY"}
		}
		return false, newParseError(it.str(), expected, it.pos)
	}
	return exact, nil
}

func (p *parser) parseOnFromWhere() (db string, srcs Sources, cond Expr, err error) {
	if db, err = p.parseOn(); err != nil {
		return
	}
	if srcs, err = p.parseOptionalFrom(); err != nil {
		return
	}
	cond, err = p.parseCondition()
	return
}

func (p *parser) parseLimitOffset() (limit, offset int, err error) {
	if limit, err = p.parseOptionalInt(LIMIT); err != nil {
		return
	}
	offset, err = p.parseOptionalInt(OFFSET)
	return
}

func (p *parser) parseShowMeasurements() (*ShowMeasurementsStatement, error) {
	s := &ShowMeasurementsStatement{}
	var err error
	if s.Database, err = p.parseOn(); err != nil {
		return nil, err
	}
	if it := p.scanIgnoreWS(); it.tok == WITH {
		if err := p.expect(MEASUREMENT); err != nil {
			return nil, err
		}
		op := p.scanIgnoreWS()
		switch op.tok {
		case EQ:
			if s.Source, err = p.parseMeasurement(false); err != nil {
				return nil, err
			}
			if s.Source.Regex != nil {
				return nil, newParseError(s.Source.Regex.String(), []string{"identifier"}, op.pos)
			}
		case EQREGEX:
			re := p.scanIgnoreWS()
			if re.tok != DIV {
				return nil, newParseError(re.str(), []string{"regex"}, re.pos)
			}
			rl, err := p.parseRegexAt(re)
			if err != nil {
				return nil, err
			}
			s.Source = &Measurement{Regex: rl}
		default:
			return nil, newParseError(op.str(), []string{"=", "=~"}, op.pos)
		}
	} else {
		p.unscan(it)
	}
	if s.Condition, err = p.parseCondition(); err != nil {
		return nil, err
	}
	if s.Limit, s.Offset, err = p.parseLimitOffset(); err != nil {
		return nil, err
	}
	return s, nil
}

func (p *parser) parseShowTagKeys() (*ShowTagKeysStatement, error) {
	s := &ShowTagKeysStatement{}
	var err error
	if s.Database, s.Sources, s.Condition, err = p.parseOnFromWhere(); err != nil {
		return nil, err
	}
	if s.Limit, s.Offset, err = p.parseLimitOffset(); err != nil {
		return nil, err
	}
	if s.SLimit, err = p.parseOptionalInt(SLIMIT); err != nil {
		return nil, err
	}
	if s.SOffset, err = p.parseOptionalInt(SOFFSET); err != nil {
		return nil, err
	}
	return s, nil
}

func (p *parser) parseShowTagValues() (*ShowTagValuesStatement, error) {
	s, err := p.parseShowTagValuesClauses()
	if err != nil {
		return nil, err
	}
	if s.Limit, s.Offset, err = p.parseLimitOffset(); err != nil {
		return nil, err
	}
	return s, nil
}

// parseShowTagValuesClauses parses [ON] [FROM] WITH KEY ... [WHERE], which the
// listing and the cardinality form share.
func (p *parser) parseShowTagValuesClauses() (*ShowTagValuesStatement, error) {
	s := &ShowTagValuesStatement{}
	var err error
	if s.Database, err = p.parseOn(); err != nil {
		return nil, err
	}
	if s.Sources, err = p.parseOptionalFrom(); err != nil {
		return nil, err
	}
	if err := p.expect(WITH); err != nil {
		return nil, err
	}
	if err := p.expect(KEY); err != nil {
		return nil, err
	}
	op := p.scanIgnoreWS()
	s.Op = op.tok
	switch op.tok {
	case EQ, NEQ:
		key, err := p.parseIdent()
		if err != nil {
			return nil, err
		}
		s.TagKeyExpr = &VarRef{Val: key}
	case EQREGEX, NEQREGEX:
		re := p.scanIgnoreWS()
		if re.tok != DIV {
			return nil, newParseError(re.str(), []string{"regex"}, re.pos)
		}
		if s.TagKeyExpr, err = p.parseRegexAt(re); err != nil {
			return nil, err
		}
	case IN:
		if err := p.expect(LPAREN); err != nil {
			return nil, err
		}
		list := &ListLiteral{}
		for {
			k, err := p.parseIdent()
			if err != nil {
				return nil, err
			}
			list.Vals = append(list.Vals, k)
			it := p.scanIgnoreWS()
			if it.tok == RPAREN {
				break
			}
			if it.tok != COMMA {
				return nil, newParseError(it.str(), []string{",", ")"}, it.pos)
			}
		}
		s.TagKeyExpr = list
	default:
		return nil, newParseError(op.str(), []string{"=", "!=", "=~", "!~", "IN"}, op.pos)
	}
	if s.Condition, err = p.parseCondition(); err != nil {
		return nil, err
	}
	return s, nil
}

func (p *parser) parseShowFieldKeys() (*ShowFieldKeysStatement, error) {
	s := &ShowFieldKeysStatement{}
	var err error
	if s.Database, err = p.parseOn(); err != nil {
		return nil, err
	}
	if s.Sources, err = p.parseOptionalFrom(); err != nil {
		return nil, err
	}
	if s.Limit, s.Offset, err = p.parseLimitOffset(); err != nil {
		return nil, err
	}
	return s, nil
}

func (p *parser) parseShowSeries() (*ShowSeriesStatement, error) {
	s := &ShowSeriesStatement{}
	var err error
	if s.Database, s.Sources, s.Condition, err = p.parseOnFromWhere(); err != nil {
		return nil, err
	}
	if s.Limit, s.Offset, err = p.parseLimitOffset(); err != nil {
		return nil, err
	}
	return s, nil
}

func (p *parser) parseCreateStatement() (Statement, error) {
	it := p.scanIgnoreWS()
	switch it.tok {
	case CONTINUOUS:
		if err := p.expect(QUERY); err != nil {
			return nil, err
		}
		return p.parseCreateContinuousQuery()
	case DATABASE:
		return p.parseCreateDatabase()
	case RETENTION:
		if err := p.expect(POLICY); err != nil {
			return nil, err
		}
		return p.parseCreateRetentionPolicy()
	case USER:
		return p.parseCreateUser()
	}
	return nil, newParseError(it.str(), []string{"CONTINUOUS", "DATABASE", "USER", "RETENTION"}, it.pos)
}

func (p *parser) parseDropStatement() (Statement, error) {
	it := p.scanIgnoreWS()
	switch it.tok {
	case CONTINUOUS:
		if err := p.expect(QUERY); err != nil {
			return nil, err
		}
		name, db, err := p.parseNameOnDB()
		if err != nil {
			return nil, err
		}
		return &DropContinuousQueryStatement{Name: name, Database: db}, nil
	case DATABASE:
		name, err := p.parseIdent()
		if err != nil {
			return nil, err
		}
		return &DropDatabaseStatement{Name: name}, nil
	case MEASUREMENT:
		name, err := p.parseIdent()
		if err != nil {
			return nil, err
		}
		return &DropMeasurementStatement{Name: name}, nil
	case RETENTION:
		if err := p.expect(POLICY); err != nil {
			return nil, err
		}
		name, db, err := p.parseNameOnDB()
		if err != nil {
			return nil, err
		}
		return &DropRetentionPolicyStatement{Name: name, Database: db}, nil
	case SERIES:
		srcs, cond, err := p.parseFromWhereRequired()
		if err != nil {
			return nil, err
		}
		return &DropSeriesStatement{Sources: srcs, Condition: cond}, nil
	case USER:
		name, err := p.parseIdent()
		if err != nil {
			return nil, err
		}
		return &DropUserStatement{Name: name}, nil
	}
	return nil, newParseError(it.str(), []string{"CONTINUOUS", "DATABASE", "MEASUREMENT", "RETENTION", "SERIES", "USER"}, it.pos)
}

// parseNameOnDB parses `name ON db`, which several statements share.
func (p *parser) parseNameOnDB() (name, db string, err error) {
	if name, err = p.parseIdent(); err != nil {
		return
	}
	if err = p.expect(ON); err != nil {
		return
	}
	db, err = p.parseIdent()
	return
}

// parseFromWhereRequired parses [FROM ...] [WHERE ...] where at least one of
// the two must be present (DELETE, DROP SERIES).
func (p *parser) parseFromWhereRequired() (Sources, Expr, error) {
	it := p.scanIgnoreWS()
	p.unscan(it)
	if it.tok != FROM && it.tok != WHERE {
		return nil, nil, newParseError(it.str(), []string{"FROM", "WHERE"}, it.pos)
	}
	srcs, err := p.parseOptionalFrom()
	if err != nil {
		return nil, nil, err
	}
	cond, err := p.parseCondition()
	if err != nil {
		return nil, nil, err
	}
	return srcs, cond, nil
}

func (p *parser) parseDeleteStatement() (*DeleteSeriesStatement, error) {
	srcs, cond, err := p.parseFromWhereRequired()
	if err != nil {
		return nil, err
	}
	return &DeleteSeriesStatement{Sources: srcs, Condition: cond}, nil
}

// parseDurationValue parses a duration token; INF means 0 (infinite) where
// allowInf is set.
func (p *parser) parseDurationValue(allowInf bool) (time.Duration, error) {
	it := p.scanIgnoreWS()
	switch {
	case it.tok == DURATIONVAL:
		d, err := ParseDuration(it.lit)
		if err != nil {
			return 0, &ParseError{Message: err.Error(), Pos: it.pos}
		}
		return d, nil
	case it.tok == INF && allowInf:
		return 0, nil
	}
	return 0, newParseError(it.str(), []string{"duration"}, it.pos)
}

// maxReplication is the largest replication factor InfluxDB accepts (int32).
const maxReplication = 1<<31 - 1

func (p *parser) parseCreateDatabase() (*CreateDatabaseStatement, error) {
	s := &CreateDatabaseStatement{}
	var err error
	if s.Name, err = p.parseIdent(); err != nil {
		return nil, err
	}
	if it := p.scanIgnoreWS(); it.tok != WITH {
		p.unscan(it)
		return s, nil
	}
	s.RetentionPolicyCreate = true
	found := false
	if it := p.scanIgnoreWS(); it.tok == DURATION {
		d, err := p.parseDurationValue(true)
		if err != nil {
			return nil, err
		}
		s.RetentionPolicyDuration, found = &d, true
	} else {
		p.unscan(it)
	}
	if it := p.scanIgnoreWS(); it.tok == REPLICATION {
		n, err := p.parseInt(1, maxReplication)
		if err != nil {
			return nil, err
		}
		s.RetentionPolicyReplication, found = &n, true
	} else {
		p.unscan(it)
	}
	if it := p.scanIgnoreWS(); it.tok == SHARD {
		if err := p.expect(DURATION); err != nil {
			return nil, err
		}
		if s.RetentionPolicyShardGroupDuration, err = p.parseDurationValue(false); err != nil {
			return nil, err
		}
		found = true
	} else {
		p.unscan(it)
	}
	if it := p.scanIgnoreWS(); it.tok == NAME {
		if s.RetentionPolicyName, err = p.parseIdent(); err != nil {
			return nil, err
		}
		found = true
	} else {
		p.unscan(it)
	}
	if !found {
		it := p.scanIgnoreWS()
		return nil, newParseError(it.str(), []string{"DURATION", "REPLICATION", "SHARD", "NAME"}, it.pos)
	}
	return s, nil
}

func (p *parser) parseCreateRetentionPolicy() (*CreateRetentionPolicyStatement, error) {
	s := &CreateRetentionPolicyStatement{}
	var err error
	if s.Name, s.Database, err = p.parseNameOnDB(); err != nil {
		return nil, err
	}
	if err := p.expect(DURATION); err != nil {
		return nil, err
	}
	if s.Duration, err = p.parseDurationValue(true); err != nil {
		return nil, err
	}
	if err := p.expect(REPLICATION); err != nil {
		return nil, err
	}
	if s.Replication, err = p.parseInt(1, maxReplication); err != nil {
		return nil, err
	}
	if it := p.scanIgnoreWS(); it.tok == SHARD {
		if err := p.expect(DURATION); err != nil {
			return nil, err
		}
		if s.ShardGroupDuration, err = p.parseDurationValue(false); err != nil {
			return nil, err
		}
	} else {
		p.unscan(it)
	}
	if it := p.scanIgnoreWS(); it.tok == DEFAULT {
		s.Default = true
	} else {
		p.unscan(it)
	}
	return s, nil
}

// parseAlterRetentionPolicy parses the options of ALTER RETENTION POLICY in
// any order; at least one is required.
func (p *parser) parseAlterRetentionPolicy() (*AlterRetentionPolicyStatement, error) {
	s := &AlterRetentionPolicyStatement{}
	var err error
	if s.Name, s.Database, err = p.parseNameOnDB(); err != nil {
		return nil, err
	}
	expected := []string{"DURATION", "REPLICATION", "SHARD", "DEFAULT"}
	for n := 0; ; n++ {
		it := p.scanIgnoreWS()
		switch it.tok {
		case DURATION:
			d, err := p.parseDurationValue(true)
			if err != nil {
				return nil, err
			}
			s.Duration = &d
		case REPLICATION:
			r, err := p.parseInt(1, maxReplication)
			if err != nil {
				return nil, err
			}
			s.Replication = &r
		case SHARD:
			if err := p.expect(DURATION); err != nil {
				return nil, err
			}
			d, err := p.parseDurationValue(true)
			if err != nil {
				return nil, err
			}
			s.ShardGroupDuration = &d
		case DEFAULT:
			s.Default = true
		default:
			if n == 0 {
				return nil, newParseError(it.str(), expected, it.pos)
			}
			p.unscan(it)
			return s, nil
		}
	}
}

func (p *parser) parseCreateContinuousQuery() (*CreateContinuousQueryStatement, error) {
	s := &CreateContinuousQueryStatement{}
	var err error
	if s.Name, s.Database, err = p.parseNameOnDB(); err != nil {
		return nil, err
	}
	if it := p.scanIgnoreWS(); it.tok == RESAMPLE {
		found := false
		if nx := p.scanIgnoreWS(); nx.tok == EVERY {
			if s.ResampleEvery, err = p.parseDurationValue(false); err != nil {
				return nil, err
			}
			found = true
		} else {
			p.unscan(nx)
		}
		if nx := p.scanIgnoreWS(); nx.tok == FOR {
			if s.ResampleFor, err = p.parseDurationValue(false); err != nil {
				return nil, err
			}
			found = true
		} else {
			p.unscan(nx)
		}
		if !found {
			nx := p.scanIgnoreWS()
			return nil, newParseError(nx.str(), []string{"EVERY", "FOR"}, nx.pos)
		}
	} else {
		p.unscan(it)
	}
	if err := p.expect(BEGIN); err != nil {
		return nil, err
	}
	sel := p.scanIgnoreWS()
	if sel.tok != SELECT {
		return nil, newParseError(sel.str(), []string{"SELECT"}, sel.pos)
	}
	if s.Source, err = p.parseSelectStatement(true); err != nil {
		return nil, err
	}
	// An aggregating CQ needs GROUP BY time; InfluxDB blames the last token
	// of the SELECT.
	if !s.Source.IsRawQuery() {
		if d, err := s.Source.GroupByInterval(); d <= 0 || err != nil {
			end := p.scanIgnoreWS()
			p.unscan(end)
			last := lastTokenBefore(p.s.src, sel.pos, end.pos.Offset)
			expected := []string{"GROUP BY time(...)"}
			if err != nil {
				expected = append(expected, err.Error())
			}
			return nil, newParseError(last.str(), expected, last.pos)
		}
	}
	if err := p.expect(END); err != nil {
		return nil, err
	}
	return s, nil
}

// lastTokenBefore rescans src from start and returns the last
// non-whitespace token that begins before offset end.
func lastTokenBefore(src string, start Pos, end int) item {
	sc := NewScanner(src)
	sc.seek(start)
	var last item
	for {
		tok, pos, lit := sc.Scan()
		if tok == EOF || pos.Offset >= end {
			return last
		}
		if tok == DIV {
			// Keep regexes whole so their inner text is not mistaken for tokens.
			sc.seek(pos)
			tok, pos, lit = sc.ScanRegex()
			if tok != REGEX {
				sc.seek(pos)
				tok, pos, lit = sc.Scan()
			}
		}
		if tok != WS {
			last = item{tok, pos, lit}
		}
	}
}

func (p *parser) parseExplainStatement() (*ExplainStatement, error) {
	s := &ExplainStatement{}
	it := p.scanIgnoreWS()
	if it.tok == ANALYZE {
		s.Analyze = true
		it = p.scanIgnoreWS()
	}
	if it.tok != SELECT {
		return nil, newParseError(it.str(), []string{"SELECT"}, it.pos)
	}
	sel, err := p.parseSelectStatement(false)
	if err != nil {
		return nil, err
	}
	s.Statement = sel
	return s, nil
}

func (p *parser) parseKillQueryStatement() (*KillQueryStatement, error) {
	if err := p.expect(QUERY); err != nil {
		return nil, err
	}
	it := p.scanIgnoreWS()
	if it.tok != INTEGER {
		return nil, newParseError(it.str(), []string{"integer"}, it.pos)
	}
	id, err := strconv.ParseUint(it.lit, 10, 64)
	if err != nil {
		return nil, &ParseError{Message: "unable to parse integer", Pos: it.pos}
	}
	s := &KillQueryStatement{QueryID: id}
	if s.Host, err = p.parseOn(); err != nil {
		return nil, err
	}
	return s, nil
}
