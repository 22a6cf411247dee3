package influxql

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Node is any element of the AST. String prints canonical InfluxQL: parsing
// the output and printing again yields the same text.
type Node interface {
	String() string
	node()
}

// Statement is one of the ';'-separated statements of a query.
type Statement interface {
	Node
	stmt()
}

// Expr is an expression: a literal, a reference, a call or an operation.
type Expr interface {
	Node
	expr()
}

// Source is something a SELECT reads from: a measurement or a subquery.
type Source interface {
	Node
	source()
}

// Query is a parsed query: its statements in order.
type Query struct {
	Statements []Statement
}

func (q *Query) String() string {
	parts := make([]string, len(q.Statements))
	for i, s := range q.Statements {
		parts[i] = s.String()
	}
	return strings.Join(parts, ";\n")
}

// DataType is the type a reference is cast to (`x::float`, `x::tag`).
type DataType int

// Cast targets; Unknown means no cast was written.
const (
	Unknown DataType = iota
	Float
	Integer
	String
	Boolean
	Tag
	AnyField
)

var dataTypeNames = [...]string{
	Unknown: "", Float: "float", Integer: "integer", String: "string",
	Boolean: "boolean", Tag: "tag", AnyField: "field",
}

func (d DataType) String() string {
	if d >= 0 && int(d) < len(dataTypeNames) {
		return dataTypeNames[d]
	}
	return ""
}

func dataTypeFromString(s string) (DataType, bool) {
	for i, n := range dataTypeNames {
		if n != "" && n == strings.ToLower(s) {
			return DataType(i), true
		}
	}
	return Unknown, false
}

// ---- expressions ----

// VarRef names a field or tag (or `time`). Dotted references (`a.b`) keep
// their dots in Val, as InfluxDB does.
type VarRef struct {
	Val  string
	Type DataType
}

// Call is a function call; the parser accepts any name, Validate checks it.
type Call struct {
	Name string
	Args []Expr
}

// BinaryExpr is LHS Op RHS for arithmetic, comparison and boolean operators.
type BinaryExpr struct {
	Op  Token
	LHS Expr
	RHS Expr
}

// ParenExpr keeps the parentheses the user wrote.
type ParenExpr struct {
	Expr Expr
}

// NumberLiteral is a float literal.
type NumberLiteral struct{ Val float64 }

// IntegerLiteral is an integer literal.
type IntegerLiteral struct{ Val int64 }

// StringLiteral is a single-quoted string. In a time comparison it is parsed
// as a timestamp by the analyses, not by the parser.
type StringLiteral struct{ Val string }

// BooleanLiteral is true or false.
type BooleanLiteral struct{ Val bool }

// DurationLiteral is a duration such as 10m; compared with time it is a
// nanosecond timestamp (1704067200000ms).
type DurationLiteral struct{ Val time.Duration }

// TimeLiteral is a resolved timestamp; the parser never produces it, the
// analyses and Bind may.
type TimeLiteral struct{ Val time.Time }

// RegexLiteral is a /regex/.
type RegexLiteral struct{ Val *regexp.Regexp }

// ListLiteral is a parenthesised identifier list (`WITH KEY IN (a, b)`).
type ListLiteral struct{ Vals []string }

// Wildcard is `*`, optionally restricted with `::field` or `::tag`.
type Wildcard struct{ Type DataType }

// BoundParameter is `$name`, replaced by Query.Bind.
type BoundParameter struct{ Name string }

func (*VarRef) expr()          {}
func (*Call) expr()            {}
func (*BinaryExpr) expr()      {}
func (*ParenExpr) expr()       {}
func (*NumberLiteral) expr()   {}
func (*IntegerLiteral) expr()  {}
func (*StringLiteral) expr()   {}
func (*BooleanLiteral) expr()  {}
func (*DurationLiteral) expr() {}
func (*TimeLiteral) expr()     {}
func (*RegexLiteral) expr()    {}
func (*ListLiteral) expr()     {}
func (*Wildcard) expr()        {}
func (*BoundParameter) expr()  {}

func (*VarRef) node()          {}
func (*Call) node()            {}
func (*BinaryExpr) node()      {}
func (*ParenExpr) node()       {}
func (*NumberLiteral) node()   {}
func (*IntegerLiteral) node()  {}
func (*StringLiteral) node()   {}
func (*BooleanLiteral) node()  {}
func (*DurationLiteral) node() {}
func (*TimeLiteral) node()     {}
func (*RegexLiteral) node()    {}
func (*ListLiteral) node()     {}
func (*Wildcard) node()        {}
func (*BoundParameter) node()  {}

func (r *VarRef) String() string {
	if r.Type != Unknown {
		return QuoteIdent(r.Val) + "::" + r.Type.String()
	}
	return QuoteIdent(r.Val)
}

