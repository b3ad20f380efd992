#!/usr/bin/env bash
# bench/s3.sh: wcdl --source aws against `aws s3 cp --recursive
# --no-sign-request` and `rclone copy`, fetching the same tiles from a
# public versitygw bucket (uploaded in one part each, so their ETags are
# MD5s and wcdl checks them) behind toxiproxy: 20 ms of latency and a
# bandwidth cap per connection, as bench/wan.sh sets up. Every tool gets
# the same number of connections. Not run by CI.
#
#   bench/s3.sh                                   # 3 interleaved repetitions
#   BENCH_REPS=5 BENCH_TILES=32 BENCH_SIZE=16777216 BENCH_BW=8000000 BENCH_CONNS=8 bench/s3.sh
#
# versitygw and toxiproxy are installed with go install when missing.
# Results: bench/out/s3/raw.tsv and bench/out/s3/results.md (medians).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out/s3
REPS=${BENCH_REPS:-3}
TILES=${BENCH_TILES:-32}
SIZE=${BENCH_SIZE:-$((16 << 20))}
BW=${BENCH_BW:-8000000}
CONNS=${BENCH_CONNS:-8}
mkdir -p "$OUT"

GOBIN=$(go env GOPATH)/bin
[ -x "$GOBIN/versitygw" ] || go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
[ -x "$GOBIN/server" ] || go install github.com/Shopify/toxiproxy/v2/cmd/server@latest
[ -x "$GOBIN/cli" ] || go install github.com/Shopify/toxiproxy/v2/cmd/cli@latest
command -v rclone >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rclone >/dev/null; }
command -v aws >/dev/null || { echo "the aws CLI is not installed" >&2; exit 2; }
[ -x /usr/bin/time ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }

echo "building wcdl into ${OUT#"$ROOT"/}" >&2
go build -o "$OUT/wcdl" ./cmd/wcdl
WORK=$(mktemp -d /tmp/wcdl-s3bench.XXXXXX)
go run ./bench/s3tiles -n "$TILES" -size "$SIZE" -dir "$WORK/tiles" >"$OUT/manifest.txt"

GW_PORT=${BENCH_GW_PORT:-18476}
TOXI_PORT=${BENCH_TOXI_PORT:-18477}
mkdir -p "$WORK/gw"
ROOT_ACCESS_KEY=benchroot ROOT_SECRET_KEY=bench-root-secret-key \
	"$GOBIN/versitygw" --port "127.0.0.1:$GW_PORT" --region us-east-1 --quiet posix "$WORK/gw" >"$OUT/versitygw.log" 2>&1 &
