package auth

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoadCredentials(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	netrc := write("netrc", `
machine other.example.org login olga password olga-pw
machine sso.terrascope.be
	login nina
	password nina-pw
default login dora password dora-pw
`)
	noNetrc := filepath.Join(dir, "missing")
	pwFile := write("pw", "file-pw\n")
	crlfFile := write("pw-crlf", "crlf-pw\r\n")
	twoNewlines := write("pw-2nl", "two-pw\n\n")
	env := map[string]string{EnvUsername: "eve", EnvPassword: "eve-pw"}
	getenv := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	prompt := func(string) (string, error) { return "prompt-pw", nil }

	tests := []struct {
		name     string
		opts     CredentialOptions
		want     Credentials
		wantErr  string
		wantNoPw bool
	}{
		{"flag and password file beat everything",
			CredentialOptions{Username: "fred", PasswordFile: pwFile, Getenv: getenv(env), NetrcPath: netrc, TokenHost: "sso.terrascope.be", Prompt: prompt},
			Credentials{"fred", "file-pw"}, "", false},
		{"environment beats netrc",
			CredentialOptions{Getenv: getenv(env), NetrcPath: netrc, TokenHost: "sso.terrascope.be", Prompt: prompt},
			Credentials{"eve", "eve-pw"}, "", false},
		{"netrc machine",
			CredentialOptions{Getenv: getenv(nil), NetrcPath: netrc, TokenHost: "sso.terrascope.be", Prompt: prompt},
			Credentials{"nina", "nina-pw"}, "", false},
		{"netrc machine is case-insensitive",
			CredentialOptions{Getenv: getenv(nil), NetrcPath: netrc, TokenHost: "SSO.Terrascope.BE"},
			Credentials{"nina", "nina-pw"}, "", false},
		{"netrc default",
			CredentialOptions{Getenv: getenv(nil), NetrcPath: netrc, TokenHost: "account.maxar.com"},
			Credentials{"dora", "dora-pw"}, "", false},
		{"netrc password only for its own login",
			CredentialOptions{Username: "fred", Getenv: getenv(nil), NetrcPath: netrc, TokenHost: "sso.terrascope.be", Prompt: prompt},
			Credentials{"fred", "prompt-pw"}, "", false},
		{"env username, netrc password for that login",
			CredentialOptions{Getenv: getenv(map[string]string{EnvUsername: "nina"}), NetrcPath: netrc, TokenHost: "sso.terrascope.be"},
			Credentials{"nina", "nina-pw"}, "", false},
		{"password from stdin",
			CredentialOptions{Username: "fred", PasswordFile: "-", Stdin: strings.NewReader("stdin-pw\n"), Getenv: getenv(env)},
			Credentials{"fred", "stdin-pw"}, "", false},
		{"CRLF trimmed",
			CredentialOptions{Username: "fred", PasswordFile: crlfFile, Getenv: getenv(nil), NetrcPath: noNetrc},
			Credentials{"fred", "crlf-pw"}, "", false},
		{"only one newline trimmed",
			CredentialOptions{Username: "fred", PasswordFile: twoNewlines, Getenv: getenv(nil), NetrcPath: noNetrc},
			Credentials{"fred", "two-pw\n"}, "", false},
		{"NETRC variable",
			CredentialOptions{Getenv: getenv(map[string]string{"NETRC": netrc}), TokenHost: "other.example.org"},
			Credentials{"olga", "olga-pw"}, "", false},
		{"no username",
			CredentialOptions{Getenv: getenv(nil), NetrcPath: noNetrc, TokenHost: "sso.terrascope.be", Prompt: prompt},
			Credentials{}, "no username for sso.terrascope.be: pass --username, set WCDL_USERNAME", true},
		{"no password and no terminal",
			CredentialOptions{Username: "fred", Getenv: getenv(nil), NetrcPath: noNetrc, TokenHost: "sso.terrascope.be"},
			Credentials{}, "no password for fred at sso.terrascope.be: pass --password-file", true},
		{"empty password file",
			CredentialOptions{Username: "fred", PasswordFile: write("empty", "\n"), Getenv: getenv(nil), NetrcPath: noNetrc},
			Credentials{}, "is empty", true},
		{"missing password file",
			CredentialOptions{Username: "fred", PasswordFile: filepath.Join(dir, "nope"), Getenv: getenv(nil), NetrcPath: noNetrc},
			Credentials{}, "password file", true},
		{"stdin without a reader",
			CredentialOptions{Username: "fred", PasswordFile: "-", Getenv: getenv(nil), NetrcPath: noNetrc},
			Credentials{}, "standard input", true},
		{"prompt error",
			CredentialOptions{Username: "fred", Getenv: getenv(nil), NetrcPath: noNetrc, Prompt: func(string) (string, error) { return "", errors.New("no tty") }},
			Credentials{}, "no tty", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadCredentials(tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("got %v, %v; want an error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %v (password ok: %v), %v; want %v", got, got.Password == tt.want.Password, err, tt.want)
			}
		})
	}
}

