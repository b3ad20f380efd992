#!/usr/bin/env bash
# bench/wan.sh: wcdl against aria2c over a wide-area link: wcdl-sim serving
# TLS with HTTP/2 (a throwaway CA), behind toxiproxy adding 20 ms of latency
# and a per-connection bandwidth cap. Not run by CI.
#
#   bench/wan.sh                          # 3 interleaved repetitions
#   BENCH_REPS=5 bench/wan.sh
#   WCDL_BEFORE=/path/to/old/wcdl bench/wan.sh   # also time an older wcdl
#
# Cases (as in the issue):
#   a: 8 x 32 MiB, 8 MB/s per connection, 8 transfers: wcdl -w 8 vs aria2c -j 8
#   b: 2 x 64 MiB, 4 MB/s per connection, 8 transfers: wcdl -w 8 vs aria2c -j 8 -x 4 -s 4
#   c: 24 x 2 MiB, the service serves 4 downloads at once (429 beyond,
#      without Retry-After), 8 MB/s per connection (by the simulator):
#      wcdl -w 16 vs wcdl -w 4
#   d: as c, the 429 answers with Retry-After: 1
#
# toxiproxy is installed with go install when missing, aria2c with apt-get.
# Results: bench/out/wan/raw.tsv and bench/out/wan/results.md (medians).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out/wan
REPS=${BENCH_REPS:-3}
CASES=${BENCH_CASES:-"a b c d"}
mkdir -p "$OUT"

GOBIN=$(go env GOPATH)/bin
[ -x "$GOBIN/server" ] || go install github.com/Shopify/toxiproxy/v2/cmd/server@latest
[ -x "$GOBIN/cli" ] || go install github.com/Shopify/toxiproxy/v2/cmd/cli@latest
command -v aria2c >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq aria2 >/dev/null; }
[ -x /usr/bin/time ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }

echo "building wcdl and wcdl-sim into bench/out/wan" >&2
go build -o "$OUT/wcdl" ./cmd/wcdl
go build -o "$OUT/wcdl-sim" ./cmd/wcdl-sim

TOKEN="bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
printf 'header=Authorization: Bearer %s\n' "$TOKEN" >"$OUT/aria2.conf"
chmod 600 "$OUT/aria2.conf"

TOXI_PORT=${BENCH_TOXI_PORT:-18474}
TOXI="$GOBIN/cli --host http://127.0.0.1:$TOXI_PORT"
"$GOBIN/server" -host 127.0.0.1 -port "$TOXI_PORT" >"$OUT/toxiproxy.log" 2>&1 &
TOXI_PID=$!
SIM_PID=
cleanup() {
	[ -n "$SIM_PID" ] && { kill -TERM "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true; }
	kill -TERM "$TOXI_PID" 2>/dev/null || true
	wait "$TOXI_PID" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 100); do $TOXI list >/dev/null 2>&1 && break; sleep 0.05; done

# names COUNT: COUNT distinct WorldCover product names.
names() {
	awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "ESA_WorldCover_10m_2021_v200_N%02dE%03d_Map\n", int(i/60)*3, (i%60)*3 }'
}

RAW=$OUT/raw.tsv
printf '# case\ttool\trep\twall_s\tuser_s\tsys_s\tmaxrss_kib\tok\tnote\n' >"$RAW"

