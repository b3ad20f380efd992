#!/usr/bin/env bash
# bench/rss.sh: wcdl's peak memory with 16 workers and 256 MiB files
# (16 files, 4 GiB in all), against wcdl-sim on loopback. Memory must stay
# flat whatever the file size: the target is a peak RSS under 64 MiB.
#
#   bench/rss.sh                       # 16 files of 256 MiB
#   RSS_FILES=4 RSS_SIZE=1073741824 bench/rss.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cd "$(dirname "$0")/.."
OUT=$PWD/bench/out/rss
FILES=${RSS_FILES:-16}
SIZE=${RSS_SIZE:-268435456}
mkdir -p "$OUT"
[ -x /usr/bin/time ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }

go build -o "$OUT/wcdl" ./cmd/wcdl
go build -o "$OUT/wcdl-sim" ./cmd/wcdl-sim

"$OUT/wcdl-sim" --file-size "$SIZE" >"$OUT/sim.out" 2>"$OUT/sim.err" &
SIM=$!
trap 'kill -TERM $SIM 2>/dev/null; wait $SIM 2>/dev/null; rm -rf "$OUT/dl"' EXIT
wait_sim "$OUT/sim.out" "$OUT/sim.err"

for i in $(seq 0 $((FILES - 1))); do printf 'N%02dE%03d\n' $(((i / 60) * 3)) $(((i % 60) * 3)); done >"$OUT/tiles.txt"

rm -rf "$OUT/dl"
WCDL_USERNAME=demo WCDL_PASSWORD=demo-password /usr/bin/time -f '%e %U %S %M' -o "$OUT/time" \
	"$OUT/wcdl" -q --progress none -w 16 --token-url "$TOKEN_URL" --base-url "$BASE_URL" \
	-m "$OUT/tiles.txt" -o "$OUT/dl"
read -r wall user sys rss_kib <"$OUT/time"
bytes=$(du -sb "$OUT/dl" | cut -f1)
awk -v f="$FILES" -v size="$SIZE" -v b="$bytes" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss_kib" 'BEGIN {
	printf "files %d x %d MiB = %d MiB received in %.2f s (%.0f MiB/s); CPU %.2f s; peak RSS %.1f MiB\n",
		f, size / 1048576, b / 1048576, w, b / 1048576 / w, u + s, r / 1024
}'
