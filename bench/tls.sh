#!/usr/bin/env bash
# bench/tls.sh: CPU seconds per GiB of wcdl and curl fetching the same files
# from wcdl-sim over TLS (HTTP/1.1), on loopback.
#
#   bench/tls.sh                                  # 5 repetitions
#   BENCH_REPS=3 bench/tls.sh
#   BENCH_WCDL_OTHERS="old=/path/to/wcdl other=/path" bench/tls.sh   # also older builds
#
# Everything it builds and writes goes to bench/out/tls/ (ignored by git);
# the raw numbers are in bench/out/tls/raw.tsv.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out/tls
REPS=${BENCH_REPS:-5}
N=${BENCH_CONCURRENCY:-4}
COUNT=${BENCH_COUNT:-64}
SIZE=${BENCH_SIZE:-$((16 << 20))}
mkdir -p "$OUT"
exec 9>"$OUT/.run.lock"
flock 9

command -v curl >/dev/null || { echo "needs curl" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time)" >&2; exit 1; }

echo "building wcdl and wcdl-sim into bench/out/tls" >&2
go build -o "$OUT/wcdl" ./cmd/wcdl
go build -o "$OUT/wcdl-sim" ./cmd/wcdl-sim

TOKEN="bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
: >"$OUT/sim.out"
"$OUT/wcdl-sim" --tls --ca-out "$OUT/ca.pem" --file-size "$SIZE" --static-token "$TOKEN" \
	--land-mask=false --access-lifetime 1h --refresh-lifetime 2h >"$OUT/sim.out" 2>"$OUT/sim.err" &
SIM_PID=$!
trap 'kill -TERM $SIM_PID 2>/dev/null || true; wait $SIM_PID 2>/dev/null || true' EXIT
wait_sim "$OUT/sim.out" "$OUT/sim.err"

awk -v n="$COUNT" 'BEGIN { for (i = 0; i < n; i++) printf "ESA_WorldCover_10m_2021_v200_N%02dE%03d_Map\n", int(i/60)*3, (i%60)*3 }' >"$OUT/manifest.txt"
SSL_CERT_FILE=$OUT/ca.pem "$OUT/wcdl" --dry-run --base-url "$BASE_URL" -m "$OUT/manifest.txt" -o "$OUT/dl" | cut -f1 >"$OUT/urls.txt"
: >"$OUT/curl.conf"
chmod 600 "$OUT/curl.conf"
printf 'header = "Authorization: Bearer %s"\n' "$TOKEN" >>"$OUT/curl.conf"
while read -r u; do
	printf 'url = "%s"\noutput = "%s"\n' "$u" "${u##*/}" >>"$OUT/curl.conf"
done <"$OUT/urls.txt"
expected=$((COUNT * SIZE))

RAW=$OUT/raw.tsv
printf '# tool\trep\twall_s\tuser_s\tsys_s\tbytes\tok\n' >"$RAW"
measure() {
	local tool=$1 rep=$2
	shift 2
	rm -rf "$OUT/dl"
	mkdir -p "$OUT/dl"
	sync
	local ok=ok
	/usr/bin/time -f '%e %U %S' -o "$OUT/time.txt" "$@" >"$OUT/$tool.log" 2>&1 || ok=failed
	local got
	got=$(find "$OUT/dl" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
	[ "$got" = "$expected" ] || ok=failed
	read -r wall user sys < <(tail -n 1 "$OUT/time.txt")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$rep" "$wall" "$user" "$sys" "$got" "$ok" >>"$RAW"
	printf '  %-12s rep %s: %6.2fs wall, %5.2fs user, %5.2fs sys, %s\n' "$tool" "$rep" "$wall" "$user" "$sys" "$ok" >&2
}

wcdl_run() {
	local tool=$1 bin=$2 rep=$3
	SSL_CERT_FILE=$OUT/ca.pem WCDL_USERNAME=$SIM_USER WCDL_PASSWORD=demo-password \
		measure "$tool" "$rep" "$bin" -w "$N" --progress none -q --token-url "$TOKEN_URL" \
		--client-id "$CLIENT_ID" --base-url "$BASE_URL" -m "$OUT/manifest.txt" -o "$OUT/dl"
}

curl_run() {
	measure curl-http1.1 "$1" bash -c 'cd "$1" && exec curl --http1.1 --cacert "$2" --parallel --parallel-max "$3" --fail -s -S -K "$4"' \
		_ "$OUT/dl" "$OUT/ca.pem" "$N" "$OUT/curl.conf"
}

# The tools, as "name=binary" for wcdl builds and "curl" for curl. The
# order turns by one each repetition: the first run after a folder of
# another tool's files is wiped can cost more system time (see
# docs/BENCHMARKS.md), and that must not always fall on the same tool.
tools=("wcdl=$OUT/wcdl")
for other in ${BENCH_WCDL_OTHERS:-}; do
	tools+=("$other")
done
tools+=(curl)
for rep in $(seq 1 "$REPS"); do
	k=${#tools[@]}
	for i in $(seq 0 $((k - 1))); do
		t=${tools[$(((i + rep - 1) % k))]}
		if [ "$t" = curl ]; then
			curl_run "$rep"
		else
			wcdl_run "${t%%=*}" "${t#*=}" "$rep"
		fi
	done
done

# Median CPU (user + system) seconds per GiB and median wall per tool.
echo
echo "| tool | runs ok | median wall (s) | median CPU s/GiB | min–max CPU s/GiB |"
echo "| --- | --- | ---: | ---: | ---: |"
awk -F'\t' -v gib="$(awk -v b="$expected" 'BEGIN { print b / 2^30 }')" '
	/^#/ { next }
	{ n[$1]++; if ($7 == "ok") ok[$1]++; wall[$1, n[$1]] = $3; cpu[$1, n[$1]] = ($4 + $5) / gib; order[$1] = order[$1] ? order[$1] : ++tools; name[order[$1]] = $1 }
	function median(a, t, k,   i, j, v, m) {
		for (i = 1; i <= k; i++) v[i] = a[t, i]
		for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (v[j] < v[i]) { m = v[i]; v[i] = v[j]; v[j] = m }
		return k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
	}
	function lo(a, t, k,   i, m) { m = a[t, 1]; for (i = 2; i <= k; i++) if (a[t, i] < m) m = a[t, i]; return m }
	function hi(a, t, k,   i, m) { m = a[t, 1]; for (i = 2; i <= k; i++) if (a[t, i] > m) m = a[t, i]; return m }
	END {
		for (o = 1; o <= tools; o++) {
			t = name[o]
			printf "| %s | %d/%d | %.2f | %.2f | %.2f–%.2f |\n", t, ok[t], n[t], median(wall, t, n[t]), median(cpu, t, n[t]), lo(cpu, t, n[t]), hi(cpu, t, n[t])
		}
	}' "$RAW"