GW_PID=$!
"$GOBIN/server" -host 127.0.0.1 -port "$TOXI_PORT" >"$OUT/toxiproxy.log" 2>&1 &
TOXI_PID=$!
cleanup() {
	kill -TERM "$GW_PID" "$TOXI_PID" 2>/dev/null || true
	wait "$GW_PID" "$TOXI_PID" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
TOXI="$GOBIN/cli --host http://127.0.0.1:$TOXI_PORT"
for _ in $(seq 1 200); do
	curl -s -o /dev/null "http://127.0.0.1:$GW_PORT/" && $TOXI list >/dev/null 2>&1 && break
	sleep 0.05
done

# The bucket, public-read, with the tiles uploaded in one part each.
export AWS_CONFIG_FILE=$WORK/aws-upload.conf
printf '[default]\nregion = us-east-1\ns3 =\n  multipart_threshold = 4GB\n' >"$AWS_CONFIG_FILE"
ADMIN=(env AWS_ACCESS_KEY_ID=benchroot AWS_SECRET_ACCESS_KEY=bench-root-secret-key aws --endpoint-url "http://127.0.0.1:$GW_PORT")
"${ADMIN[@]}" s3api create-bucket --bucket esa-worldcover >/dev/null
"${ADMIN[@]}" s3api put-bucket-policy --bucket esa-worldcover --policy '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::esa-worldcover","arn:aws:s3:::esa-worldcover/*"]}]}'
"${ADMIN[@]}" s3 cp --recursive --only-show-errors "$WORK/tiles" s3://esa-worldcover/v200/2021/map/
rm -rf "$WORK/tiles"

# The wide-area link: latency both ways, a bandwidth cap per connection.
$TOXI create --listen "127.0.0.1:0" --upstream "127.0.0.1:$GW_PORT" wan >/dev/null
LISTEN=$($TOXI inspect wan | sed -n 's/.*listen=\([^ ]*\).*/\1/p' | head -1)
[ -n "$LISTEN" ] || LISTEN=$(curl -s "http://127.0.0.1:$TOXI_PORT/proxies/wan" | sed -n 's/.*"listen":"\([^"]*\)".*/\1/p')
$TOXI toxic add -t latency -a latency=10 -d wan >/dev/null
$TOXI toxic add -t latency -a latency=10 -u wan >/dev/null
$TOXI toxic add -t bandwidth -a rate=$((BW / 1000)) -d wan >/dev/null
ENDPOINT=http://$LISTEN

# The downloaders' settings: CONNS connections each, no credentials.
printf '[default]\nregion = us-east-1\ns3 =\n  max_concurrent_requests = %s\n' "$CONNS" >"$WORK/aws.conf"
: >"$WORK/rclone.conf"

RAW=$OUT/raw.tsv
printf '# tool\trep\twall_s\tuser_s\tsys_s\tmaxrss_kib\tok\tnote\n' >"$RAW"
expected=$((TILES * SIZE))
DL=$WORK/dl

# run TOOL REP CMD...
run() {
	local tool=$1 rep=$2
	shift 2
	rm -rf "$DL"
	mkdir -p "$DL"
	local ok=ok note=
	# AWS_CA_BUNDLE (set on some machines) makes rclone's SDK refuse its own
	# transport; the link is plain http, so no tool needs it.
	env -u AWS_CA_BUNDLE AWS_CONFIG_FILE=$WORK/aws.conf RCLONE_CONFIG=$WORK/rclone.conf \
		/usr/bin/time -f '%e %U %S %M' -o "$OUT/time.txt" "$@" >"$OUT/$tool.log" 2>&1 || ok=failed
	local got files
	got=$(find "$DL" -type f -name '*.tif' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
	files=$(find "$DL" -type f -name '*.tif' | wc -l)
	[ "$got" = "$expected" ] || { ok=failed; note="wrote $got of $expected bytes"; }
	[ "$files" = "$TILES" ] || { ok=failed; note="$note; $files of $TILES files"; }
	read -r wall user sys rss < <(tail -n 1 "$OUT/time.txt")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$rep" "$wall" "$user" "$sys" "$rss" "$ok" "$note" >>"$RAW"
	printf '  %-22s rep %s: %6.2fs wall, %5.2fs user, %5.2fs sys, %s %s\n' "$tool" "$rep" "$wall" "$user" "$sys" "$ok" "$note" >&2
}

echo "$TILES tiles x $((SIZE >> 20)) MiB from versitygw via toxiproxy: 20 ms, $((BW / 1000000)) MB/s per connection, $CONNS connections" >&2
for rep in $(seq 1 "$REPS"); do
	run "wcdl -w $CONNS" "$rep" "$OUT/wcdl" --source aws --base-url "aws=$ENDPOINT/esa-worldcover" \
		-m "$OUT/manifest.txt" -w "$CONNS" -o "$DL" --progress none -q
	run "aws s3 cp ($CONNS req)" "$rep" aws s3 cp --recursive --no-sign-request --only-show-errors \
		--endpoint-url "$ENDPOINT" s3://esa-worldcover/v200/2021/map/ "$DL"
	run "rclone --transfers $CONNS" "$rep" rclone copy --transfers "$CONNS" --checkers "$CONNS" --s3-no-check-bucket \
		":s3,provider=Other,env_auth=false,endpoint='$ENDPOINT':esa-worldcover/v200/2021/map" "$DL"
done

{
	printf '| tool | runs | failed runs | median wall s | median user+sys s | median max RSS MiB |\n| --- | --- | --- | --- | --- | --- |\n'
	awk -F'\t' '!/^#/ { k = $1; n[k]++; if ($7 != "ok") f[k]++; w[k] = w[k] " " $3; u[k] = u[k] " " ($4 + $5); r[k] = r[k] " " $6 }
		END { for (k in n) print k "\t" n[k] "\t" f[k] + 0 "\t" w[k] "\t" u[k] "\t" r[k] }' "$RAW" | sort |
		while IFS=$'\t' read -r tool runs failed walls cpus rss; do
			med() { printf '%s\n' $1 | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
			printf '| %s | %s | %s | %s | %s | %s |\n' "$tool" "$runs" "$failed" "$(med "$walls")" "$(med "$cpus")" "$(( $(med "$rss") / 1024 ))"
		done
} >"$OUT/results.md"
cat "$OUT/results.md"
