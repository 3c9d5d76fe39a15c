#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Build the pvlockinfo guest initramfs: busybox-static, /init, the module
# and guest tools.  The archive is reproducible: sorted entries, owner
# root, timestamps fixed, gzip without a name or time stamp.

set -e

usage() {
	cat <<EOF2
Usage: $0 --out=FILE --kernel-release=REL [--module=KO]... [--tool=BIN]... [--dyn-tool=BIN]... [--lib=SO]... [--data=FILE]...

  --out=FILE             initramfs to write (gzip-compressed cpio)
  --kernel-release=REL   guest kernel release the modules are built for
  --module=KO            kernel module for /lib/modules/REL/extra (repeatable)
  --tool=BIN             static binary for /usr/bin (repeatable)
  --dyn-tool=BIN         dynamic binary for /usr/bin, with the shared
                         libraries ldd lists for it (repeatable)
  --lib=SO               shared library for /usr/lib, with the libraries
                         ldd lists for it (repeatable)
  --data=FILE            data file for /usr/share/pvlockinfo, such as the
                         lock policy list (repeatable)
EOF2
}

here=$(cd "$(dirname "$0")" && pwd)
out=
krel=
modules=
tools=
dyn_tools=
libs=
data=
for opt do
	case "$opt" in
	--out=*) out=${opt#*=} ;;
	--kernel-release=*) krel=${opt#*=} ;;
	--module=*) modules="$modules ${opt#*=}" ;;
	--tool=*) tools="$tools ${opt#*=}" ;;
	--dyn-tool=*) dyn_tools="$dyn_tools ${opt#*=}" ;;
	--lib=*) libs="$libs ${opt#*=}" ;;
	--data=*) data="$data ${opt#*=}" ;;
	--help|-h) usage; exit 0 ;;
	*) echo "mkinitramfs: unknown option '$opt'" >&2; usage >&2; exit 2 ;;
	esac
done
[ -n "$out" ] && [ -n "$krel" ] || { usage >&2; exit 2; }

# Debian's busybox-static installs a static /bin/busybox; a dynamic one
# would not run in the image, which has no libc.
busybox=/bin/busybox
if [ ! -x "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
	echo "mkinitramfs: error: $busybox is missing or not static (install busybox-static)" >&2
	exit 1
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" \
	"$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/run" \
	"$root/root" "$root/etc" "$root/lib/modules/$krel/extra" "$root/pvli" \
	"$root/usr/share/pvlockinfo"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list-full); do
	[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
install -m 0755 "$here/init" "$root/init"
echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
echo "root:x:0:" >"$root/etc/group"
echo 'PS1="pvli-guest# "' >"$root/etc/profile"
for m in $modules; do install -m 0644 "$m" "$root/lib/modules/$krel/extra/"; done
# Lets "modprobe pvlockinfo" find the modules shipped in the image, and
# "modprobe pvlockinfo_test" load pvlockinfo.ko first: the image's own
# busybox makes modules.dep here, once, not the guest at every boot.
"$busybox" depmod -b "$root" "$krel" || { echo "mkinitramfs: error: depmod failed" >&2; exit 1; }
for f in "$root/lib/modules/$krel"/modules.*; do LC_ALL=C sort -o "$f" "$f"; done
for t in $tools; do install -m 0755 "$t" "$root/usr/bin/"; done
for d in $data; do install -m 0644 "$d" "$root/usr/share/pvlockinfo/"; done
# Dynamic tools (Debian's own workloads) and libraries: the file and every
# library ldd names, at the same paths, the loader included.
mkdir -p "$root/usr/lib"
for t in $dyn_tools $libs; do
	[ -e "$t" ] || { echo "mkinitramfs: error: $t is missing" >&2; exit 1; }
	case " $libs " in
	*" $t "*) install -m 0755 "$t" "$root/usr/lib/" ;;
	*) install -m 0755 "$t" "$root/usr/bin/" ;;
	esac
	for lib in $(ldd "$t" | grep -o '/[^ ]*'); do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
done
# linux-perf's versioned binary (perf_6.12) answers to perf, as on the host.
for p in "$root"/usr/bin/perf_*; do
	if [ -e "$p" ] && [ ! -e "$root/usr/bin/perf" ]; then ln -s "${p##*/}" "$root/usr/bin/perf"; fi
done

# Reproducible archive: every timestamp is the epoch, entries sorted.
find "$root" -exec touch -h -d @0 {} +
tmp=$out.tmp
(cd "$root" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible) |
	gzip -n -9 >"$tmp"
mv "$tmp" "$out"