func (c *Call) String() string {
	var b strings.Builder
	// distinct is a keyword but `distinct(x)` parses as a call, so it may
	// stay bare; any other keyword-named function needs quotes.
	if strings.EqualFold(c.Name, "distinct") {
		b.WriteString("distinct")
	} else {
		b.WriteString(QuoteIdent(c.Name))
	}
	b.WriteByte('(')
	for i, a := range c.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(a.String())
	}
	b.WriteByte(')')
	return b.String()
}

// String parenthesises an operand whose operator binds looser than e.Op (or
// equally, on the right), so trees built by hand or by Bind print in a form
// that parses back to the same shape.
func (e *BinaryExpr) String() string {
	prec := e.Op.precedence()
	var b strings.Builder
	writeOperand(&b, e.LHS, func(p int) bool { return p < prec })
	b.WriteByte(' ')
	b.WriteString(e.Op.String())
	b.WriteByte(' ')
	writeOperand(&b, e.RHS, func(p int) bool { return p <= prec })
	return b.String()
}

func writeOperand(b *strings.Builder, e Expr, needParens func(int) bool) {
	if be, ok := e.(*BinaryExpr); ok && needParens(be.Op.precedence()) {
		b.WriteByte('(')
		b.WriteString(be.String())
		b.WriteByte(')')
		return
	}
	if e == nil {
		return
	}
	b.WriteString(e.String())
}

func (e *ParenExpr) String() string { return "(" + e.Expr.String() + ")" }

// String always includes a decimal point so the literal parses back as a
// float, never as an integer.
func (l *NumberLiteral) String() string {
	s := strconv.FormatFloat(l.Val, 'f', -1, 64)
	if !strings.ContainsAny(s, ".IN") {
		s += ".0"
	}
	return s
}

func (l *IntegerLiteral) String() string { return strconv.FormatInt(l.Val, 10) }

func (l *StringLiteral) String() string { return QuoteString(l.Val) }

func (l *BooleanLiteral) String() string {
	if l.Val {
		return "true"
	}
	return "false"
}

func (l *DurationLiteral) String() string { return FormatDuration(l.Val) }

func (l *TimeLiteral) String() string {
	return QuoteString(l.Val.UTC().Format(time.RFC3339Nano))
}

func (l *RegexLiteral) String() string {
	if l.Val == nil {
		return "//"
	}
	return "/" + strings.ReplaceAll(l.Val.String(), "/", `\/`) + "/"
}

func (l *ListLiteral) String() string {
	var b strings.Builder
	b.WriteByte('(')
	for i, v := range l.Vals {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(QuoteIdent(v))
	}
	b.WriteByte(')')
	return b.String()
}

func (w *Wildcard) String() string {
	if w.Type != Unknown {
		return "*::" + w.Type.String()
	}
	return "*"
}

func (p *BoundParameter) String() string {
	if isBareIdent(p.Name) {
		return "$" + p.Name
	}
	return "$" + quoteWith(p.Name, '"')
}

// ---- sources ----

// Measurement is a FROM or INTO target: [db.][rp.]name or a /regex/. In an
// INTO clause IsTarget marks the `:MEASUREMENT` back-reference (Name empty).
type Measurement struct {
	Database        string
	RetentionPolicy string
	Name            string
	Regex           *RegexLiteral
	IsTarget        bool
}

// SubQuery is a parenthesised SELECT used as a source.
type SubQuery struct {
	Statement *SelectStatement
}

func (*Measurement) source() {}
func (*SubQuery) source()    {}
func (*Measurement) node()   {}
func (*SubQuery) node()      {}

func (m *Measurement) String() string {
	var b strings.Builder
	if m.Database != "" {
		b.WriteString(QuoteIdent(m.Database))
		b.WriteByte('.')
		if m.RetentionPolicy != "" {
			b.WriteString(QuoteIdent(m.RetentionPolicy))
		}
		b.WriteByte('.')
	} else if m.RetentionPolicy != "" {
		b.WriteString(QuoteIdent(m.RetentionPolicy))
		b.WriteByte('.')
	}
	switch {
	case m.Regex != nil:
		b.WriteString(m.Regex.String())
	case m.IsTarget:
		b.WriteString(":MEASUREMENT")
	default:
		b.WriteString(QuoteIdent(m.Name))
	}
	return b.String()
}

func (s *SubQuery) String() string { return "(" + s.Statement.String() + ")" }

// Sources is a FROM list.
type Sources []Source

func (s Sources) String() string {
	parts := make([]string, len(s))
	for i, src := range s {
		parts[i] = src.String()
	}
	return strings.Join(parts, ", ")
}

// Measurements returns the measurement sources, skipping subqueries.
func (s Sources) Measurements() []*Measurement {
	var out []*Measurement
	for _, src := range s {
		if m, ok := src.(*Measurement); ok {
			out = append(out, m)
		}
	}
	return out
}

// Target is the INTO clause of a SELECT.
type Target struct {
	Measurement *Measurement
}

func (t *Target) String() string { return "INTO " + t.Measurement.String() }

// ---- SELECT ----

// Field is one SELECT column.
type Field struct {
	Expr  Expr
	Alias string
}

