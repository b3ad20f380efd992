#!/usr/bin/env bash
# bench/soak.sh: a long run of many small files with 64 workers and
# one-second access tokens with refresh-token rotation, against wcdl-sim on
# loopback. Not part of CI.
#
#   bench/soak.sh                                # 20000 x 16 KiB over ~2 minutes
#   SOAK_FILES=5000 SOAK_SECONDS=30 bench/soak.sh
#
# It prints the run's summary, the simulator's counters, token requests per
# token lifetime (1.0 means one renewal per lifetime; the provider renews a
# tenth of a lifetime early, so about 1.1 is expected), and every error:
# wcdl's exit code, failed entries from its report, and files that are
# missing, of the wrong size or left over.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out/soak
FILES=${SOAK_FILES:-20000}
SIZE=${SOAK_SIZE:-16384}
SECONDS_TARGET=${SOAK_SECONDS:-120}
WORKERS=${SOAK_WORKERS:-64}
LIFETIME=1 # seconds
mkdir -p "$OUT"
rm -rf "$OUT/dl"

echo "building wcdl and wcdl-sim into bench/out" >&2
go build -o "$ROOT/bench/out/wcdl" ./cmd/wcdl
go build -o "$ROOT/bench/out/wcdl-sim" ./cmd/wcdl-sim

# --land-mask=false: the manifest covers the whole grid, ocean cells too.
"$ROOT/bench/out/wcdl-sim" --file-size "$SIZE" --access-lifetime "${LIFETIME}s" --rotation --land-mask=false \
	>"$OUT/sim.out" 2>"$OUT/sim.err" &
SIM_PID=$!
trap 'kill -TERM $SIM_PID 2>/dev/null || true' EXIT
wait_sim "$OUT/sim.out" "$OUT/sim.err"

# FILES distinct products over the whole grid (rows S60 to N81): 2 years x
# 2 layers x 5760 tiles.
awk -v n="$FILES" 'BEGIN {
	split("2020_v100 2021_v200", yv, " "); split("Map InputQuality", ly, " ")
	for (i = 0; i < n; i++) {
		t = int(i / 4) % 5760; v = i % 4
		lat = int(t / 120) * 3 - 60; lon = (t % 120) * 3 - 180
		ns = lat < 0 ? "S" : "N"; ew = lon < 0 ? "W" : "E"
		printf "ESA_WorldCover_10m_%s_%s%02d%s%03d_%s\n", yv[int(v/2)+1], ns, (lat<0?-lat:lat), ew, (lon<0?-lon:lon), ly[v%2+1]
	}
}' >"$OUT/manifest.txt"
if [ "$FILES" -gt 23040 ]; then
	echo "SOAK_FILES is at most 23040 (the grid's distinct products)" >&2
	exit 2
fi

# Spread the batch over SECONDS_TARGET with a rate cap, so that the run
# lives through about SECONDS_TARGET token lifetimes.
RATE=$((FILES * SIZE / SECONDS_TARGET))
echo "soak: $FILES x $SIZE B, $WORKERS workers, ${LIFETIME}s tokens with rotation, --limit-rate $RATE" >&2
start=$(date +%s.%N)
set +e
WCDL_USERNAME=$SIM_USER WCDL_PASSWORD=demo-password "$ROOT/bench/out/wcdl" \
	-w "$WORKERS" --progress none --limit-rate "$RATE" \
	--token-url "$TOKEN_URL" --client-id "$CLIENT_ID" --base-url "$BASE_URL" \
	-m "$OUT/manifest.txt" -o "$OUT/dl" --report "$OUT/report.json" 2>"$OUT/wcdl.err"
code=$?
set -e
end=$(date +%s.%N)
kill -TERM $SIM_PID
wait $SIM_PID || true
trap - EXIT

counters=$(tail -n 1 "$OUT/sim.out")
elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
num() { printf '%s' "$counters" | grep -o "\"$1\":[0-9]*" | cut -d: -f2; }
pw=$(num password_grants) rf=$(num refresh_grants) fpw=$(num failed_password_grants) frf=$(num failed_refresh_grants)
tokens=$((pw + rf + fpw + frf))
failed=$(grep -c '"status": "failed"' "$OUT/report.json" 2>/dev/null || true)
failed=${failed:-0}
mkdir -p "$OUT/dl"
files=$(find "$OUT/dl" -type f | wc -l)
wrong=$(find "$OUT/dl" -type f ! -size "${SIZE}c" | wc -l)
leftover=$(find "$OUT/dl" -type f \( -name '*.part' -o -name '*.meta' -o -name '*.lock' -o -name '*.tmp' \) | wc -l)

echo "wcdl: $(tail -n 3 "$OUT/wcdl.err")"
echo "simulator: $counters"
echo "exit code $code; elapsed ${elapsed}s; token requests $tokens (password $pw, refresh $rf, failed password $fpw, failed refresh $frf)"
awk -v t="$tokens" -v e="$elapsed" -v l="$LIFETIME" 'BEGIN { printf "token requests per lifetime: %.3f (%d requests over %.1f lifetimes of %ds)\n", t / (e / l), t, e / l, l }'
echo "files: $files of $FILES, $wrong of the wrong size, $leftover left over; failed entries in the report: $failed"
if [ "$failed" -gt 0 ]; then
	grep '"error"' "$OUT/report.json" | sort | uniq -c | sort -rn | head -5
fi
rm -rf "$OUT/dl"
[ "$code" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$files" -eq "$FILES" ] && [ "$wrong" -eq 0 ] && [ "$leftover" -eq 0 ]
