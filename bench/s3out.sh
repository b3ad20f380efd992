#!/usr/bin/env bash
# bench/s3out.sh: 64 files of 16 MiB from wcdl-sim into a versitygw bucket
# on loopback, three ways: wcdl -o s3:// (streamed, no copy on disk);
# wcdl to a folder, then `aws s3 cp --recursive`; wcdl to a folder, then
# `rclone copy`. Prints wall time and peak RSS of each step (the median of
# RUNS runs). rclone copyurl does not apply: it cannot log in to Keycloak.
#
#   bench/s3out.sh                    # 64 x 16 MiB, -w 16, 3 runs
#   S3_FILES=16 S3_WORKERS=4 RUNS=1 bench/s3out.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cd "$(dirname "$0")/.."
OUT=$PWD/bench/out/s3out
FILES=${S3_FILES:-64}
SIZE=${S3_SIZE:-16777216}
WORKERS=${S3_WORKERS:-16}
RUNS=${RUNS:-3}
mkdir -p "$OUT"
[ -x /usr/bin/time ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }
VGW=${WCDL_VERSITYGW:-$(go env GOPATH)/bin/versitygw}

go build -o "$OUT/wcdl" ./cmd/wcdl
go build -o "$OUT/wcdl-sim" ./cmd/wcdl-sim

"$OUT/wcdl-sim" --file-size "$SIZE" --land-mask=false >"$OUT/sim.out" 2>"$OUT/sim.err" &
SIM=$!
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
rm -rf "$OUT/gw" && mkdir -p "$OUT/gw"
export AWS_ACCESS_KEY_ID=benchroot AWS_SECRET_ACCESS_KEY=bench-root-secret AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
ROOT_ACCESS_KEY=$AWS_ACCESS_KEY_ID ROOT_SECRET_KEY=$AWS_SECRET_ACCESS_KEY \
	"$VGW" --port "127.0.0.1:$PORT" --region us-east-1 --quiet posix "$OUT/gw" >"$OUT/gw.log" 2>&1 &
GW=$!
trap 'kill -TERM $SIM $GW 2>/dev/null; wait $SIM $GW 2>/dev/null; rm -rf "$OUT/dl" "$OUT/gw"' EXIT
wait_sim "$OUT/sim.out" "$OUT/sim.err"
EP=http://127.0.0.1:$PORT
for _ in $(seq 1 100); do curl -s -o /dev/null "$EP" && break; sleep 0.05; done

for i in $(seq 0 $((FILES - 1))); do printf 'N%02dE%03d\n' $(((i / 60) * 3)) $(((i % 60) * 3)); done >"$OUT/tiles.txt"

export RCLONE_CONFIG_GW_TYPE=s3 RCLONE_CONFIG_GW_PROVIDER=Other RCLONE_CONFIG_GW_ENDPOINT=$EP \
	RCLONE_CONFIG_GW_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID RCLONE_CONFIG_GW_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY \
	RCLONE_CONFIG_GW_FORCE_PATH_STYLE=true RCLONE_CONFIG=/dev/null
export WCDL_USERNAME=$SIM_USER WCDL_PASSWORD=demo-password
WCDL=("$OUT/wcdl" -q --progress none -w "$WORKERS" --token-url "$TOKEN_URL" --client-id "$CLIENT_ID" --base-url "$BASE_URL" -m "$OUT/tiles.txt")
# timed NAME CMD...: runs CMD under /usr/bin/time, appends "NAME wall rss_kib".
timed() {
	local name=$1
	shift
	/usr/bin/time -f '%e %M' -o "$OUT/time" "$@"
	echo "$name $(cat "$OUT/time")" >>"$OUT/results"
}

: >"$OUT/results"
for run in $(seq 1 "$RUNS"); do
	b=bench$run
	aws --endpoint-url "$EP" s3api create-bucket --bucket "$b" >/dev/null
	timed stream "${WCDL[@]}" -o "s3://$b/stream/" --s3-endpoint "$EP" --s3-path-style
	rm -rf "$OUT/dl"
	timed disk "${WCDL[@]}" -o "$OUT/dl"
	timed awscp aws --endpoint-url "$EP" s3 cp --recursive --quiet "$OUT/dl" "s3://$b/awscp/"
	timed rclone env -u AWS_CA_BUNDLE rclone copy --transfers "$WORKERS" "$OUT/dl" "gw:$b/rclone"
	n=$(aws --endpoint-url "$EP" s3 ls --recursive "s3://$b/" | wc -l)
	[ "$n" -eq $((3 * FILES)) ] || { echo "run $run: $n objects in $b, want $((3 * FILES))" >&2; exit 1; }
	rm -rf "$OUT/dl" "$OUT/gw/$b"
done

awk -v f="$FILES" -v size="$SIZE" -v w="$WORKERS" '
{ t[$1] = t[$1] " " $2; r[$1] = (r[$1] > $3 ? r[$1] : $3) }
function median(s,   a, n, i, j, x) {
	n = split(s, a, " ")
	for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j > 0 && a[j] + 0 > x + 0; j--) a[j + 1] = a[j]; a[j + 1] = x }
	return a[int((n + 1) / 2)]
}
END {
	mib = f * size / 1048576
	s = median(t["stream"]); d = median(t["disk"]); c = median(t["awscp"]); rc = median(t["rclone"])
	printf "%d files x %d MiB, -w %d, median of runs\n", f, size / 1048576, w
	printf "wcdl -o s3:// (streamed)      %6.2f s  %6.0f MiB/s  peak RSS %6.1f MiB\n", s, mib / s, r["stream"] / 1024
	printf "wcdl -o DIR, then aws s3 cp   %6.2f s  %6.0f MiB/s  peak RSS %6.1f / %.1f MiB\n", d + c, mib / (d + c), r["disk"] / 1024, r["awscp"] / 1024
	printf "wcdl -o DIR, then rclone copy %6.2f s  %6.0f MiB/s  peak RSS %6.1f / %.1f MiB\n", d + rc, mib / (d + rc), r["disk"] / 1024, r["rclone"] / 1024
}' "$OUT/results"
