# bench/lib.sh: shared by the bench scripts; source it, do not run it.

# wait_sim OUT ERR: wait until the wcdl-sim writing to OUT has printed its
# addresses, then set TOKEN_URL, CLIENT_ID, BASE_URL, SIM_USER and GRID_URL; exit with
# its ERR if it did not start.
wait_sim() {
	local out=$1 err=$2
	for _ in $(seq 1 100); do
		grep -q '^grid_url=' "$out" && break
		sleep 0.05
	done
	TOKEN_URL=$(sed -n 's/^token_url=//p' "$out")
	CLIENT_ID=$(sed -n 's/^client_id=//p' "$out")
	BASE_URL=$(sed -n 's/^base_url=//p' "$out")
	SIM_USER=$(sed -n 's/^username=//p' "$out")
	GRID_URL=$(sed -n 's/^grid_url=//p' "$out")
	[ -n "$BASE_URL" ] || { echo "wcdl-sim did not start" >&2; cat "$err" >&2; exit 1; }
}
