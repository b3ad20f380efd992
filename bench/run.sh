#!/usr/bin/env bash
# bench/run.sh: compare wcdl with aria2c, curl, wget and a drain client that
# measures the simulator's own serving rate, on loopback, against wcdl-sim.
#
#   bench/run.sh                 # 5 repetitions per tool and workload
#   BENCH_REPS=3 bench/run.sh    # quicker
#   BENCH_WORKLOADS=small bench/run.sh
#
# Everything it builds and writes goes to bench/out/ (ignored by git); the
# table is bench/out/results.md.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out
REPS=${BENCH_REPS:-5}
N=${BENCH_CONCURRENCY:-16}
WORKLOADS=${BENCH_WORKLOADS:-"large small"}
WGET_TIMEOUT=${BENCH_WGET_TIMEOUT:-300}
mkdir -p "$OUT"
# One run at a time per output folder: runs would overwrite each other's
# token, config and output files, and share the CPU.
exec 9>"$OUT/.run.lock"
if ! flock -n 9; then
	echo "another bench/run.sh is using $OUT; waiting for it" >&2
	flock 9
fi

# Tools, installed only when missing.
need=()
command -v aria2c >/dev/null || need+=(aria2)
command -v curl >/dev/null || need+=(curl)
command -v wget >/dev/null || need+=(wget)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
	echo "installing ${need[*]}" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

echo "building wcdl, wcdl-sim and drain into bench/out" >&2
go build -o "$OUT/wcdl" ./cmd/wcdl
go build -o "$OUT/wcdl-sim" ./cmd/wcdl-sim
go build -o "$OUT/drain" ./bench/drain
go build -o "$OUT/summarize" ./bench/summarize

# A benchmark-only bearer token that the simulator accepts forever, for the
# peers that cannot log in to Keycloak. wcdl logs in with the demo account.
TOKEN="bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s\n' "$TOKEN" >"$OUT/token"
chmod 600 "$OUT/token"
printf 'header=Authorization: Bearer %s\n' "$TOKEN" >"$OUT/aria2.conf"
printf 'header = Authorization: Bearer %s\n' "$TOKEN" >"$OUT/wgetrc"
chmod 600 "$OUT/aria2.conf" "$OUT/wgetrc"

RAW=$OUT/raw.tsv
printf '# workload\ttool\trep\twall_s\tuser_s\tsys_s\tmaxrss_kib\tbytes\tok\n' >"$RAW"

SIM_PID=
stop_sim() {
	if [ -n "$SIM_PID" ]; then
		kill -TERM "$SIM_PID" 2>/dev/null || true
		wait "$SIM_PID" 2>/dev/null || true
		SIM_PID=
	fi
}
trap stop_sim EXIT

# start_sim SIZE: one simulator per workload, since it serves every file at
# one size. Sets TOKEN_URL, CLIENT_ID, BASE_URL, SIM_USER.
start_sim() {
	local size=$1
	stop_sim
	: >"$OUT/sim.out"
	# --land-mask=false: the synthetic names cover ocean cells too.
	"$OUT/wcdl-sim" --file-size "$size" --static-token "$TOKEN" --land-mask=false \
		--access-lifetime 1h --refresh-lifetime 2h >"$OUT/sim.out" 2>"$OUT/sim.err" &
	SIM_PID=$!
	wait_sim "$OUT/sim.out" "$OUT/sim.err"
}

# names COUNT: COUNT distinct WorldCover product names.
names() {
	awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "ESA_WorldCover_10m_2021_v200_N%02dE%03d_Map\n", int(i/60)*3, (i%60)*3 }'
}

