#!/usr/bin/env bash
# Builds wcdl's container image without a container engine and without
# network access beyond the Go module proxy (for crane itself): a static
# wcdl and the machine's CA certificates in one layer on an empty base,
# configured as the Containerfile's image (non-root 65532, ENTRYPOINT
# ["wcdl"]), written as an OCI image layout in a tarball.
#
#   build/image.sh                  # dist/wcdl-image-<version>-linux-<arch>.oci.tar
#   VERSION=v1.2.3 GOARCH=arm64 build/image.sh
#
# crane needs a registry to set the image's configuration, so the image is
# assembled in crane's own in-memory registry on 127.0.0.1 and pulled back
# out; nothing is pushed anywhere else. Load the result into your registry
# with crane push (see README: Image and releases).
set -euo pipefail
cd "$(dirname "$0")/.."

version="${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo devel)}"
arch="${GOARCH:-$(go env GOARCH)}"
ca="${CA_FILE:-/etc/ssl/certs/ca-certificates.crt}"
out="${OUT:-dist}/wcdl-image-$version-linux-$arch.oci.tar"
# Timestamps of the layer's files: the last commit's, so that a rebuild of
# the same commit gives the same layer.
epoch="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}"

if [ ! -s "$ca" ]; then
	echo "image.sh: no CA certificates at $ca (install the ca-certificates package, or set CA_FILE)" >&2
	exit 1
fi

. build/crane.sh
work=$(mktemp -d)
log="$work/crane.log" # crane logs every blob it pushes; shown on failure only
trap 'status=$?; crane_registry_stop; [ $status -eq 0 ] || [ ! -s "$log" ] || cat "$log" >&2; rm -rf "$work"' EXIT
crane_install

# The layer: the static binary, the CA bundle, and what a distroless
# "nonroot" image holds for its user (passwd, group, a home, /tmp).
root="$work/root"
mkdir -p "$root/usr/local/bin" "$root/etc/ssl/certs" "$root/home/nonroot" "$root/tmp"
CGO_ENABLED=0 GOOS=linux GOARCH="$arch" go build -trimpath \
	-ldflags "-s -w -X main.version=$version" -o "$root/usr/local/bin/wcdl" ./cmd/wcdl
cp "$ca" "$root/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
chmod 0755 "$root/usr/local/bin/wcdl" "$root/usr" "$root/usr/local" "$root/usr/local/bin" "$root/etc" "$root/etc/ssl" "$root/etc/ssl/certs" "$root/home"
chmod 0644 "$root/etc/ssl/certs/ca-certificates.crt" "$root/etc/passwd" "$root/etc/group"
chmod 0700 "$root/home/nonroot"
chmod 1777 "$root/tmp"
tar_opts=(--sort=name --mtime="@$epoch" --numeric-owner --format=posix
	--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime)
tar "${tar_opts[@]}" --owner=0 --group=0 -C "$root" --exclude=./home/nonroot -cf "$work/layer.tar" ./etc ./home ./tmp ./usr
tar "${tar_opts[@]}" --owner=65532 --group=65532 -C "$root" -rf "$work/layer.tar" ./home/nonroot

crane_registry_start
ref="$registry/wcdl:$version"
"$crane" append --oci-empty-base -f "$work/layer.tar" -t "$ref" >/dev/null 2>>"$log"
"$crane" mutate "$ref" -t "$ref" --set-platform "linux/$arch" \
	--entrypoint wcdl --user 65532:65532 --workdir /home/nonroot \
	-e PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	-e SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
	-e HOME=/home/nonroot \
	-l org.opencontainers.image.title=wcdl \
	-l org.opencontainers.image.version="$version" \
	-l org.opencontainers.image.source=https://github.com/wcdl/wcdl >/dev/null 2>>"$log"
"$crane" pull --format oci "$ref" "$work/layout" 2>>"$log"

mkdir -p "$(dirname "$out")"
tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner --mode=u=rwX,go=rX \
	-C "$work/layout" -cf "$out.new" .
mv "$out.new" "$out"
echo "$out $("$crane" digest "$ref" 2>>"$log")"