func TestLoadCredentialsPromptText(t *testing.T) {
	var asked string
	_, err := LoadCredentials(CredentialOptions{Username: "fred", Getenv: func(string) string { return "" },
		NetrcPath: filepath.Join(t.TempDir(), "none"), TokenHost: "sso.terrascope.be",
		Prompt: func(p string) (string, error) { asked = p; return "pw", nil }})
	if err != nil || asked != "Password for fred at sso.terrascope.be: " {
		t.Errorf("got prompt %q, %v; want \"Password for fred at sso.terrascope.be: \"", asked, err)
	}
}

func TestParseNetrc(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []netrcEntry
	}{
		{"one line", "machine a login u password p", []netrcEntry{{machine: "a", login: "u", password: "p"}}},
		{"account skipped", "machine a account acct login u password p",
			[]netrcEntry{{machine: "a", login: "u", password: "p"}}},
		{"macdef body skipped",
			"machine a login u\nmacdef init\nmachine evil login x password y\ncd /\n\nmachine b login v password q\n",
			[]netrcEntry{{machine: "a", login: "u"}, {machine: "b", login: "v", password: "q"}}},
		{"default", "default login anon password guest", []netrcEntry{{isDefault: true, login: "anon", password: "guest"}}},
		{"tokens before any machine ignored", "login x password y\nmachine a", []netrcEntry{{machine: "a"}}},
		{"truncated", "machine a login", []netrcEntry{{machine: "a"}}},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseNetrc(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestFindNetrc(t *testing.T) {
	entries := parseNetrc("default login d password dp\nmachine h login a\nmachine h login b\n")
	if e := findNetrc(entries, "h"); e == nil || e.login != "a" {
		t.Errorf("got %+v, want the first entry for h", e)
	}
	if e := findNetrc(entries, "other"); e == nil || e.login != "d" {
		t.Errorf("got %+v, want the default", e)
	}
	if e := findNetrc(parseNetrc("machine h login a"), "other"); e != nil {
		t.Errorf("got %+v, want nil", e)
	}
}

func FuzzParseNetrc(f *testing.F) {
	f.Add("machine a login u password p\ndefault login d password q\n")
	f.Add("macdef x\nline\n\nmachine b")
	f.Fuzz(func(t *testing.T, in string) {
		for _, e := range parseNetrc(in) {
			for _, s := range []string{e.machine, e.login, e.password} {
				if strings.ContainsAny(s, " \t\n") {
					t.Errorf("token %q holds white space", s)
				}
			}
			if e.isDefault && e.machine != "" {
				t.Errorf("default entry with machine %q", e.machine)
			}
		}
	})
}

func TestCredentialsNeverShowPassword(t *testing.T) {
	c := Credentials{Username: "fred", Password: testPassword}
	for _, s := range []string{c.String(), c.GoString(), c.LogValue().String()} {
		if strings.Contains(s, testPassword) || !strings.Contains(s, "fred") || !strings.Contains(s, "[redacted]") {
			t.Errorf("got %q, want the username and a redacted password", s)
		}
	}
}
