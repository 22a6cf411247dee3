package influxql

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// unaryExpected is what InfluxDB lists when an operand is missing.
var unaryExpected = []string{"identifier", "string", "number", "bool"}

// parseExpr parses a full expression with operator precedence.
func (p *parser) parseExpr() (Expr, error) { return p.parseBinary(1) }

// parseBinary is precedence climbing: operators bind left to right, and an
// operand on the right of an operator of precedence n is parsed at n+1.
func (p *parser) parseBinary(minPrec int) (Expr, error) {
	lhs, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for {
		op := p.scanIgnoreWS()
		prec := op.tok.precedence()
		if prec == 0 || prec < minPrec {
			p.unscan(op)
			return lhs, nil
		}
		var rhs Expr
		if op.tok == EQREGEX || op.tok == NEQREGEX {
			rhs, err = p.parseRegexOperand()
		} else {
			rhs, err = p.parseBinary(prec + 1)
		}
		if err != nil {
			return nil, err
		}
		lhs = &BinaryExpr{Op: op.tok, LHS: lhs, RHS: rhs}
	}
}

// parseRegexOperand parses the right side of =~ / !~: a regex or a bound
// parameter that Bind later turns into one.
func (p *parser) parseRegexOperand() (Expr, error) {
	it := p.scanIgnoreWS()
	switch it.tok {
	case DIV:
		return p.parseRegexAt(it)
	case BOUNDPARAM:
		return &BoundParameter{Name: it.lit}, nil
	}
	return nil, newParseError(it.str(), []string{"regex"}, it.pos)
}

// parseRegexAt rescans from a DIV token as a regex literal.
func (p *parser) parseRegexAt(it item) (*RegexLiteral, error) {
	p.back = p.back[:0]
	p.s.seek(it.pos)
	tok, pos, lit := p.s.ScanRegex()
	if tok == BADREGEX {
		return nil, &ParseError{Message: "found unterminated regex", Pos: pos}
	}
	re, err := regexp.Compile(lit)
	if err != nil {
		return nil, &ParseError{Message: err.Error(), Pos: pos}
	}
	return &RegexLiteral{Val: re}, nil
}

func (p *parser) parseUnary() (Expr, error) {
	it := p.scanIgnoreWS()
	if err := p.enter(it.pos); err != nil {
		return nil, err
	}
	defer p.leave()
	switch it.tok {
	case LPAREN:
		e, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		if err := p.expect(RPAREN); err != nil {
			return nil, err
		}
		return &ParenExpr{Expr: e}, nil
	case IDENT:
		if nx := p.scan(); nx.tok == LPAREN {
			return p.parseCall(it.lit)
		} else {
			p.unscan(nx)
		}
		p.unscan(it)
		return p.parseVarRef()
	case DISTINCT:
		// distinct(x) is a call; InfluxQL also accepts the SQL spelling
		// DISTINCT x, which means the same.
		if nx := p.scanIgnoreWS(); nx.tok == LPAREN {
			return p.parseCall("distinct")
		} else if nx.tok == IDENT {
			p.unscan(nx)
			ref, err := p.parseVarRef()
			if err != nil {
				return nil, err
			}
			return &Call{Name: "distinct", Args: []Expr{ref}}, nil
		} else {
			return nil, newParseError(nx.str(), []string{"identifier", "("}, nx.pos)
		}
	case STRING:
		return &StringLiteral{Val: it.lit}, nil
	case NUMBER:
		v, err := strconv.ParseFloat(it.lit, 64)
		if err != nil {
			return nil, &ParseError{Message: "unable to parse number", Pos: it.pos}
		}
		return &NumberLiteral{Val: v}, nil
	case INTEGER:
		v, err := strconv.ParseInt(it.lit, 10, 64)
		if err != nil {
			return nil, &ParseError{Message: "unable to parse integer", Pos: it.pos}
		}
		return &IntegerLiteral{Val: v}, nil
	case TRUE, FALSE:
		return &BooleanLiteral{Val: it.tok == TRUE}, nil
	case DURATIONVAL:
		d, err := ParseDuration(it.lit)
		if err != nil {
			return nil, &ParseError{Message: err.Error(), Pos: it.pos}
		}
		return &DurationLiteral{Val: d}, nil
	case MUL:
		w := &Wildcard{}
		t, err := p.parseCast()
		if err != nil {
			return nil, err
		}
		if t != Unknown && t != AnyField && t != Tag {
			return nil, &ParseError{Message: "wildcard can only be cast to field or tag", Pos: it.pos}
		}
		w.Type = t
		return w, nil
	case DIV:
		return p.parseRegexAt(it)
	case BOUNDPARAM:
		return &BoundParameter{Name: it.lit}, nil
	case SUB, ADD:
		return p.parseSigned(it)
	case BADSTRING:
		return nil, &ParseError{Message: "found unterminated string", Pos: it.pos}
	case BADESCAPE:
		return nil, &ParseError{Message: "found invalid escape " + it.lit, Pos: it.pos}
	}
	return nil, newParseError(it.str(), unaryExpected, it.pos)
}

