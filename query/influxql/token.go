package influxql

import "strings"

// Token is the kind of a lexical token.
type Token int

// Token kinds. The order groups literals, operators and keywords so that the
// helpers below can classify a token with a range check.
const (
	ILLEGAL Token = iota
	EOF
	WS

	literalBeg
	IDENT       // cpu, "quoted ident"
	BOUNDPARAM  // $param
	NUMBER      // 12.5
	INTEGER     // 12
	DURATIONVAL // 10m, 1h30m
	STRING      // 'abc'
	BADSTRING   // 'abc (unterminated)
	BADESCAPE   // \q inside a string or quoted identifier
	TRUE
	FALSE
	REGEX    // /re/
	BADREGEX // /re (unterminated)
	literalEnd

	operatorBeg
	ADD         // +
	SUB         // -
	MUL         // *
	DIV         // /
	MOD         // %
	BITWISE_AND // &
	BITWISE_OR  // |
	BITWISE_XOR // ^

	AND // AND
	OR  // OR

	EQ       // =
	NEQ      // != or <>
	EQREGEX  // =~
	NEQREGEX // !~
	LT       // <
	LTE      // <=
	GT       // >
	GTE      // >=
	operatorEnd

	LPAREN      // (
	RPAREN      // )
	COMMA       // ,
	COLON       // :
	DOUBLECOLON // ::
	SEMICOLON   // ;
	DOT         // .

	keywordBeg
	ALL
	ALTER
	ANALYZE
	ANY
	AS
	ASC
	BEGIN
	BY
	CARDINALITY
	CREATE
	CONTINUOUS
	DATABASE
	DATABASES
	DEFAULT
	DELETE
	DESC
	DESTINATIONS
	DIAGNOSTICS
	DISTINCT
	DROP
	DURATION
	END
	EVERY
	EXACT
	EXPLAIN
	FIELD
	FOR
	FROM
	GRANT
	GRANTS
	GROUP
	GROUPS
	IN
	INF
	INSERT
	INTO
	KEY
	KEYS
	KILL
	LIMIT
	MEASUREMENT
	MEASUREMENTS
	NAME
	OFFSET
	ON
	ORDER
	PASSWORD
	POLICY
	POLICIES
	PRIVILEGES
	QUERIES
	QUERY
	READ
	REPLICATION
	RESAMPLE
	RETENTION
	REVOKE
	SELECT
	SERIES
	SET
	SHARD
	SHARDS
	SHOW
	SLIMIT
	SOFFSET
	STATS
	SUBSCRIPTION
	SUBSCRIPTIONS
	TAG
	TO
	USER
	USERS
	VALUES
	WHERE
	WITH
	WRITE
	keywordEnd
)