# start CASE_SIZE BANDWIDTH_BPS [SIM FLAGS...]: a simulator behind a fresh
# proxy; sets BASE_URL (through the proxy), TOKEN_URL, CLIENT_ID, SIM_USER.
start() {
	local size=$1 bw=$2
	shift 2
	[ -n "$SIM_PID" ] && { kill -TERM "$SIM_PID"; wait "$SIM_PID" 2>/dev/null || true; }
	: >"$OUT/sim.out"
	"$OUT/wcdl-sim" --tls --ca-out "$OUT/ca.pem" --file-size "$size" --static-token "$TOKEN" \
		--access-lifetime 1h --refresh-lifetime 2h "$@" >"$OUT/sim.out" 2>"$OUT/sim.err" &
	SIM_PID=$!
	wait_sim "$OUT/sim.out" "$OUT/sim.err"
	local up=${BASE_URL#https://}
	up=${up%%/*}
	$TOXI delete wan >/dev/null 2>&1 || true
	$TOXI create --listen 127.0.0.1:0 --upstream "$up" wan >/dev/null
	local listen
	listen=$($TOXI inspect wan | sed -n 's/.*listen=\([^ ]*\).*/\1/p' | head -1)
	[ -n "$listen" ] || listen=$(curl -s "http://127.0.0.1:$TOXI_PORT/proxies/wan" | sed -n 's/.*"listen":"\([^"]*\)".*/\1/p')
	# Latency on the way to the client and back; bandwidth per connection
	# (each connection through toxiproxy gets its own link).
	$TOXI toxic add -t latency -a latency=10 -d wan >/dev/null
	$TOXI toxic add -t latency -a latency=10 -u wan >/dev/null
	[ "$bw" -gt 0 ] && $TOXI toxic add -t bandwidth -a rate=$((bw / 1000)) -d wan >/dev/null
	BASE_URL="https://$listen/download"
}

# run CASE TOOL REP DIR EXPECTED CMD...
run() {
	local c=$1 tool=$2 rep=$3 dir=$4 expected=$5
	shift 5
	rm -rf "$dir"
	mkdir -p "$dir"
	local ok=ok note=
	if ! SSL_CERT_FILE=$OUT/ca.pem WCDL_USERNAME=$SIM_USER WCDL_PASSWORD=demo-password \
		/usr/bin/time -f '%e %U %S %M' -o "$OUT/time.txt" "$@" >"$OUT/$tool.log" 2>&1; then
		ok=failed
	fi
	if [ -f "$OUT/report.json" ]; then
		# wcdl's own account: failed files, 429 and 503 answers, concurrency.
		note="failed $(grep -o '"failed": *[0-9]*' "$OUT/report.json" | head -1 | grep -o '[0-9]*$')"
		if grep -q '"throttled"' "$OUT/report.json"; then
			note="$note, 429s $(grep -o '"throttled": *[0-9]*' "$OUT/report.json" | grep -o '[0-9]*$'), concurrency $(grep -o '"concurrency": *[0-9]*' "$OUT/report.json" | grep -o '[0-9]*$') (lowest $(grep -o '"concurrency_lowest": *[0-9]*' "$OUT/report.json" | grep -o '[0-9]*$'))"
		fi
		rm -f "$OUT/report.json"
	fi
	local got
	got=$(find "$dir" -type f ! -name '*.part*' ! -name '*.aria2' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
	[ "$got" = "$expected" ] || { ok=failed; note="$note; wrote $got of $expected bytes"; }
	read -r wall user sys rss < <(tail -n 1 "$OUT/time.txt")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$c" "$tool" "$rep" "$wall" "$user" "$sys" "$rss" "$ok" "$note" >>"$RAW"
	printf '  %-14s rep %s: %6.2fs wall, %5.2fs user, %5.2fs sys, %s %s\n' "$tool" "$rep" "$wall" "$user" "$sys" "$ok" "$note" >&2
	rm -rf "$dir"
}

# wcdl_cmd BIN WORKERS TAG: a wcdl command line against the current simulator.
wcdl_cmd() {
	echo "$1" -w "$2" --progress none -q --token-url "$TOKEN_URL" --client-id "$CLIENT_ID" \
		--base-url "$BASE_URL" -m "$OUT/manifest.txt" -o "$OUT/dl" --report "$OUT/report.json"
}

for c in $CASES; do
	case $c in
	a) count=8 size=$((32 << 20)) bw=8000000 sim=() ;;
	b) count=2 size=$((64 << 20)) bw=4000000 sim=() ;;
	# The cap counts a download until the server has sent its last byte:
	# the bandwidth is capped by the server itself, since toxiproxy would
	# take the bytes at once and end the download early in the server's
	# eyes.
	c) count=24 size=$((2 << 20)) bw=0 sim=(--conn-bandwidth 8000000 --max-in-flight 4) ;;
	d) count=24 size=$((2 << 20)) bw=0 sim=(--conn-bandwidth 8000000 --max-in-flight 4 --cap-retry-after 1s) ;;
	*) echo "unknown case $c (a, b, c, d)" >&2; exit 2 ;;
	esac
	echo "case $c: $count x $((size >> 20)) MiB, $((bw / 1000000)) MB/s per connection (toxiproxy), 20 ms, simulator flags: ${sim[*]}" >&2
	start "$size" "$bw" "${sim[@]}"
	names "$count" >"$OUT/manifest.txt"
	"$OUT/wcdl" --dry-run --base-url "$BASE_URL" -m "$OUT/manifest.txt" -o "$OUT/dl" | cut -f1 >"$OUT/urls.txt"
	expected=$((count * size))
	: >"$OUT/curl.conf"
	chmod 600 "$OUT/curl.conf"
	printf 'header = "Authorization: Bearer %s"\n' "$TOKEN" >>"$OUT/curl.conf"
	while read -r u; do
		printf 'url = "%s"\noutput = "%s"\n' "$u" "${u##*/}" >>"$OUT/curl.conf"
	done <"$OUT/urls.txt"
	for rep in $(seq 1 "$REPS"); do
		case $c in
		a)
			run a "wcdl -w 8" "$rep" "$OUT/dl" "$expected" $(wcdl_cmd "$OUT/wcdl" 8 a)
			[ -n "${WCDL_BEFORE:-}" ] && run a "before -w 8" "$rep" "$OUT/dl" "$expected" $(wcdl_cmd "$WCDL_BEFORE" 8 a0)
			run a "aria2c -j 8" "$rep" "$OUT/dl" "$expected" aria2c --conf-path="$OUT/aria2.conf" \
				--ca-certificate="$OUT/ca.pem" -j 8 -x 1 -i "$OUT/urls.txt" -d "$OUT/dl" --allow-overwrite=true \
				--auto-file-renaming=false --console-log-level=warn --summary-interval=0 --file-allocation=none --download-result=hide
			# HTTP/1.1 against HTTP/2 with a connection per transfer
			# (--parallel-immediate opens connections rather than
			# multiplexing): the two ways to give each transfer its own
			# connection, measured with one tool.
			run a "curl h1.1 x8" "$rep" "$OUT/dl" "$expected" bash -c 'cd "$1" && exec curl --http1.1 --parallel --parallel-max 8 --fail -s -S --cacert "$2" -K "$3"' _ "$OUT/dl" "$OUT/ca.pem" "$OUT/curl.conf"
			run a "curl h2 x8 conns" "$rep" "$OUT/dl" "$expected" bash -c 'cd "$1" && exec curl --http2 --parallel --parallel-immediate --parallel-max 8 --fail -s -S --cacert "$2" -K "$3"' _ "$OUT/dl" "$OUT/ca.pem" "$OUT/curl.conf"
			;;
		b)
			run b "wcdl -w 8" "$rep" "$OUT/dl" "$expected" $(wcdl_cmd "$OUT/wcdl" 8 b)
			[ -n "${WCDL_BEFORE:-}" ] && run b "before -w 8" "$rep" "$OUT/dl" "$expected" $(wcdl_cmd "$WCDL_BEFORE" 8 b0)
			run b "aria2c -x4 -s4" "$rep" "$OUT/dl" "$expected" aria2c --conf-path="$OUT/aria2.conf" \
				--ca-certificate="$OUT/ca.pem" -j 8 -x 4 -s 4 -k 1M -i "$OUT/urls.txt" -d "$OUT/dl" --allow-overwrite=true \
				--auto-file-renaming=false --console-log-level=warn --summary-interval=0 --file-allocation=none --download-result=hide
			;;
		c | d)
			run $c "wcdl -w 16" "$rep" "$OUT/dl" "$expected" $(wcdl_cmd "$OUT/wcdl" 16 c16)
			[ -n "${WCDL_BEFORE:-}" ] && run $c "before -w 16" "$rep" "$OUT/dl" "$expected" $(wcdl_cmd "$WCDL_BEFORE" 16 c0)
			run $c "wcdl -w 4" "$rep" "$OUT/dl" "$expected" $(wcdl_cmd "$OUT/wcdl" 4 c4)
			;;
		esac
	done
	kill -TERM "$SIM_PID"
	wait "$SIM_PID" 2>/dev/null || true
	SIM_PID=
	echo "  simulator counters: $(tail -n 1 "$OUT/sim.out")" >&2
done

# Medians per case and tool.
{
	printf '| case | tool | runs | failed runs | median wall s | median user+sys s |\n| --- | --- | --- | --- | --- | --- |\n'
	awk -F'\t' '!/^#/ { k = $1 "\t" $2; n[k]++; if ($8 != "ok") f[k]++; w[k] = w[k] " " $4; u[k] = u[k] " " ($5 + $6) }
		END { for (k in n) print k "\t" n[k] "\t" f[k] + 0 "\t" w[k] "\t" u[k] }' "$RAW" | sort |
		while IFS=$'\t' read -r c tool runs failed walls cpus; do
			mw=$(printf '%s\n' $walls | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
			mc=$(printf '%s\n' $cpus | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
			printf '| %s | %s | %s | %s | %s | %s |\n' "$c" "$tool" "$runs" "$failed" "$mw" "$mc"
		done
} >"$OUT/results.md"
cat "$OUT/results.md"