// parseSigned handles a leading + or -. Signs fold into numeric and duration
// literals (so -9223372036854775808 is representable); a negated reference,
// call or parenthesised expression becomes -1 * x.
func (p *parser) parseSigned(sign item) (Expr, error) {
	nx := p.scanIgnoreWS()
	neg := sign.tok == SUB
	switch nx.tok {
	case INTEGER:
		lit := nx.lit
		if neg {
			lit = "-" + lit
		}
		v, err := strconv.ParseInt(lit, 10, 64)
		if err != nil {
			return nil, &ParseError{Message: "unable to parse integer", Pos: nx.pos}
		}
		return &IntegerLiteral{Val: v}, nil
	case NUMBER, DURATIONVAL, LPAREN, IDENT:
		p.unscan(nx)
		e, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		if !neg {
			return e, nil
		}
		switch e := e.(type) {
		case *NumberLiteral:
			e.Val = -e.Val
			return e, nil
		case *DurationLiteral:
			e.Val = -e.Val
			return e, nil
		}
		return &BinaryExpr{Op: MUL, LHS: &IntegerLiteral{Val: -1}, RHS: e}, nil
	}
	return nil, newParseError(nx.str(), []string{"identifier", "number", "duration", "("}, nx.pos)
}

// parseCast parses an optional `::type` directly after a reference.
func (p *parser) parseCast() (DataType, error) {
	it := p.scan()
	if it.tok != DOUBLECOLON {
		p.unscan(it)
		return Unknown, nil
	}
	t := p.scan()
	// Field and tag are keywords; the scalar type names are identifiers.
	name := t.lit
	switch t.tok {
	case FIELD:
		return AnyField, nil
	case TAG:
		return Tag, nil
	case IDENT:
		if dt, ok := dataTypeFromString(name); ok && dt != AnyField && dt != Tag {
			return dt, nil
		}
	}
	return Unknown, newParseError(t.str(), []string{"float", "integer", "string", "boolean", "field", "tag"}, t.pos)
}

// parseVarRef parses a (possibly dotted) reference with an optional cast.
func (p *parser) parseVarRef() (*VarRef, error) {
	first, err := p.parseIdent()
	if err != nil {
		return nil, err
	}
	val := first
	for {
		dot := p.scan()
		if dot.tok != DOT {
			p.unscan(dot)
			break
		}
		seg := p.scan()
		if seg.tok != IDENT {
			return nil, newParseError(seg.str(), []string{"identifier"}, seg.pos)
		}
		val += "." + seg.lit
	}
	t, err := p.parseCast()
	if err != nil {
		return nil, err
	}
	return &VarRef{Val: val, Type: t}, nil
}