func (f *Field) String() string {
	if f.Alias == "" {
		return f.Expr.String()
	}
	return f.Expr.String() + " AS " + QuoteIdent(f.Alias)
}

// Fields is the SELECT list.
type Fields []*Field

func (fs Fields) String() string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = f.String()
	}
	return strings.Join(parts, ", ")
}

// Dimension is one GROUP BY item: time(...), a tag reference, * or a regex.
type Dimension struct {
	Expr Expr
}

func (d *Dimension) String() string { return d.Expr.String() }

// Dimensions is the GROUP BY list.
type Dimensions []*Dimension

func (ds Dimensions) String() string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.String()
	}
	return strings.Join(parts, ", ")
}

// FillOption says what an empty GROUP BY time bucket yields.
type FillOption int

// Fill modes; NullFill is the default.
const (
	NullFill FillOption = iota
	NoFill
	NumberFill
	PreviousFill
	LinearFill
)

// SortField is one ORDER BY item; only `time` is accepted.
type SortField struct {
	Name      string
	Ascending bool
}

func (f *SortField) String() string {
	dir := " DESC"
	if f.Ascending {
		dir = " ASC"
	}
	if f.Name == "" {
		return strings.TrimSpace(dir)
	}
	return QuoteIdent(f.Name) + dir
}

// SortFields is the ORDER BY list.
type SortFields []*SortField

func (fs SortFields) String() string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = f.String()
	}
	return strings.Join(parts, ", ")
}

// SelectStatement is a SELECT query, possibly with INTO.
type SelectStatement struct {
	Fields     Fields
	Target     *Target
	Sources    Sources
	Condition  Expr
	Dimensions Dimensions
	Fill       FillOption
	// FillValue is an int64 or a float64 when Fill is NumberFill.
	FillValue  any
	SortFields SortFields
	Limit      int
	Offset     int
	SLimit     int
	SOffset    int
	// Location is set by tz('Zone'); nil means UTC.
	Location *time.Location
}

// TimeAscending reports the requested output order; ascending unless
// ORDER BY time DESC (or ORDER BY DESC) was given.
func (s *SelectStatement) TimeAscending() bool {
	return len(s.SortFields) == 0 || s.SortFields[0].Ascending
}

func (s *SelectStatement) String() string {
	var b strings.Builder
	b.WriteString("SELECT ")
	b.WriteString(s.Fields.String())
	if s.Target != nil {
		b.WriteByte(' ')
		b.WriteString(s.Target.String())
	}
	if len(s.Sources) > 0 {
		b.WriteString(" FROM ")
		b.WriteString(s.Sources.String())
	}
	if s.Condition != nil {
		b.WriteString(" WHERE ")
		b.WriteString(s.Condition.String())
	}
	if len(s.Dimensions) > 0 {
		b.WriteString(" GROUP BY ")
		b.WriteString(s.Dimensions.String())
	}
	switch s.Fill {
	case NoFill:
		b.WriteString(" fill(none)")
	case NumberFill:
		b.WriteString(" fill(")
		b.WriteString(fillValueString(s.FillValue))
		b.WriteByte(')')
	case PreviousFill:
		b.WriteString(" fill(previous)")
	case LinearFill:
		b.WriteString(" fill(linear)")
	}
	if len(s.SortFields) > 0 {
		b.WriteString(" ORDER BY ")
		b.WriteString(s.SortFields.String())
	}
	writeIntOption(&b, " LIMIT ", s.Limit)
	writeIntOption(&b, " OFFSET ", s.Offset)
	writeIntOption(&b, " SLIMIT ", s.SLimit)
	writeIntOption(&b, " SOFFSET ", s.SOffset)
	if s.Location != nil {
		b.WriteString(" tz(")
		b.WriteString(QuoteString(s.Location.String()))
		b.WriteByte(')')
	}
	return b.String()
}

func fillValueString(v any) string {
	switch v := v.(type) {
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return (&NumberLiteral{Val: v}).String()
	}
	return "0"
}

func writeIntOption(b *strings.Builder, kw string, n int) {
	if n > 0 {
		b.WriteString(kw)
		b.WriteString(strconv.Itoa(n))
	}
}

// ---- quoting ----

// QuoteString quotes s as an InfluxQL string literal.
func QuoteString(s string) string { return quoteWith(s, '\'') }

// QuoteIdent returns name bare when it scans back as the same identifier and
// double-quoted (with escapes) otherwise, e.g. for keywords or names with
// spaces.
func QuoteIdent(name string) string {
	if isBareIdent(name) && lookupIdent(name) == IDENT {
		return name
	}
	return quoteWith(name, '"')
}

func isBareIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := rune(s[i])
		if !isIdentChar(c) || (i == 0 && isDigit(c)) {
			return false
		}
	}
	return true
}

func quoteWith(s string, q byte) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte(q)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\n':
			b.WriteString(`\n`)
		case '\\':
			b.WriteString(`\\`)
		case q:
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte(q)
	return b.String()
}
