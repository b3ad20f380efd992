#!/usr/bin/env bash
# bench/wan.sh: wcdl against aria2c over a wide-area link: wcdl-sim serving
# TLS with HTTP/2 (a throwaway CA), behind toxiproxy adding 20 ms of latency
# and a per-connection bandwidth cap. Not run by CI.
#
#   bench/wan.sh                          # 3 interleaved repetitions
#   BENCH_REPS=5 bench/wan.sh
#   WCDL_BEFORE=/path/to/old/wcdl bench/wan.sh   # also time an older wcdl
#   BENCH_SERVER=nginx BENCH_CASES="a c" bench/wan.sh
#
# BENCH_SERVER=nginx serves the same files from nginx (Debian's, installed
# with apt-get when missing) over TLS with HTTP/2 and HTTP/1.1, with a
# throwaway CA made by openssl, and bench/nginx.conf in a temporary prefix:
# the simulator's --max-in-flight, --conn-bandwidth and --cap-retry-after
# become limit_conn with limit_conn_status 429, limit_rate, and a
# Retry-After header. wcdl still logs in to the simulator's Keycloak (the
# token URL stays the simulator's); nginx only asks for a bearer token.
# Results then go to bench/out/wan-nginx/.
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
SERVER=${BENCH_SERVER:-sim}
case $SERVER in
sim) OUT=$ROOT/bench/out/wan ;;
nginx) OUT=$ROOT/bench/out/wan-nginx ;;
*) echo "BENCH_SERVER must be sim or nginx, not $SERVER" >&2; exit 2 ;;
esac
REPS=${BENCH_REPS:-3}
CASES=${BENCH_CASES:-"a b c d"}
mkdir -p "$OUT"

GOBIN=$(go env GOPATH)/bin
[ -x "$GOBIN/server" ] || go install github.com/Shopify/toxiproxy/v2/cmd/server@latest
[ -x "$GOBIN/cli" ] || go install github.com/Shopify/toxiproxy/v2/cmd/cli@latest
command -v aria2c >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq aria2 >/dev/null; }
[ -x /usr/bin/time ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }
if [ "$SERVER" = nginx ]; then
	export PATH=$PATH:/usr/sbin
	command -v nginx >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; }
	command -v openssl >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null; }
fi