var tokenNames = [...]string{
	ILLEGAL:     "ILLEGAL",
	EOF:         "EOF",
	WS:          "WS",
	IDENT:       "IDENT",
	BOUNDPARAM:  "BOUNDPARAM",
	NUMBER:      "NUMBER",
	INTEGER:     "INTEGER",
	DURATIONVAL: "DURATIONVAL",
	STRING:      "STRING",
	BADSTRING:   "BADSTRING",
	BADESCAPE:   "BADESCAPE",
	TRUE:        "TRUE",
	FALSE:       "FALSE",
	REGEX:       "REGEX",
	BADREGEX:    "BADREGEX",

	ADD:         "+",
	SUB:         "-",
	MUL:         "*",
	DIV:         "/",
	MOD:         "%",
	BITWISE_AND: "&",
	BITWISE_OR:  "|",
	BITWISE_XOR: "^",
	AND:         "AND",
	OR:          "OR",
	EQ:          "=",
	NEQ:         "!=",
	EQREGEX:     "=~",
	NEQREGEX:    "!~",
	LT:          "<",
	LTE:         "<=",
	GT:          ">",
	GTE:         ">=",

	LPAREN:      "(",
	RPAREN:      ")",
	COMMA:       ",",
	COLON:       ":",
	DOUBLECOLON: "::",
	SEMICOLON:   ";",
	DOT:         ".",

	ALL:           "ALL",
	ALTER:         "ALTER",
	ANALYZE:       "ANALYZE",
	ANY:           "ANY",
	AS:            "AS",
	ASC:           "ASC",
	BEGIN:         "BEGIN",
	BY:            "BY",
	CARDINALITY:   "CARDINALITY",
	CREATE:        "CREATE",
	CONTINUOUS:    "CONTINUOUS",
	DATABASE:      "DATABASE",
	DATABASES:     "DATABASES",
	DEFAULT:       "DEFAULT",
	DELETE:        "DELETE",
	DESC:          "DESC",
	DESTINATIONS:  "DESTINATIONS",
	DIAGNOSTICS:   "DIAGNOSTICS",
	DISTINCT:      "DISTINCT",
	DROP:          "DROP",
	DURATION:      "DURATION",
	END:           "END",
	EVERY:         "EVERY",
	EXACT:         "EXACT",
	EXPLAIN:       "EXPLAIN",
	FIELD:         "FIELD",
	FOR:           "FOR",
	FROM:          "FROM",
	GRANT:         "GRANT",
	GRANTS:        "GRANTS",
	GROUP:         "GROUP",
	GROUPS:        "GROUPS",
	IN:            "IN",
	INF:           "INF",
	INSERT:        "INSERT",
	INTO:          "INTO",
	KEY:           "KEY",
	KEYS:          "KEYS",
	KILL:          "KILL",
	LIMIT:         "LIMIT",
	MEASUREMENT:   "MEASUREMENT",
	MEASUREMENTS:  "MEASUREMENTS",
	NAME:          "NAME",
	OFFSET:        "OFFSET",
	ON:            "ON",
	ORDER:         "ORDER",
	PASSWORD:      "PASSWORD",
	POLICY:        "POLICY",
	POLICIES:      "POLICIES",
	PRIVILEGES:    "PRIVILEGES",
	QUERIES:       "QUERIES",
	QUERY:         "QUERY",
	READ:          "READ",
	REPLICATION:   "REPLICATION",
	RESAMPLE:      "RESAMPLE",
	RETENTION:     "RETENTION",
	REVOKE:        "REVOKE",
	SELECT:        "SELECT",
	SERIES:        "SERIES",
	SET:           "SET",
	SHARD:         "SHARD",
	SHARDS:        "SHARDS",
	SHOW:          "SHOW",
	SLIMIT:        "SLIMIT",
	SOFFSET:       "SOFFSET",
	STATS:         "STATS",
	SUBSCRIPTION:  "SUBSCRIPTION",
	SUBSCRIPTIONS: "SUBSCRIPTIONS",
	TAG:           "TAG",
	TO:            "TO",
	USER:          "USER",
	USERS:         "USERS",
	VALUES:        "VALUES",
	WHERE:         "WHERE",
	WITH:          "WITH",
	WRITE:         "WRITE",
}

// keywords maps the lower-cased spelling of every keyword (and of the word
// operators and boolean literals) to its token; lookups lower-case first
// because InfluxQL keywords are case-insensitive.
var keywords map[string]Token

func init() {
	keywords = make(map[string]Token, int(keywordEnd-keywordBeg)+4)
	for tok := keywordBeg + 1; tok < keywordEnd; tok++ {
		keywords[strings.ToLower(tokenNames[tok])] = tok
	}
	keywords["and"] = AND
	keywords["or"] = OR
	keywords["true"] = TRUE
	keywords["false"] = FALSE
}

// String returns the token's spelling as InfluxDB prints it in errors.
func (t Token) String() string {
	if t >= 0 && int(t) < len(tokenNames) && tokenNames[t] != "" {
		return tokenNames[t]
	}
	return "ILLEGAL"
}

// isOperator reports whether t is a binary operator.
func (t Token) isOperator() bool { return t > operatorBeg && t < operatorEnd }

// isKeyword reports whether t is a reserved word.
func (t Token) isKeyword() bool { return t > keywordBeg && t < keywordEnd }

// precedence returns the binding strength of a binary operator, 0 for
// anything else. Comparisons bind looser than arithmetic, AND tighter than OR.
func (t Token) precedence() int {
	switch t {
	case OR:
		return 1
	case AND:
		return 2
	case EQ, NEQ, EQREGEX, NEQREGEX, LT, LTE, GT, GTE:
		return 4
	case ADD, SUB, BITWISE_OR, BITWISE_XOR:
		return 5
	case MUL, DIV, MOD, BITWISE_AND:
		return 6
	}
	return 0
}

// maxKeywordLen is the length of the longest keyword (SUBSCRIPTIONS);
// longer identifiers cannot be keywords and skip the lookup.
const maxKeywordLen = 13

// lookupIdent returns the keyword token for ident, or IDENT. It lower-cases
// into a stack buffer: the scanner calls it for every identifier, and
// strings.ToLower would allocate for each upper-case keyword.
func lookupIdent(ident string) Token {
	if len(ident) > maxKeywordLen {
		return IDENT
	}
	var buf [maxKeywordLen]byte
	for i := 0; i < len(ident); i++ {
		c := ident[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	if tok, ok := keywords[string(buf[:len(ident)])]; ok {
		return tok
	}
	return IDENT
}

// Pos is a position in the query text. Line and Char are zero-based, Char
// counts runes within the line; errors print both one-based as InfluxDB does.
// Offset is the byte offset from the start of the query.
type Pos struct {
	Line   int
	Char   int
	Offset int
}
