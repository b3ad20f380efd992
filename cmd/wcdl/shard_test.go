package main

import (
	"strings"
	"testing"
)

// TestShardAuto runs --shard auto --dry-run in the environments schedulers
// make, and checks that each plans exactly what --shard K/N plans, or that
// wcdl refuses with exit 2 naming what it looked for.
func TestShardAuto(t *testing.T) {
	t.Parallel()
	manifest := writeManifest(t, tiles(16)...)
	plan := func(t *testing.T, env map[string]string, args ...string) result {
		t.Helper()
		return runWCDL(t, t.Context(), env, "", nil, append([]string{"-m", manifest, "--dry-run", "-o", "out"}, args...)...)
	}
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		want    string // the explicit --shard it must equal, or ""
		wantErr []string
	}{
		{"kubernetes indexed job", map[string]string{"JOB_COMPLETION_INDEX": "2"}, []string{"--shard", "auto", "--shard-count", "4"}, "2/4", nil},
		{"all from the environment", map[string]string{"JOB_COMPLETION_INDEX": "1", "WCDL_SHARD": "auto", "WCDL_SHARD_COUNT": "3"}, nil, "1/3", nil},
		{"slurm array from 1", map[string]string{"SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "4", "SLURM_ARRAY_TASK_COUNT": "4"}, []string{"--shard", "auto"}, "3/4", nil},
		{"aws batch array", map[string]string{"AWS_BATCH_JOB_ARRAY_INDEX": "0", "AWS_BATCH_JOB_ARRAY_SIZE": "2"}, []string{"--shard", "auto"}, "0/2", nil},
		{"no scheduler", nil, []string{"--shard", "auto", "--shard-count", "4"}, "", []string{"JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID", "AWS_BATCH_JOB_ARRAY_INDEX"}},
		{"kubernetes without a count", map[string]string{"JOB_COMPLETION_INDEX": "2"}, []string{"--shard", "auto"}, "", []string{"--shard-count N"}},
		{"count past the index", map[string]string{"JOB_COMPLETION_INDEX": "4"}, []string{"--shard", "auto", "--shard-count", "4"}, "", []string{"out of range"}},
		{"count with K/N", nil, []string{"--shard", "1/4", "--shard-count", "4"}, "", []string{"--shard-count goes with --shard auto"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := plan(t, tt.env, tt.args...)
			if tt.wantErr != nil {
				if res.code != exitUsage || res.stdout != "" {
					t.Errorf("exit code %d with %d bytes of plan, want %d and none; stderr:\n%s", res.code, len(res.stdout), exitUsage, res.stderr)
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(res.stderr, want) {
						t.Errorf("stderr does not name %q:\n%s", want, res.stderr)
					}
				}
				return
			}
			want := plan(t, nil, "--shard", tt.want)
			if res.code != exitOK || want.code != exitOK {
				t.Fatalf("exit codes %d and %d (--shard %s), want 0; stderr:\n%s%s", res.code, want.code, tt.want, res.stderr, want.stderr)
			}
			if res.stdout != want.stdout || res.stdout == "" {
				t.Errorf("--shard auto planned:\n%s\nwant what --shard %s plans:\n%s", res.stdout, tt.want, want.stdout)
			}
		})
	}
}
