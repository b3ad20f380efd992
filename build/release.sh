#!/usr/bin/env bash
# Builds wcdl's release archives: a static wcdl (CGO_ENABLED=0, -trimpath,
# the version stamped in) for linux, darwin and windows on amd64 and arm64,
# each with README.md in a .tar.gz (a .zip for windows), and SHA256SUMS over
# the archives.
#
#   build/release.sh                 # dist/release/<version>/
#   VERSION=v1.2.3 build/release.sh
#
# Check a download with: sha256sum --check --ignore-missing SHA256SUMS
set -euo pipefail
cd "$(dirname "$0")/.."

version="${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo devel)}"
out="${OUT:-dist/release}/$version"
targets="${TARGETS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64}"
# Timestamps inside the archives: the last commit's, so that a rebuild of
# the same commit gives the same archives.
epoch="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf "$out"
mkdir -p "$out"

for target in $targets; do
	os=${target%/*} arch=${target#*/}
	name="wcdl_${version}_${os}_${arch}"
	exe=wcdl
	[ "$os" = windows ] && exe=wcdl.exe
	mkdir "$work/$name"
	CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath \
		-ldflags "-s -w -X main.version=$version" -o "$work/$name/$exe" ./cmd/wcdl
	cp README.md "$work/$name/"
	touch -d "@$epoch" "$work/$name" "$work/$name"/*
	if [ "$os" = windows ]; then
		(cd "$work" && zip -qrX "$OLDPWD/$out/$name.zip" "$name")
	else
		tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner -C "$work" -cf - "$name" |
			gzip -9n >"$out/$name.tar.gz"
	fi
done

(cd "$out" && sha256sum -- *.tar.gz *.zip >SHA256SUMS)
echo "$out:"
ls -l "$out"