// parseCall parses the arguments of name( ... ); the '(' is consumed.
func (p *parser) parseCall(name string) (*Call, error) {
	c := &Call{Name: name}
	if it := p.scanIgnoreWS(); it.tok == RPAREN {
		return c, nil
	} else {
		p.unscan(it)
	}
	for {
		arg, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		c.Args = append(c.Args, arg)
		it := p.scanIgnoreWS()
		switch it.tok {
		case COMMA:
			continue
		case RPAREN:
			return c, nil
		}
		return nil, newParseError(it.str(), []string{",", ")"}, it.pos)
	}
}

// ---- SELECT ----

func (p *parser) parseSelectStatement(targetRequired bool) (*SelectStatement, error) {
	if err := p.enter(p.s.pos); err != nil {
		return nil, err
	}
	defer p.leave()
	s := &SelectStatement{}
	var err error
	if s.Fields, err = p.parseFields(); err != nil {
		return nil, err
	}
	if it := p.scanIgnoreWS(); it.tok == INTO {
		m, err := p.parseMeasurement(true)
		if err != nil {
			return nil, err
		}
		s.Target = &Target{Measurement: m}
	} else {
		if targetRequired {
			return nil, newParseError(it.str(), []string{"INTO"}, it.pos)
		}
		p.unscan(it)
	}
	if err := p.expect(FROM); err != nil {
		return nil, err
	}
	if s.Sources, err = p.parseSources(true); err != nil {
		return nil, err
	}
	if s.Condition, err = p.parseCondition(); err != nil {
		return nil, err
	}
	if s.Dimensions, err = p.parseDimensions(); err != nil {
		return nil, err
	}
	if err := p.parseFill(s); err != nil {
		return nil, err
	}
	if s.SortFields, err = p.parseSortFields(); err != nil {
		return nil, err
	}
	if s.Limit, err = p.parseOptionalInt(LIMIT); err != nil {
		return nil, err
	}
	if s.Offset, err = p.parseOptionalInt(OFFSET); err != nil {
		return nil, err
	}
	if s.SLimit, err = p.parseOptionalInt(SLIMIT); err != nil {
		return nil, err
	}
	if s.SOffset, err = p.parseOptionalInt(SOFFSET); err != nil {
		return nil, err
	}
	if s.Location, err = p.parseLocation(); err != nil {
		return nil, err
	}
	return s, nil
}

func (p *parser) parseFields() (Fields, error) {
	var fields Fields
	for {
		e, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		f := &Field{Expr: e}
		if it := p.scanIgnoreWS(); it.tok == AS {
			if f.Alias, err = p.parseIdent(); err != nil {
				return nil, err
			}
		} else {
			p.unscan(it)
		}
		fields = append(fields, f)
		if it := p.scanIgnoreWS(); it.tok != COMMA {
			p.unscan(it)
			return fields, nil
		}
	}
}

// parseSources parses a comma-separated FROM list; subqueries only where
// SELECT allows them.
func (p *parser) parseSources(subqueries bool) (Sources, error) {
	var srcs Sources
	for {
		it := p.scanIgnoreWS()
		if it.tok == LPAREN && subqueries {
			if err := p.expect(SELECT); err != nil {
				return nil, err
			}
			sel, err := p.parseSelectStatement(false)
			if err != nil {
				return nil, err
			}
			if err := p.expect(RPAREN); err != nil {
				return nil, err
			}
			srcs = append(srcs, &SubQuery{Statement: sel})
		} else {
			p.unscan(it)
			m, err := p.parseMeasurement(false)
			if err != nil {
				return nil, err
			}
			srcs = append(srcs, m)
		}
		if it := p.scanIgnoreWS(); it.tok != COMMA {
			p.unscan(it)
			return srcs, nil
		}
	}
}

