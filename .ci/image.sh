#!/usr/bin/env bash
# CI check of the container image: build it with build/image.sh, push the
# OCI tarball into crane's registry on loopback as README says (crane push),
# check its configuration, export its filesystem into a folder, and run the
# wcdl inside it: --version, then a --simulate run with the image's CA file.
set -euo pipefail
cd "$(dirname "$0")/.."

. build/crane.sh
work=$(mktemp -d)
trap 'crane_registry_stop; rm -rf "$work"' EXIT
crane_install

fail() {
	echo "image check: $*" >&2
	exit 1
}

version="ci-$(git rev-parse --short HEAD 2>/dev/null || echo devel)"
arch=$(go env GOARCH)
image=$(VERSION="$version" OUT="$work" build/image.sh | cut -d' ' -f1)
echo "built $(basename "$image") ($(du -k "$image" | cut -f1) KiB)"

mkdir "$work/layout"
tar -xf "$image" -C "$work/layout"
crane_registry_start
ref="$registry/wcdl:$version"
"$crane" push "$work/layout" "$ref" 2>"$work/push.log" >/dev/null || { cat "$work/push.log" >&2; fail "crane push failed"; }

config=$("$crane" config "$ref")
for want in '"Entrypoint":["wcdl"]' '"User":"65532:65532"' '"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"' \
	"\"architecture\":\"$arch\"" '"os":"linux"'; do
	case "$config" in
	*"$want"*) ;;
	*) fail "the image's configuration lacks $want: $config" ;;
	esac
done

fs="$work/fs"
mkdir "$fs"
"$crane" export "$ref" - | tar -xf - -C "$fs"
bin="$fs/usr/local/bin/wcdl"
ca="$fs/etc/ssl/certs/ca-certificates.crt"
[ -x "$bin" ] || fail "no executable /usr/local/bin/wcdl in the image"
cmp -s "$ca" /etc/ssl/certs/ca-certificates.crt || fail "the image's CA file differs from the machine's"
[ "$(stat -c %u "$fs/home/nonroot")" = 65532 ] || echo "note: /home/nonroot is not owned by 65532 here (tar ran as a user that cannot chown)"

settings=$(go version -m "$bin")
for want in "CGO_ENABLED=0" "-trimpath=true"; do
	case "$settings" in
	*"$want"*) ;;
	*) fail "the binary was not built with $want:"$'\n'"$settings" ;;
	esac
done

got=$(env -i "$bin" --version)
want="wcdl $version $(go env GOVERSION) linux/$arch"
[ "$got" = "$want" ] || fail "wcdl --version said \"$got\", want \"$want\""
echo "+ wcdl --version: $got"

out="$work/tiles"
env -i HOME="$work/home" SSL_CERT_FILE="$ca" "$bin" --simulate -q -m testdata/tiles.txt -o "$out" --report "$work/report.json" ||
	fail "wcdl --simulate from the image exited $?"
# Every entry of the manifest downloaded, and each one a file.
summary=$(tr -d ' \n' <"$work/report.json")
entries=$(echo "$summary" | sed -n 's/.*"summary":{"entries":\([0-9]*\),"downloaded":\([0-9]*\),.*/\1 \2/p')
got=$(find "$out" -name '*.tif' | wc -l)
[ -n "$entries" ] && [ "$entries" = "$got $got" ] && [ "$got" -gt 0 ] ||
	fail "the simulated run left $got .tif files; its report says entries and downloaded: ${entries:-none}"
echo "+ wcdl --simulate from the image: $got files"
