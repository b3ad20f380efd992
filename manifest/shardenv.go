package manifest

import (
	"fmt"
	"strings"
)

// The variables AutoShard reads, by the scheduler that sets them.
const (
	// Kubernetes Indexed Job: the pod's index, 0 to completions-1. The
	// number of completions is not in the environment.
	envJobIndex = "JOB_COMPLETION_INDEX"
	// Slurm job array (sbatch --array): the task's index and the array's
	// lowest index, step and number of tasks.
	envSlurmID    = "SLURM_ARRAY_TASK_ID"
	envSlurmMin   = "SLURM_ARRAY_TASK_MIN"
	envSlurmMax   = "SLURM_ARRAY_TASK_MAX"
	envSlurmStep  = "SLURM_ARRAY_TASK_STEP"
	envSlurmCount = "SLURM_ARRAY_TASK_COUNT"
	// AWS Batch array job: the child's index, 0 to size-1, and the size
	// where the job's environment provides it.
	envBatchIndex = "AWS_BATCH_JOB_ARRAY_INDEX"
	envBatchSize  = "AWS_BATCH_JOB_ARRAY_SIZE"
)

// AutoShard finds the shard of this process, as ParseShard's k and n, from
// the variables of the scheduler that started it, for --shard auto; getenv
// looks a variable up ("" for unset). count is the number of shards given
// by the user (--shard-count), or 0.
//
//   - Kubernetes Indexed Job: k is JOB_COMPLETION_INDEX; n is count, which
//     is then required (the Job's completions).
//   - Slurm job array: k is (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN) /
//     SLURM_ARRAY_TASK_STEP, MIN taken as 0 and STEP as 1 where unset, so
//     --array=1-8 and --array=0-14:2 give shards 0 to N-1; n is
//     SLURM_ARRAY_TASK_COUNT, else count.
//   - AWS Batch array job: k is AWS_BATCH_JOB_ARRAY_INDEX; n is
//     AWS_BATCH_JOB_ARRAY_SIZE where set, else count.
//
// from names the variables used and their values, for a log line. The
// error names the variables looked for when none is set, or the values that
// disagree: variables of two schedulers at once, a count that differs from
// the scheduler's, an index out of range, or Slurm indices that are not an
// evenly spaced range (--array=1,2,5).
func AutoShard(getenv func(string) string, count int) (k, n int, from string, err error) {
	var set []string
	for _, v := range []string{envJobIndex, envSlurmID, envBatchIndex} {
		if getenv(v) != "" {
			set = append(set, v)
		}
	}
	switch len(set) {
	case 0:
		return 0, 0, "", fmt.Errorf("--shard auto: none of %s (Kubernetes Indexed Job), %s (Slurm job array) or %s (AWS Batch array job) is set; give --shard K/N instead", envJobIndex, envSlurmID, envBatchIndex)
	case 1:
	default:
		return 0, 0, "", fmt.Errorf("--shard auto: %s are set at once, so the scheduler is ambiguous; give --shard K/N instead", strings.Join(set, " and "))
	}
	vars := &envReader{getenv: getenv}
	switch set[0] {
	case envJobIndex:
		k = vars.count(envJobIndex, 0)
		if count == 0 && vars.err == nil {
			return 0, 0, "", fmt.Errorf("--shard auto: %s=%d is set (a Kubernetes Indexed Job) but the number of shards is not: give --shard-count N, the Job's completions", envJobIndex, k)
		}
		n = count
	case envSlurmID:
		id := vars.count(envSlurmID, 0)
		lo := vars.count(envSlurmMin, 0)
		step := vars.count(envSlurmStep, 1)
		hi := vars.count(envSlurmMax, -1)
		if n, err = agree(vars, envSlurmCount, vars.count(envSlurmCount, 0), count); err != nil {
			return 0, 0, "", err
		}
		switch {
		case n == 0:
			return 0, 0, "", fmt.Errorf("--shard auto: %s is set (a Slurm job array) but not %s: give --shard-count N, the number of tasks", vars.desc(), envSlurmCount)
		case step == 0 || id < lo || (id-lo)%step != 0:
			return 0, 0, "", fmt.Errorf("--shard auto: %s: %s is not %s plus a multiple of %s", vars.desc(), envSlurmID, envSlurmMin, envSlurmStep)
		case hi >= 0 && (hi < lo || (hi-lo)%step != 0 || (hi-lo)/step+1 != n):
			return 0, 0, "", fmt.Errorf("--shard auto: %s: the array's indices are not an evenly spaced range (such as --array=0-15 or --array=1-31:2); give --shard K/N instead", vars.desc())
		}
		k = (id - lo) / step
	case envBatchIndex:
		k = vars.count(envBatchIndex, 0)
		n = vars.count(envBatchSize, 0)
		if vars.err == nil && n == 0 && count == 0 {
			return 0, 0, "", fmt.Errorf("--shard auto: %s=%d is set (an AWS Batch array job) but not %s: give --shard-count N, the array's size", envBatchIndex, k, envBatchSize)
		}
		n, err = agree(vars, envBatchSize, n, count)
		if err != nil {
			return 0, 0, "", err
		}
	}
	if vars.err != nil {
		return 0, 0, "", vars.err
	}
	from = vars.desc()
	if count != 0 {
		from += fmt.Sprintf(", --shard-count %d", count)
	}
	if n < 1 || k >= n {
		return 0, 0, "", fmt.Errorf("--shard auto: %s gives shard %d of %d, out of range: shards count from 0 to N-1", from, k, n)
	}
	return k, n, from, nil
}

// agree returns the number of shards when the scheduler's (env's value
// got, 0 if unset) and the user's (--shard-count, 0 if not given) agree.
func agree(vars *envReader, env string, got, count int) (int, error) {
	switch {
	case vars.err != nil:
		return 0, vars.err
	case got == 0:
		return count, nil
	case count != 0 && count != got:
		return 0, fmt.Errorf("--shard auto: --shard-count %d disagrees with %s=%d; leave --shard-count out or make them equal", count, env, got)
	}
	return got, nil
}

// envReader reads whole numbers from the environment, keeping the first
// error and the variables it read, in order, for messages.
type envReader struct {
	getenv func(string) string
	read   []string
	err    error
}

// count returns env's value as a non-negative whole number, or def if env
// is unset.
func (r *envReader) count(env string, def int) int {
	s := r.getenv(env)
	if s == "" {
		return def
	}
	r.read = append(r.read, env+"="+s)
	v, err := parseCount(s)
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("--shard auto: %s=%s is not a non-negative whole number", env, quote(s))
	}
	return v
}

// desc lists the variables read, as NAME=value.
func (r *envReader) desc() string { return strings.Join(r.read, ", ") }
