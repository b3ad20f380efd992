package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportLoginOptions: the report's options name the provider, token
// URL and client only where the run has a use for them, never in an
// anonymous run.
func TestReportLoginOptions(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string // the login options present, in order
	}{
		{"terrascope login", []string{"--token-url", "http://127.0.0.1:1/token", "--client-id", "c"}, nil, "provider,token_url,client_id"},
		{"aws", []string{"--source", "aws"}, nil, ""},
		{"aws with a token URL", []string{"--source", "aws", "--token-url", "http://127.0.0.1:1/token", "--client-id", "c"}, nil, ""},
		{"--no-auth", []string{"--no-auth", "--token-url", "http://127.0.0.1:1/token", "--client-id", "c"}, nil, ""},
		{"ready token", []string{"--token-url", "http://127.0.0.1:1/token", "--client-id", "c"}, map[string]string{"WCDL_TOKEN": "t"}, "provider"},
		{"pc", []string{"--source", "pc", "--token-url", "http://127.0.0.1:1/sas"}, nil, "token_url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := filepath.Join(t.TempDir(), "report.json")
			res := runWCDL(t, t.Context(), tt.env, "", nil, append(tt.args, "--bbox", "3,50,4,51", "--dry-run", "--report", rep, "-o", t.TempDir())...)
			if res.code != exitOK {
				t.Fatalf("exit %d, want %d; stderr:\n%s", res.code, exitOK, res.stderr)
			}
			b, err := os.ReadFile(rep)
			if err != nil {
				t.Fatal(err)
			}
			var r struct{ Options map[string]any }
			if err := json.Unmarshal(b, &r); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, k := range []string{"provider", "token_url", "client_id"} {
				if _, ok := r.Options[k]; ok {
					got = append(got, k)
				}
			}
			if g := strings.Join(got, ","); g != tt.want {
				t.Errorf("login options %q, want %q; options: %v", g, tt.want, r.Options)
			}
		})
	}
}
