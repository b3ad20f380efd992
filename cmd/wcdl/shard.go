package main

import (
	"fmt"

	"github.com/wcdl/wcdl/manifest"
)

// resolveShard turns --shard auto into the K/N that the scheduler which
// started this process gives it (manifest.AutoShard), reading the
// environment through getenv, and refuses a --shard-count that has no use.
func (o *options) resolveShard(getenv func(string) string) error {
	switch {
	case o.shardCount < 0:
		return usageError("--shard-count must be at least 1, not %d", o.shardCount)
	case o.shard != "auto" && o.shardCount != 0:
		return usageError("--shard-count goes with --shard auto; with --shard K/N the count is N")
	case o.shard != "auto":
		return nil
	}
	k, n, from, err := manifest.AutoShard(getenv, o.shardCount)
	if err != nil {
		return usageError("%v", err)
	}
	o.shard, o.shardFrom = fmt.Sprintf("%d/%d", k, n), from
	return nil
}