// parseMeasurement parses [db.][rp.]name where the last segment may be a
// /regex/ and, for INTO targets, the back-reference :MEASUREMENT. An empty
// middle segment (db..m) means the default retention policy.
func (p *parser) parseMeasurement(target bool) (*Measurement, error) {
	var segs []string
	m := &Measurement{}
	it := p.scanIgnoreWS()
segments:
	for {
		switch {
		case it.tok == IDENT:
			segs = append(segs, it.lit)
		case it.tok == DIV:
			re, err := p.parseRegexAt(it)
			if err != nil {
				return nil, err
			}
			m.Regex = re
			segs = append(segs, "")
			break segments
		case it.tok == COLON && target && len(segs) > 0:
			kw := p.scan()
			if kw.tok != MEASUREMENT {
				return nil, newParseError(kw.str(), []string{"MEASUREMENT"}, kw.pos)
			}
			m.IsTarget = true
			segs = append(segs, "")
			break segments
		case it.tok == DOT && len(segs) > 0:
			// An empty segment (db..m); the dot is the next separator.
			segs = append(segs, "")
			p.unscan(it)
		default:
			return nil, newParseError(it.str(), []string{"identifier"}, it.pos)
		}
		dot := p.scan()
		if dot.tok != DOT {
			p.unscan(dot)
			break
		}
		if len(segs) == 3 {
			return nil, &ParseError{Message: "too many segments in measurement name", Pos: dot.pos}
		}
		it = p.scan()
	}
	switch len(segs) {
	case 1:
		m.Name = segs[0]
	case 2:
		m.RetentionPolicy, m.Name = segs[0], segs[1]
	default:
		m.Database, m.RetentionPolicy, m.Name = segs[0], segs[1], segs[2]
	}
	if m.Name == "" && m.Regex == nil && !m.IsTarget {
		return nil, newParseError(it.str(), []string{"identifier"}, it.pos)
	}
	return m, nil
}

func (p *parser) parseCondition() (Expr, error) {
	it := p.scanIgnoreWS()
	if it.tok != WHERE {
		p.unscan(it)
		return nil, nil
	}
	return p.parseExpr()
}

func (p *parser) parseDimensions() (Dimensions, error) {
	it := p.scanIgnoreWS()
	if it.tok != GROUP {
		p.unscan(it)
		return nil, nil
	}
	if err := p.expect(BY); err != nil {
		return nil, err
	}
	var dims Dimensions
	for {
		e, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		dims = append(dims, &Dimension{Expr: e})
		if it := p.scanIgnoreWS(); it.tok != COMMA {
			p.unscan(it)
			return dims, nil
		}
	}
}

// parseFill parses an optional fill(null|none|previous|linear|<number>).
func (p *parser) parseFill(s *SelectStatement) error {
	it := p.scanIgnoreWS()
	if it.tok != IDENT || !strings.EqualFold(it.lit, "fill") {
		p.unscan(it)
		return nil
	}
	if lp := p.scanIgnoreWS(); lp.tok != LPAREN {
		return newParseError(lp.str(), []string{"("}, lp.pos)
	}
	arg := p.scanIgnoreWS()
	if arg.tok == RPAREN {
		return &ParseError{Message: "fill requires an argument, e.g.: 0, null, none, previous, linear", Pos: arg.pos}
	}
	switch {
	case arg.tok == IDENT && arg.lit == "null":
		s.Fill = NullFill
	case arg.tok == IDENT && arg.lit == "none":
		s.Fill = NoFill
	case arg.tok == IDENT && arg.lit == "previous":
		s.Fill = PreviousFill
	case arg.tok == IDENT && arg.lit == "linear":
		s.Fill = LinearFill
	case arg.tok == INTEGER || arg.tok == NUMBER || arg.tok == SUB || arg.tok == ADD:
		p.unscan(arg)
		e, err := p.parseUnary()
		if err != nil {
			return err
		}
		switch v := e.(type) {
		case *IntegerLiteral:
			s.FillValue = v.Val
		case *NumberLiteral:
			s.FillValue = v.Val
		default:
			return &ParseError{Message: "expected number argument in fill()", Pos: arg.pos}
		}
		s.Fill = NumberFill
	default:
		return &ParseError{Message: "fill requires an argument, e.g.: 0, null, none, previous, linear", Pos: arg.pos}
	}
	return p.expect(RPAREN)
}

