# Sourced by build/image.sh and .ci/image.sh: go-containerregistry's crane,
# built from the Go module proxy, and crane's in-memory registry on
# 127.0.0.1. The caller sets $work (a scratch folder it removes) and calls
# crane_registry_stop from its EXIT trap.

crane_version=v0.22.1
crane=""
registry_pid=""

# crane_install builds crane into $work/bin and sets $crane to it.
crane_install() {
	GOOS= GOARCH= GOBIN="$work/bin" go install "github.com/google/go-containerregistry/cmd/crane@$crane_version"
	crane="$work/bin/crane"
}

# crane_registry_start starts the registry on a free loopback port and sets
# $registry to its host:port.
crane_registry_start() {
	"$crane" registry serve --address 127.0.0.1:0 2>"$work/registry.log" &
	registry_pid=$!
	registry=""
	local port="" i
	for i in $(seq 100); do
		port=$(sed -n 's/.*serving on port \([0-9]*\).*/\1/p' "$work/registry.log")
		if [ -n "$port" ]; then
			registry="127.0.0.1:$port"
			return 0
		fi
		kill -0 "$registry_pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "crane's registry did not start:" >&2
	cat "$work/registry.log" >&2
	return 1
}

# crane_registry_stop ends the registry this script started, if any.
crane_registry_stop() {
	if [ -n "$registry_pid" ]; then
		kill "$registry_pid" 2>/dev/null || true
		wait "$registry_pid" 2>/dev/null || true
		registry_pid=""
	fi
}
