package influxql

// The user management statements, with InfluxDB 1.x's grammar and error texts:
// clients and the 1.x test suite match on them.

// parseCreateUser parses the rest of CREATE USER name WITH PASSWORD 'pw'
// [WITH ALL PRIVILEGES].
func (p *parser) parseCreateUser() (*CreateUserStatement, error) {
	name, err := p.parseIdent()
	if err != nil {
		return nil, err
	}
	if err := p.expectHidingStrings(WITH); err != nil {
		return nil, err
	}
	if err := p.expectHidingStrings(PASSWORD); err != nil {
		return nil, err
	}
	pw, err := p.parseStringLit()
	if err != nil {
		return nil, err
	}
	s := &CreateUserStatement{Name: name, Password: pw}
	if it := p.scanIgnoreWS(); it.tok != WITH {
		p.unscan(it)
		return s, nil
	}
	if err := p.expect(ALL); err != nil {
		return nil, err
	}
	if err := p.expect(PRIVILEGES); err != nil {
		return nil, err
	}
	s.Admin = true
	return s, nil
}

// parseSetPassword parses the rest of SET PASSWORD FOR name = 'pw'.
func (p *parser) parseSetPassword() (*SetPasswordUserStatement, error) {
	if err := p.expect(PASSWORD); err != nil {
		return nil, err
	}
	if err := p.expect(FOR); err != nil {
		return nil, err
	}
	name, err := p.parseIdent()
	if err != nil {
		return nil, err
	}
	if err := p.expectHidingStrings(EQ); err != nil {
		return nil, err
	}
	pw, err := p.parseStringLit()
	if err != nil {
		return nil, err
	}
	return &SetPasswordUserStatement{Name: name, Password: pw}, nil
}

// expectHidingStrings is expect where a misplaced string is likely a password
// (SET PASSWORD FOR u 'pw', CREATE USER u WITH 'pw'): the error names it
// [REDACTED] instead of quoting it, where 1.x would echo it.
func (p *parser) expectHidingStrings(tok Token) error {
	it := p.scanIgnoreWS()
	if it.tok == tok {
		return nil
	}
	found := it.str()
	if it.tok == STRING || it.tok == BADSTRING || it.tok == BADESCAPE {
		found = redacted
	}
	return newParseError(found, []string{tok.String()}, it.pos)
}

// parseStringLit parses a single-quoted string.
func (p *parser) parseStringLit() (string, error) {
	it := p.scanIgnoreWS()
	if it.tok != STRING {
		return "", newParseError(it.str(), []string{"string"}, it.pos)
	}
	return it.lit, nil
}

// parsePrivilege parses READ, WRITE or ALL [PRIVILEGES].
func (p *parser) parsePrivilege() (Privilege, error) {
	it := p.scanIgnoreWS()
	switch it.tok {
	case READ:
		return ReadPrivilege, nil
	case WRITE:
		return WritePrivilege, nil
	case ALL:
		if nx := p.scanIgnoreWS(); nx.tok != PRIVILEGES {
			p.unscan(nx)
		}
		return AllPrivileges, nil
	}
	return 0, newParseError(it.str(), []string{"READ", "WRITE", "ALL [PRIVILEGES]"}, it.pos)
}

// parseGrantRevoke parses the rest of GRANT priv ON db TO user, GRANT ALL TO
// user, REVOKE priv ON db FROM user and REVOKE ALL FROM user. toFrom is TO for
// GRANT, FROM for REVOKE.
func (p *parser) parseGrantRevoke(toFrom Token) (Statement, error) {
	priv, err := p.parsePrivilege()
	if err != nil {
		return nil, err
	}
	it := p.scanIgnoreWS()
	switch {
	case it.tok == ON:
		db, err := p.parseIdent()
		if err != nil {
			return nil, err
		}
		if err := p.expect(toFrom); err != nil {
			return nil, err
		}
		user, err := p.parseIdent()
		if err != nil {
			return nil, err
		}
		if toFrom == TO {
			return &GrantStatement{Privilege: priv, On: db, User: user}, nil
		}
		return &RevokeStatement{Privilege: priv, On: db, User: user}, nil
	case it.tok == toFrom && priv == AllPrivileges:
		user, err := p.parseIdent()
		if err != nil {
			return nil, err
		}
		if toFrom == TO {
			return &GrantAdminStatement{User: user}, nil
		}
		return &RevokeAdminStatement{User: user}, nil
	case priv == AllPrivileges:
		return nil, newParseError(it.str(), []string{"ON", toFrom.String()}, it.pos)
	}
	return nil, newParseError(it.str(), []string{"ON"}, it.pos)
}

// parseShowGrants parses the rest of SHOW GRANTS FOR user.
func (p *parser) parseShowGrants() (*ShowGrantsForUserStatement, error) {
	if err := p.expect(FOR); err != nil {
		return nil, err
	}
	name, err := p.parseIdent()
	if err != nil {
		return nil, err
	}
	return &ShowGrantsForUserStatement{Name: name}, nil
}
