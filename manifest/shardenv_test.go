package manifest_test

import (
	"strings"
	"testing"

	"github.com/wcdl/wcdl/manifest"
)

func TestAutoShard(t *testing.T) {
	t.Parallel()
	type env = map[string]string
	tests := []struct {
		name     string
		env      env
		count    int // --shard-count
		k, n     int
		wantFrom string
		wantErr  []string // each must be in the error
	}{
		{name: "nothing set", wantErr: []string{"JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID", "AWS_BATCH_JOB_ARRAY_INDEX", "--shard K/N"}},
		{name: "set but empty", env: env{"JOB_COMPLETION_INDEX": ""}, count: 4, wantErr: []string{"none of JOB_COMPLETION_INDEX"}},

		{name: "kubernetes", env: env{"JOB_COMPLETION_INDEX": "2"}, count: 4, k: 2, n: 4, wantFrom: "JOB_COMPLETION_INDEX=2, --shard-count 4"},
		{name: "kubernetes first pod", env: env{"JOB_COMPLETION_INDEX": "0"}, count: 1, k: 0, n: 1},
		{name: "kubernetes without a count", env: env{"JOB_COMPLETION_INDEX": "2"}, wantErr: []string{"JOB_COMPLETION_INDEX=2", "--shard-count N"}},
		{name: "kubernetes index past the count", env: env{"JOB_COMPLETION_INDEX": "4"}, count: 4, wantErr: []string{"JOB_COMPLETION_INDEX=4", "shard 4 of 4, out of range"}},
		{name: "kubernetes index not a number", env: env{"JOB_COMPLETION_INDEX": "two"}, count: 4, wantErr: []string{`JOB_COMPLETION_INDEX="two" is not a non-negative whole number`}},
		{name: "kubernetes negative index", env: env{"JOB_COMPLETION_INDEX": "-1"}, count: 4, wantErr: []string{`JOB_COMPLETION_INDEX="-1"`}},

		{name: "slurm from 0", env: env{"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "4"}, k: 3, n: 4, wantFrom: "SLURM_ARRAY_TASK_ID=3, SLURM_ARRAY_TASK_COUNT=4"},
		{name: "slurm from 1, first", env: env{"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "4", "SLURM_ARRAY_TASK_COUNT": "4"}, k: 0, n: 4},
		{name: "slurm from 1, last", env: env{"SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "4", "SLURM_ARRAY_TASK_COUNT": "4"}, k: 3, n: 4},
		{name: "slurm from 1 without TASK_MIN", env: env{"SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "4"}, wantErr: []string{"shard 4 of 4, out of range"}},
		{name: "slurm with a step", env: env{"SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_MIN": "3", "SLURM_ARRAY_TASK_MAX": "9", "SLURM_ARRAY_TASK_STEP": "2", "SLURM_ARRAY_TASK_COUNT": "4"}, k: 2, n: 4},
		{name: "slurm id off the step", env: env{"SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_STEP": "2", "SLURM_ARRAY_TASK_COUNT": "4"}, wantErr: []string{"SLURM_ARRAY_TASK_ID is not SLURM_ARRAY_TASK_MIN plus a multiple of SLURM_ARRAY_TASK_STEP"}},
		{name: "slurm id below TASK_MIN", env: env{"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "4"}, wantErr: []string{"SLURM_ARRAY_TASK_ID=0, SLURM_ARRAY_TASK_MIN=1"}},
		{name: "slurm step 0", env: env{"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_STEP": "0", "SLURM_ARRAY_TASK_COUNT": "4"}, wantErr: []string{"a multiple of SLURM_ARRAY_TASK_STEP"}},
		{name: "slurm list of indices", env: env{"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "5", "SLURM_ARRAY_TASK_STEP": "1", "SLURM_ARRAY_TASK_COUNT": "3"}, wantErr: []string{"not an evenly spaced range", "--shard K/N"}},
		{name: "slurm count agrees with --shard-count", env: env{"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "4"}, count: 4, k: 1, n: 4},
		{name: "slurm count disagrees with --shard-count", env: env{"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "4"}, count: 5, wantErr: []string{"--shard-count 5 disagrees with SLURM_ARRAY_TASK_COUNT=4"}},
		{name: "slurm without TASK_COUNT, --shard-count", env: env{"SLURM_ARRAY_TASK_ID": "2"}, count: 3, k: 2, n: 3},
		{name: "slurm without any count", env: env{"SLURM_ARRAY_TASK_ID": "2"}, wantErr: []string{"not SLURM_ARRAY_TASK_COUNT", "--shard-count N"}},
		{name: "slurm bad TASK_MAX", env: env{"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_MAX": "x", "SLURM_ARRAY_TASK_COUNT": "4"}, wantErr: []string{`SLURM_ARRAY_TASK_MAX="x"`}},

		{name: "aws batch with the size", env: env{"AWS_BATCH_JOB_ARRAY_INDEX": "1", "AWS_BATCH_JOB_ARRAY_SIZE": "3"}, k: 1, n: 3, wantFrom: "AWS_BATCH_JOB_ARRAY_INDEX=1, AWS_BATCH_JOB_ARRAY_SIZE=3"},
		{name: "aws batch with --shard-count", env: env{"AWS_BATCH_JOB_ARRAY_INDEX": "1"}, count: 3, k: 1, n: 3},
		{name: "aws batch without a size", env: env{"AWS_BATCH_JOB_ARRAY_INDEX": "1"}, wantErr: []string{"AWS_BATCH_JOB_ARRAY_INDEX=1", "not AWS_BATCH_JOB_ARRAY_SIZE", "--shard-count N"}},
		{name: "aws batch size disagrees", env: env{"AWS_BATCH_JOB_ARRAY_INDEX": "1", "AWS_BATCH_JOB_ARRAY_SIZE": "3"}, count: 4, wantErr: []string{"--shard-count 4 disagrees with AWS_BATCH_JOB_ARRAY_SIZE=3"}},
		{name: "aws batch index past the size", env: env{"AWS_BATCH_JOB_ARRAY_INDEX": "3", "AWS_BATCH_JOB_ARRAY_SIZE": "3"}, wantErr: []string{"shard 3 of 3, out of range"}},

		{name: "two schedulers", env: env{"JOB_COMPLETION_INDEX": "1", "AWS_BATCH_JOB_ARRAY_INDEX": "1"}, count: 4, wantErr: []string{"JOB_COMPLETION_INDEX and AWS_BATCH_JOB_ARRAY_INDEX are set at once"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			getenv := func(k string) string { return tt.env[k] }
			k, n, from, err := manifest.AutoShard(getenv, tt.count)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("got %d/%d from %q, want an error with %q", k, n, from, tt.wantErr)
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("got error %q, want it to hold %q", err, want)
					}
				}
				return
			}
			if err != nil || k != tt.k || n != tt.n {
				t.Fatalf("got %d/%d, %v; want %d/%d", k, n, err, tt.k, tt.n)
			}
			if tt.wantFrom != "" && from != tt.wantFrom {
				t.Errorf("from: got %q, want %q", from, tt.wantFrom)
			}
		})
	}
}