echo "building wcdl and wcdl-sim into ${OUT#"$ROOT"/}" >&2
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
NGINX_PID=
NGX=
stop_nginx() {
	[ -n "$NGINX_PID" ] && { kill -TERM "$NGINX_PID" 2>/dev/null || true; wait "$NGINX_PID" 2>/dev/null || true; }
	NGINX_PID=
}
cleanup() {
	[ -n "$SIM_PID" ] && { kill -TERM "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true; }
	stop_nginx
	[ -n "$NGX" ] && rm -rf "$NGX"
	kill -TERM "$TOXI_PID" 2>/dev/null || true
	wait "$TOXI_PID" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 100); do $TOXI list >/dev/null 2>&1 && break; sleep 0.05; done

if [ "$SERVER" = nginx ]; then
	# nginx's prefix: config, pid, logs, temp files, certificate and the
	# files it serves. Its workers (nobody, when run as root) read them.
	NGX=$(mktemp -d /tmp/wcdl-nginx.XXXXXX)
	chmod 755 "$NGX"
	NGINX_PORT=${BENCH_NGINX_PORT:-18475}
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=wcdl-bench-ca \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
		-keyout "$NGX/ca.key" -out "$NGX/ca.pem" 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
		-keyout "$NGX/server.key" -out "$NGX/server.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' >"$NGX/server.ext"
	openssl x509 -req -in "$NGX/server.csr" -CA "$NGX/ca.pem" -CAkey "$NGX/ca.key" -CAcreateserial -days 2 \
		-extfile "$NGX/server.ext" -out "$NGX/server.pem" 2>/dev/null
	mkdir -p "$NGX/tmp"
fi

# start_nginx [SIM FLAGS...]: nginx serving the current simulator's files
# (fetched from it into the prefix), the simulator's flags for caps
# translated into nginx directives. Sets UP to its address.
start_nginx() {
	stop_nginx
	local cap= bw= ra= limits= capped=
	while [ $# -gt 1 ]; do
		case $1 in
		--max-in-flight) cap=$2 ;;
		--conn-bandwidth) bw=$2 ;;
		--cap-retry-after) ra=${2%s} ;;
		esac
		shift 2
	done
	[ -n "$cap" ] && limits="limit_conn downloads $cap; limit_conn_status 429;"
	[ -n "$bw" ] && limits="$limits limit_rate $bw;"
	if [ -n "$ra" ]; then
		limits="$limits error_page 429 @capped;"
		capped="location @capped { add_header Retry-After $ra always; return 429; }"
	fi
	rm -rf "$NGX/www"
	"$OUT/wcdl" --dry-run --base-url "$BASE_URL" -m "$OUT/manifest.txt" -o "$OUT/dl" | cut -f1 >"$OUT/sim-urls.txt"
	{
		printf 'header = "Authorization: Bearer %s"\n' "$TOKEN"
		while read -r u; do printf 'url = "%s"\noutput = "%s"\n' "$u" "$NGX/www/${u#https://*/}"; done <"$OUT/sim-urls.txt"
	} >"$NGX/fetch.conf"
	chmod 600 "$NGX/fetch.conf"
	curl --parallel --create-dirs --fail --no-progress-meter --cacert "$OUT/ca.pem" -K "$NGX/fetch.conf" 2>"$OUT/fetch.err" ||
		{ cat "$OUT/fetch.err" >&2; exit 1; }
	chmod -R a+rX "$NGX/www"
	sed -e "s|@PREFIX@|$NGX|g" -e "s|@PORT@|$NGINX_PORT|g" -e "s|@LIMITS@|$limits|" -e "s|@CAPPED@|$capped|" \
		"$ROOT/bench/nginx.conf" >"$NGX/nginx.conf"
	: >"$NGX/access.log"
	nginx -p "$NGX" -e "$NGX/error.log" -c "$NGX/nginx.conf" &
	NGINX_PID=$!
	for _ in $(seq 1 100); do
		curl -s -o /dev/null --cacert "$NGX/ca.pem" "https://127.0.0.1:$NGINX_PORT/" && break
		sleep 0.05
	done
	kill -0 "$NGINX_PID" 2>/dev/null || { echo "nginx did not start" >&2; cat "$NGX/error.log" >&2; exit 1; }
	# Every tool trusts the simulator's CA through ca.pem: add nginx's.
	cat "$NGX/ca.pem" >>"$OUT/ca.pem"
	UP=127.0.0.1:$NGINX_PORT
}

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
	local simflags=("$@")
	[ "$SERVER" = nginx ] && simflags=() # nginx caps, the simulator only logs in and hands out the files
	# --land-mask=false: the synthetic names cover ocean cells too.
	"$OUT/wcdl-sim" --tls --ca-out "$OUT/ca.pem" --file-size "$size" --static-token "$TOKEN" --land-mask=false \
		--access-lifetime 1h --refresh-lifetime 2h "${simflags[@]}" >"$OUT/sim.out" 2>"$OUT/sim.err" &
	SIM_PID=$!
	wait_sim "$OUT/sim.out" "$OUT/sim.err"
	local up=${BASE_URL#https://}
	up=${up%%/*}
	if [ "$SERVER" = nginx ]; then
		start_nginx "$@"
		up=$UP
	fi
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
	echo "case $c ($SERVER): $count x $((size >> 20)) MiB, $((bw / 1000000)) MB/s per connection (toxiproxy), 20 ms, simulator flags: ${sim[*]}" >&2
	names "$count" >"$OUT/manifest.txt"
	start "$size" "$bw" "${sim[@]}"
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
	if [ "$SERVER" = nginx ]; then
		# Answers by status and protocol, and connections, over the case.
		awk '{ s[$1 " " $2]++; c[$3] = 1 } END { for (k in s) printf "%s: %d, ", k, s[k]; printf "connections: %d\n", length(c) }' "$NGX/access.log" |
			sed 's/^/  nginx answers: /' >&2
		stop_nginx
	fi
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