// errOrderByTime is InfluxDB's (position-less) answer to any ORDER BY other
// than time.
var errOrderByTime = &ParseError{Message: "only ORDER BY time supported at this time", Pos: noPos}

func (p *parser) parseSortFields() (SortFields, error) {
	it := p.scanIgnoreWS()
	if it.tok != ORDER {
		p.unscan(it)
		return nil, nil
	}
	if err := p.expect(BY); err != nil {
		return nil, err
	}
	var fields SortFields
	for {
		f := &SortField{Ascending: true}
		it := p.scanIgnoreWS()
		switch it.tok {
		case ASC, DESC:
			if len(fields) > 0 {
				return nil, newParseError(it.str(), []string{"identifier"}, it.pos)
			}
			f.Ascending = it.tok == ASC
		case IDENT:
			f.Name = it.lit
			switch d := p.scanIgnoreWS(); d.tok {
			case ASC, DESC:
				f.Ascending = d.tok == ASC
			default:
				p.unscan(d)
			}
		default:
			if len(fields) > 0 {
				return nil, newParseError(it.str(), []string{"identifier"}, it.pos)
			}
			return nil, newParseError(it.str(), []string{"identifier", "ASC", "DESC"}, it.pos)
		}
		fields = append(fields, f)
		if it := p.scanIgnoreWS(); it.tok != COMMA {
			p.unscan(it)
			break
		}
	}
	if len(fields) > 1 || (fields[0].Name != "" && !strings.EqualFold(fields[0].Name, "time")) {
		return nil, errOrderByTime
	}
	// Canonicalise so that ORDER BY DESC and ORDER BY TIME DESC print alike.
	fields[0].Name = "time"
	return fields, nil
}

// parseOptionalInt parses `<kw> <integer>` if the next token is kw.
func (p *parser) parseOptionalInt(kw Token) (int, error) {
	it := p.scanIgnoreWS()
	if it.tok != kw {
		p.unscan(it)
		return 0, nil
	}
	return p.parseInt(0, maxInt)
}

// maxInt bounds LIMIT/OFFSET style integers; InfluxDB uses a Go int too.
const maxInt = int(^uint(0) >> 1)

// parseInt parses an integer token in [min, max].
func (p *parser) parseInt(min, max int) (int, error) {
	it := p.scanIgnoreWS()
	if it.tok != INTEGER {
		return 0, newParseError(it.str(), []string{"integer"}, it.pos)
	}
	n, err := strconv.ParseInt(it.lit, 10, 64)
	if err != nil || n > int64(maxInt) {
		return 0, &ParseError{Message: "unable to parse integer", Pos: it.pos}
	}
	if int(n) < min || int(n) > max {
		return 0, &ParseError{Message: "invalid value " + it.lit + ": must be " + strconv.Itoa(min) + " <= n <= " + strconv.Itoa(max), Pos: it.pos}
	}
	return int(n), nil
}

// parseLocation parses an optional tz('Zone').
func (p *parser) parseLocation() (*time.Location, error) {
	it := p.scanIgnoreWS()
	if it.tok != IDENT || !strings.EqualFold(it.lit, "tz") {
		p.unscan(it)
		return nil, nil
	}
	if err := p.expect(LPAREN); err != nil {
		return nil, err
	}
	name := p.scanIgnoreWS()
	if name.tok != STRING {
		return nil, newParseError(name.str(), []string{"string"}, name.pos)
	}
	loc, err := loadLocation(name.lit)
	if err != nil {
		return nil, &ParseError{Message: "unable to find time zone " + name.lit, Pos: name.pos}
	}
	if err := p.expect(RPAREN); err != nil {
		return nil, err
	}
	return loc, nil
}
