package auth

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Environment variables read by LoadCredentials.
const (
	EnvUsername = "WCDL_USERNAME"
	EnvPassword = "WCDL_PASSWORD"
)

// maxPasswordFile bounds how much of a password file is read.
const maxPasswordFile = 4 << 10

// CredentialOptions says where LoadCredentials looks.
type CredentialOptions struct {
	// Username, if not empty, is the username (from a flag).
	Username string
	// PasswordFile, if not empty, names a file holding the password; "-"
	// reads it from Stdin. One trailing newline is removed.
	PasswordFile string
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// Stdin is read when PasswordFile is "-".
	Stdin io.Reader
	// NetrcPath names the netrc file; empty means $NETRC, else ~/.netrc.
	// A missing file is not an error.
	NetrcPath string
	// TokenHost is the token endpoint's host name, looked up as a netrc
	// machine.
	TokenHost string
	// Prompt, if not nil, asks for the password as a last resort. The
	// command sets it only when standard input is a terminal.
	Prompt func(prompt string) (string, error)
}

// LoadCredentials finds the username and password.
//
// The username comes from opts.Username, else WCDL_USERNAME, else the netrc
// entry for TokenHost. The password comes from the password file, else
// WCDL_PASSWORD, else that netrc entry (when its login matches the
// username), else Prompt.
func LoadCredentials(opts CredentialOptions) (Credentials, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	var c Credentials
	netrcPath, entry, err := lookupNetrc(opts, getenv)
	if err != nil {
		return c, err
	}

	switch {
	case opts.Username != "":
		c.Username = opts.Username
	case getenv(EnvUsername) != "":
		c.Username = getenv(EnvUsername)
	case entry != nil && entry.login != "":
		c.Username = entry.login
	default:
		return c, fmt.Errorf("auth: no username for %s: pass --username, set %s, or add \"machine %s login NAME password PASSWORD\" to %s",
			hostOrDefault(opts.TokenHost), EnvUsername, hostOrDefault(opts.TokenHost), netrcPath)
	}

	switch {
	case opts.PasswordFile != "":
		c.Password, err = readPasswordFile(opts.PasswordFile, opts.Stdin)
		if err != nil {
			return c, err
		}
	case getenv(EnvPassword) != "":
		c.Password = getenv(EnvPassword)
	case entry != nil && entry.password != "" && (entry.login == "" || entry.login == c.Username):
		c.Password = entry.password
	case opts.Prompt != nil:
		c.Password, err = opts.Prompt(fmt.Sprintf("Password for %s at %s: ", c.Username, hostOrDefault(opts.TokenHost)))
		if err != nil {
			return c, fmt.Errorf("auth: reading the password: %w", err)
		}
		if c.Password == "" {
			return c, errors.New("auth: empty password")
		}
	default:
		return c, fmt.Errorf("auth: no password for %s at %s: pass --password-file (\"-\" for standard input), set %s, add it to %s, or run in a terminal to be asked",
			c.Username, hostOrDefault(opts.TokenHost), EnvPassword, netrcPath)
	}
	return c, nil
}

func hostOrDefault(h string) string {
	if h == "" {
		return "the identity provider"
	}
	return h
}

// lookupNetrc reads the netrc file and returns its path and the entry for
// opts.TokenHost, or nil.
func lookupNetrc(opts CredentialOptions, getenv func(string) string) (string, *netrcEntry, error) {
	path := opts.NetrcPath
	if path == "" {
		path = getenv("NETRC")
	}
	if path == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "~/.netrc", nil, nil
		}
		path = filepath.Join(home, ".netrc")
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return path, nil, nil
	}
	if err != nil {
		return path, nil, fmt.Errorf("auth: reading netrc: %w", err)
	}
	e := findNetrc(parseNetrc(string(data)), opts.TokenHost)
	return path, e, nil
}

func readPasswordFile(name string, stdin io.Reader) (string, error) {
	r := stdin
	what := "standard input"
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return "", fmt.Errorf("auth: password file: %w", err)
		}
		defer f.Close()
		r, what = f, name
	} else if r == nil {
		return "", errors.New("auth: password file \"-\" needs standard input")
	}
	data, err := io.ReadAll(io.LimitReader(r, maxPasswordFile+1))
	if err != nil {
		return "", fmt.Errorf("auth: reading the password from %s: %w", what, err)
	}
	if len(data) > maxPasswordFile {
		return "", fmt.Errorf("auth: password file %s is larger than %d bytes", what, maxPasswordFile)
	}
	pw := string(data)
	if s, ok := strings.CutSuffix(pw, "\n"); ok {
		pw = strings.TrimSuffix(s, "\r")
	}
	if pw == "" {
		return "", fmt.Errorf("auth: password file %s is empty", what)
	}
	return pw, nil
}

// A netrcEntry is one machine (or the default) of a netrc file.
type netrcEntry struct {
	machine         string
	isDefault       bool
	login, password string
}

// parseNetrc reads the machine, default, login and password tokens of a
// netrc file, skipping account values and macdef bodies (which end at an
// empty line). Unknown tokens are ignored.
func parseNetrc(data string) []netrcEntry {
	var entries []netrcEntry
	var cur *netrcEntry
	lines := strings.Split(data, "\n")
	for i := 0; i < len(lines); i++ {
		fields := strings.Fields(lines[i])
		for j := 0; j < len(fields); j++ {
			next := func() string {
				if j+1 < len(fields) {
					j++
					return fields[j]
				}
				return ""
			}
			switch fields[j] {
			case "machine":
				entries = append(entries, netrcEntry{machine: next()})
				cur = &entries[len(entries)-1]
			case "default":
				entries = append(entries, netrcEntry{isDefault: true})
				cur = &entries[len(entries)-1]
			case "login":
				if v := next(); cur != nil {
					cur.login = v
				}
			case "password":
				if v := next(); cur != nil {
					cur.password = v
				}
			case "account":
				next()
			case "macdef":
				// The body runs from the next line to an empty line.
				for i+1 < len(lines) && strings.TrimSpace(lines[i+1]) != "" {
					i++
				}
				j = len(fields)
				cur = nil
			}
		}
	}
	return entries
}

// findNetrc returns the first entry for host, else the default entry, or
// nil.
func findNetrc(entries []netrcEntry, host string) *netrcEntry {
	var def *netrcEntry
	for i := range entries {
		e := &entries[i]
		switch {
		case e.isDefault:
			if def == nil {
				def = e
			}
		case host != "" && strings.EqualFold(e.machine, host):
			return e
		}
	}
	return def
}
