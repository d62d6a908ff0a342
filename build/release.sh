#!/bin/sh
# Release build: cross-compiled archives and .deb packages for the Pi.
#
#   build/release.sh 0.1.0
#
# writes to dist/:
#   apiary_<version>_linux_{armv6,armv7,arm64,amd64}.tar.gz   binary, README,
#       LICENSE, an example apiary.toml documenting every key, the systemd unit
#   apiary_<version>_{armhf,arm64,amd64}.deb                   (armhf is GOARM=6:
#       a GOARM=7 binary under the armhf label breaks the Pi Zero and Pi 1)
#   SHA256SUMS
#
# Builds are static (CGO_ENABLED=0), -trimpath, stamped with -ldflags -X
# (not VCS stamping: GOFLAGS=-buildvcs=false may be set), and reproducible:
# the same commit gives the same bytes (times come from SOURCE_DATE_EPOCH,
# by default the commit's time).
set -eu

VERSION=${1:?usage: build/release.sh VERSION}
VERSION=${VERSION#v}
cd "$(dirname "$0")/.."

COMMIT=${COMMIT:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)}
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
export SOURCE_DATE_EPOCH
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false
LDFLAGS="-s -w -buildid= -X main.version=$VERSION -X main.commit=$COMMIT"
NFPM_VERSION=v2.45.2
DIST=${DIST:-dist}

rm -rf "$DIST"
mkdir -p "$DIST/stage"
# nfpm, the .deb packager, built once from the module proxy at a fixed version.
GOFLAGS= GOBIN="$(cd "$DIST/stage" && pwd)" go install "github.com/goreleaser/nfpm/v2/cmd/nfpm@$NFPM_VERSION"
NFPM="$DIST/stage/nfpm"

# The example configuration: the built-in defaults, with the data where
# the package and the systemd unit keep it.
sed 's|^data_dir = .*|data_dir = "/var/lib/apiary"|' appliance/default.toml >"$DIST/apiary.toml"

# name GOARCH GOARM debian-arch ("-": no .deb)
for target in "armv6 arm 6 armhf" "armv7 arm 7 -" "arm64 arm64 - arm64" "amd64 amd64 - amd64"; do
	set -- $target
	name=$1 goarch=$2 goarm=$3 debarch=$4
	[ "$goarm" = - ] && goarm=
	dir="apiary_${VERSION}_linux_$name"
	stage="$DIST/stage/$dir"
	mkdir -p "$stage"
	echo "== $dir" >&2
	GOOS=linux GOARCH=$goarch GOARM=$goarm go build -trimpath -ldflags "$LDFLAGS" -o "$stage/apiary" ./cmd/apiary
	cp README.md LICENSE build/package/apiary.service "$DIST/apiary.toml" "$stage/"
	chmod 0644 "$stage"/README.md "$stage"/LICENSE "$stage"/apiary.service "$stage"/apiary.toml
	chmod 0755 "$stage/apiary"
	find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
	tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
		-C "$DIST/stage" -cf - "$dir" | gzip -n -9 >"$DIST/$dir.tar.gz"
	if [ "$debarch" != - ]; then
		# nfpm expands the environment in some fields only: fill them all here.
		sed -e "s|\${DEB_ARCH}|$debarch|g" -e "s|\${VERSION}|$VERSION|g" \
			-e "s|\${BINARY}|$stage/apiary|g" -e "s|\${STAGE}|$stage|g" \
			build/package/nfpm.yaml >"$DIST/stage/nfpm-$debarch.yaml"
		"$NFPM" package \
			--config "$DIST/stage/nfpm-$debarch.yaml" --packager deb \
			--target "$DIST/apiary_${VERSION}_$debarch.deb" >&2
	fi
done

(cd "$DIST" && sha256sum ./*.tar.gz ./*.deb | sed 's| \./| |' >SHA256SUMS)

echo "== binary sizes" >&2
for f in "$DIST"/stage/*/apiary; do
	printf '%-40s %10s bytes\n' "$(basename "$(dirname "$f")")" "$(wc -c <"$f")"
done
echo "== dist/" >&2
ls -l "$DIST" | sed 1d
