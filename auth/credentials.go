package auth

import (
	"log/slog"
	"strconv"
)

// Credentials are a username and password for the password grant. Their
// String, GoString and LogValue methods never show the password.
type Credentials struct {
	Username, Password string
}

const redacted = "[redacted]"

func (c Credentials) shownPassword() string {
	if c.Password == "" {
		return ""
	}
	return redacted
}

// String returns the username and a redacted password.
func (c Credentials) String() string {
	return "Credentials{Username: " + strconv.Quote(c.Username) + ", Password: " + strconv.Quote(c.shownPassword()) + "}"
}

// GoString is like String, for the %#v verb.
func (c Credentials) GoString() string { return "auth." + c.String() }

// LogValue logs the username and a redacted password.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("username", c.Username), slog.String("password", c.shownPassword()))
}
