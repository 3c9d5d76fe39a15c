#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Build QEMU 10.0.2 from Debian's source tarball with the patches in this
# directory, x86_64-softmmu only, into a cache outside the checkout.
#
# The cache entry is keyed on the tarball, the patches and this script, so
# a rebuild happens exactly when one of them changes.  On success the path
# of the patched qemu-system-x86_64 is printed on stdout (and nothing
# else); progress goes to stderr.

set -e

usage() {
	cat <<EOF
Usage: $0 [--cache=DIR] [--jobs=N] [--print-key] [--help]

Builds the patched QEMU used by pvlockinfo, unless the cache already has
it, and prints the path of its qemu-system-x86_64.

  --cache=DIR   cache directory (default: \$PVLI_CACHE or /var/cache/pvlockinfo)
  --jobs=N      parallel build jobs (default: $(nproc))
  --print-key   print the cache key and exit
  --help        this text
EOF
}

here=$(cd "$(dirname "$0")" && pwd)
cache=${PVLI_CACHE:-/var/cache/pvlockinfo}
jobs=$(nproc)
print_key=no
QEMU_VERSION=10.0.2
TARBALL=qemu_${QEMU_VERSION}+ds.orig.tar.xz

for opt do
	case "$opt" in
	--cache=*) cache=${opt#*=} ;;
	--jobs=*) jobs=${opt#*=} ;;
	--print-key) print_key=yes ;;
	--help|-h) usage; exit 0 ;;
	*) echo "build-qemu: unknown option '$opt' (see --help)" >&2; exit 2 ;;
	esac
done

say() { echo "[qemu] $*" >&2; }
die() { echo "build-qemu: error: $*" >&2; exit 1; }

mkdir -p "$cache/src" || die "cannot create cache directory $cache"

# Debian's .dsc and debian.tar.xz for the backport may 404; the upstream
# tarball is all we need, so judge success by the tarball alone.
if [ ! -s "$cache/src/$TARBALL" ]; then
	say "downloading the QEMU $QEMU_VERSION source tarball from Debian"
	(cd "$cache/src" && apt-get source --download-only \
		"qemu/bookworm-backports" >"$cache/src/apt-source.log" 2>&1) || true
	[ -s "$cache/src/$TARBALL" ] ||
		die "could not download $TARBALL with apt-get source (is deb-src for bookworm-backports enabled? run ./configure); log: $cache/src/apt-source.log"
fi

key=$( (sha256sum "$cache/src/$TARBALL" | cut -d' ' -f1
	cat "$here"/*.patch "$here/build-qemu.sh") | sha256sum | cut -c1-16)
if [ "$print_key" = yes ]; then
	echo "$key"
	exit 0
fi

dest=$cache/qemu-$key
bin=$dest/bin/qemu-system-x86_64

exec 9>"$cache/qemu.lock"
flock 9
if [ -x "$bin" ]; then
	echo "$bin"
	exit 0
fi

work=$dest.tmp
rm -rf "$work"
mkdir -p "$work"
log=$work/build.log
fail() {
	echo "build-qemu: error: $1; last lines of $log:" >&2
	tail -n 30 "$log" >&2
	exit 1
}

say "unpacking $TARBALL"
tar -C "$work" --no-same-owner -xf "$cache/src/$TARBALL" || die "cannot unpack $TARBALL"
src=$work/qemu-$QEMU_VERSION
[ -d "$src" ] || die "unexpected tarball layout: no qemu-$QEMU_VERSION/"

for p in "$here"/*.patch; do
	say "applying $(basename "$p")"
	(cd "$src" && git apply --whitespace=nowarn "$p") >>"$log" 2>&1 ||
		fail "patch $(basename "$p") does not apply to QEMU $QEMU_VERSION"
done

# The +ds tarball has no EDK2 firmware blobs; meson would try to unpack them.
sed -i 's/unpack_edk2_blobs = bzip2.found()/unpack_edk2_blobs = false/' "$src/meson.build"

say "configuring (log: $log)"
# No debug info (-g): the same code, built faster (make check's cold
# budget counts this build); nothing here debugs QEMU with symbols.
(cd "$src" && ./configure --target-list=x86_64-softmmu \
	--without-default-features --enable-kvm --enable-tcg --disable-docs \
	--disable-debug-info \
	--enable-fdt=system --disable-install-blobs --python=/usr/bin/python3) \
	>>"$log" 2>&1 || fail "QEMU configure failed"

say "building with $jobs jobs (about 4 minutes on 2 cores)"
start=$(date +%s)
(cd "$src/build" && ninja -j"$jobs" qemu-system-x86_64) >>"$log" 2>&1 ||
	fail "QEMU build failed"
say "built in $(( $(date +%s) - start )) s"

mkdir -p "$work/bin"
cp "$src/build/qemu-system-x86_64" "$work/bin/"
cp "$here"/*.patch "$work/"
rm -rf "$src"

# Publish atomically, then drop entries for older keys.
rm -rf "$dest"
mv "$work" "$dest"
for old in "$cache"/qemu-*; do
	case "$old" in
	"$dest"|*.lock) ;;
	*) [ -d "$old" ] && rm -rf "$old" ;;
	esac
done
echo "$bin"