# measure WORKLOAD TOOL REP EXPECTED_BYTES DIR CMD...: run CMD under
# /usr/bin/time, check the bytes it wrote to DIR (drain writes none), and
# append one line to raw.tsv.
measure() {
	local workload=$1 tool=$2 rep=$3 expected=$4 dir=$5
	shift 5
	rm -rf "$dir"
	mkdir -p "$dir"
	sync
	local ok=ok
	if ! /usr/bin/time -f '%e %U %S %M' -o "$OUT/time.txt" "$@" >"$OUT/$tool.log" 2>&1; then
		ok=failed
		echo "  $tool: exit non-zero; see bench/out/$tool.log" >&2
	fi
	if [ "$tool" != drain ] && [ "$ok" = ok ]; then # drain keeps no file
		local got
		got=$(find "$dir" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
		if [ "$got" != "$expected" ]; then
			ok=failed
			echo "  $tool: wrote $got bytes, want $expected" >&2
		fi
	fi
	# GNU time puts "Command exited with non-zero status N" first when the
	# command fails: the numbers are on the last line.
	read -r wall user sys rss < <(tail -n 1 "$OUT/time.txt")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$workload" "$tool" "$rep" "$wall" "$user" "$sys" "$rss" "$expected" "$ok" >>"$RAW"
	printf '  %-6s rep %s: %6.2fs wall, %5.2fs user, %5.2fs sys, %6d KiB RSS, %s\n' "$tool" "$rep" "$wall" "$user" "$sys" "$rss" "$ok" >&2
	rm -rf "$dir"
}

for workload in $WORKLOADS; do
	case $workload in
	large) count=64 size=$((16 << 20)) ;;
	small) count=1000 size=$((256 << 10)) ;;
	*) echo "unknown workload $workload (large, small)" >&2; exit 2 ;;
	esac
	label="${workload} (${count} x $((size >> 10)) KiB)"
	echo "workload $label" >&2
	start_sim "$size"
	W=$OUT/$workload
	mkdir -p "$W"
	names "$count" >"$W/manifest.txt"
	# The URL list comes from wcdl's own plan, so every tool fetches the
	# same paths.
	"$OUT/wcdl" --dry-run --base-url "$BASE_URL" -m "$W/manifest.txt" -o "$W/dl" | cut -f1 >"$W/urls.txt"
	: >"$W/curl.conf"
	chmod 600 "$W/curl.conf"
	printf 'header = "Authorization: Bearer %s"\n' "$TOKEN" >>"$W/curl.conf"
	while read -r u; do
		printf 'url = "%s"\noutput = "%s"\n' "$u" "${u##*/}" >>"$W/curl.conf"
	done <"$W/urls.txt"
	expected=$((count * size))

	for rep in $(seq 1 "$REPS"); do
		WCDL_USERNAME=$SIM_USER WCDL_PASSWORD=demo-password \
			measure "$label" wcdl "$rep" "$expected" "$W/dl" \
			"$OUT/wcdl" -w "$N" --progress none -q --token-url "$TOKEN_URL" --client-id "$CLIENT_ID" \
			--base-url "$BASE_URL" -m "$W/manifest.txt" -o "$W/dl"
		measure "$label" aria2c "$rep" "$expected" "$W/dl" \
			aria2c --conf-path="$OUT/aria2.conf" -j "$N" -x 1 -i "$W/urls.txt" -d "$W/dl" \
			--allow-overwrite=true --auto-file-renaming=false --console-log-level=warn \
			--summary-interval=0 --file-allocation=none --download-result=hide
		measure "$label" curl "$rep" "$expected" "$W/dl" \
			bash -c 'cd "$1" && exec curl --parallel --parallel-max "$2" --fail -s -S -K "$3"' _ "$W/dl" "$N" "$W/curl.conf"
		measure "$label" wget "$rep" "$expected" "$W/dl" \
			timeout "$WGET_TIMEOUT" wget --config="$OUT/wgetrc" -q -P "$W/dl" -i "$W/urls.txt"
		measure "$label" drain "$rep" "$expected" "$W/dl" \
			"$OUT/drain" -n "$N" -i "$W/urls.txt" -token-file "$OUT/token"
		measure "$label" drain-disk "$rep" "$expected" "$W/dl" \
			"$OUT/drain" -n "$N" -i "$W/urls.txt" -token-file "$OUT/token" -o "$W/dl"
	done
	stop_sim
	echo "  simulator counters: $(tail -n 1 "$OUT/sim.out")" >&2
done

"$OUT/summarize" "$RAW" >"$OUT/results.md"
cat "$OUT/results.md"
