package influxql

import "strings"

// User management statements (InfluxDB 1.x). Their String forms print
// "[REDACTED]" for a password, as 1.x does, so a statement's text is safe to show
// in SHOW QUERIES, logs and error messages.

// Privilege is what a user may do on one database. The values are bit sets, as
// in InfluxDB 1.x: REVOKE READ from ALL leaves WRITE.
type Privilege int

const (
	NoPrivileges   Privilege = 0
	ReadPrivilege  Privilege = 1
	WritePrivilege Privilege = 2
	AllPrivileges  Privilege = ReadPrivilege | WritePrivilege
)

// String is the privilege as SHOW GRANTS prints it.
func (p Privilege) String() string {
	switch p {
	case NoPrivileges:
		return "NO PRIVILEGES"
	case ReadPrivilege:
		return "READ"
	case WritePrivilege:
		return "WRITE"
	case AllPrivileges:
		return "ALL PRIVILEGES"
	}
	return "UNKNOWN PRIVILEGE"
}

// redacted replaces a password in a statement's text.
const redacted = "[REDACTED]"

// CreateUserStatement is CREATE USER name WITH PASSWORD 'pw' [WITH ALL PRIVILEGES].
type CreateUserStatement struct {
	Name     string
	Password string
	Admin    bool
}

// DropUserStatement is DROP USER name.
type DropUserStatement struct{ Name string }

// SetPasswordUserStatement is SET PASSWORD FOR name = 'pw'.
type SetPasswordUserStatement struct {
	Name     string
	Password string
}

// GrantStatement is GRANT READ|WRITE|ALL [PRIVILEGES] ON db TO user.
type GrantStatement struct {
	Privilege Privilege
	On        string
	User      string
}

// GrantAdminStatement is GRANT ALL [PRIVILEGES] TO user.
type GrantAdminStatement struct{ User string }

// RevokeStatement is REVOKE READ|WRITE|ALL [PRIVILEGES] ON db FROM user.
type RevokeStatement struct {
	Privilege Privilege
	On        string
	User      string
}

// RevokeAdminStatement is REVOKE ALL [PRIVILEGES] FROM user.
type RevokeAdminStatement struct{ User string }

// ShowGrantsForUserStatement is SHOW GRANTS FOR user.
type ShowGrantsForUserStatement struct{ Name string }

func (*CreateUserStatement) stmt()        {}
func (*DropUserStatement) stmt()          {}
func (*SetPasswordUserStatement) stmt()   {}
func (*GrantStatement) stmt()             {}
func (*GrantAdminStatement) stmt()        {}
func (*RevokeStatement) stmt()            {}
func (*RevokeAdminStatement) stmt()       {}
func (*ShowGrantsForUserStatement) stmt() {}

func (*CreateUserStatement) node()        {}
func (*DropUserStatement) node()          {}
func (*SetPasswordUserStatement) node()   {}
func (*GrantStatement) node()             {}
func (*GrantAdminStatement) node()        {}
func (*RevokeStatement) node()            {}
func (*RevokeAdminStatement) node()       {}
func (*ShowGrantsForUserStatement) node() {}

func (s *CreateUserStatement) String() string {
	out := "CREATE USER " + QuoteIdent(s.Name) + " WITH PASSWORD " + redacted
	if s.Admin {
		out += " WITH ALL PRIVILEGES"
	}
	return out
}

func (s *DropUserStatement) String() string { return "DROP USER " + QuoteIdent(s.Name) }

func (s *SetPasswordUserStatement) String() string {
	return "SET PASSWORD FOR " + QuoteIdent(s.Name) + " = " + redacted
}

func (s *GrantStatement) String() string {
	return "GRANT " + s.Privilege.String() + " ON " + QuoteIdent(s.On) + " TO " + QuoteIdent(s.User)
}

func (s *GrantAdminStatement) String() string { return "GRANT ALL PRIVILEGES TO " + QuoteIdent(s.User) }

func (s *RevokeStatement) String() string {
	return "REVOKE " + s.Privilege.String() + " ON " + QuoteIdent(s.On) + " FROM " + QuoteIdent(s.User)
}

func (s *RevokeAdminStatement) String() string {
	return "REVOKE ALL PRIVILEGES FROM " + QuoteIdent(s.User)
}

func (s *ShowGrantsForUserStatement) String() string {
	return "SHOW GRANTS FOR " + QuoteIdent(s.Name)
}

// RedactPasswords returns the text of a query with the passwords of its user
// statements replaced, for logging text as sent (a parsed query prints redacted
// through String). After each PASSWORD keyword the first single-quoted string
// before the next ';' is replaced: that covers WITH PASSWORD 'pw' and SET
// PASSWORD FOR name = 'pw', and errs on the side of hiding too much.
func RedactPasswords(text string) string {
	// ASCII-only upper case keeps byte offsets equal to text's.
	ub := []byte(text)
	for i, c := range ub {
		if c >= 'a' && c <= 'z' {
			ub[i] = c - 'a' + 'A'
		}
	}
	upper := string(ub)
	var b strings.Builder
	i := 0
	for {
		j := strings.Index(upper[i:], "PASSWORD")
		if j < 0 {
			b.WriteString(text[i:])
			return b.String()
		}
		k := i + j + len("PASSWORD")
		for k < len(text) && text[k] != '\'' && text[k] != ';' {
			k++
		}
		b.WriteString(text[i:k])
		if k >= len(text) || text[k] != '\'' {
			i = k
			continue
		}
		end := k + 1
		for end < len(text) && text[end] != '\'' {
			if text[end] == '\\' {
				end++
			}
			end++
		}
		b.WriteString(redacted)
		i = min(end+1, len(text))
	}
}
