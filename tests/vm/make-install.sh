#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 300
#
# `make install DESTDIR=... PREFIX=...` puts every file an operator's host
# needs under DESTDIR, with the modes and the paths the files name
# rewritten for PREFIX (the unit's ExecStart, the hook's pvlockctl, the
# QEMU that pvlockctl libvirt-xml names); `make uninstall` with the same
# variables removes them all.
. "$(dirname "$0")/lib.sh"

dest=$PVLI_LOGDIR/destdir
prefix=/opt/pvli-test
rm -rf "$dest"
at_exit 'rm -rf "$dest"; make -C "$PVLI_SRC" -s O="$PVLI_BUILD" "$PVLI_BUILD/host/pvlockctl" >/dev/null 2>&1'
vars=(O="$PVLI_BUILD" DESTDIR="$dest" PREFIX="$prefix")
make -C "$PVLI_SRC" -s "${vars[@]}" install >"$PVLI_LOGDIR/install.log" 2>&1 ||
	fail "make install failed: $(tail -5 "$PVLI_LOGDIR/install.log")"

# path mode
want=(
	"$prefix/sbin/pvlockd 755"
	"$prefix/sbin/pvlockctl 755"
	"$prefix/sbin/pvlockstat 755"
	"/etc/systemd/system/pvlockd.service 644"
	"/etc/libvirt/hooks/qemu.d/pvlockinfo 755"
	"$prefix/share/man/man8/pvlockd.8 644"
	"$prefix/share/man/man8/pvlockctl.8 644"
	"$prefix/share/man/man8/pvlockstat.8 644"
	"$prefix/share/man/man1/pvlock-qemu.1 644"
	"$prefix/libexec/pvlockinfo/qemu-system-x86_64 755"
	"$prefix/share/pvlockinfo/guest/vmlinuz 644"
	"$prefix/share/pvlockinfo/guest/initramfs.cpio.gz 644"
	"$prefix/share/doc/pvlockinfo/README.md 644"
	"$prefix/share/doc/pvlockinfo/examples/example-domain.xml 644"
	"$prefix/share/doc/pvlockinfo/examples/grafana-dashboard.json 644"
)
for w in "${want[@]}"; do
	f=$dest${w% *}
	[ -f "$f" ] || fail "make install did not install ${w% *}"
	expect_eq "mode of ${w% *}" "$(stat -c %a "$f")" "${w#* }"
done
n=$(find "$dest" -type f | wc -l)
expect_eq "files installed" "$n" "${#want[@]}"

grep -qx "ExecStart=$prefix/sbin/pvlockd" "$dest/etc/systemd/system/pvlockd.service" ||
	fail "pvlockd.service does not start $prefix/sbin/pvlockd: $(grep ExecStart "$dest/etc/systemd/system/pvlockd.service")"
grep -q "^PVLOCKCTL = \"$prefix/sbin/pvlockctl\"" "$dest/etc/libvirt/hooks/qemu.d/pvlockinfo" ||
	fail "the hook does not run $prefix/sbin/pvlockctl"
xml=$("$dest$prefix/sbin/pvlockctl" libvirt-xml web 2) || fail "installed pvlockctl libvirt-xml failed"
grep -q "$prefix/libexec/pvlockinfo/qemu-system-x86_64" <<<"$xml" ||
	fail "pvlockctl libvirt-xml does not name the installed QEMU: $xml"
"$dest$prefix/libexec/pvlockinfo/qemu-system-x86_64" -object help | matches memory-backend-bpf ||
	fail "the installed QEMU has no memory-backend-bpf"
note "make install: ${#want[@]} files, paths rewritten for PREFIX=$prefix"

make -C "$PVLI_SRC" -s "${vars[@]}" uninstall >>"$PVLI_LOGDIR/install.log" 2>&1 ||
	fail "make uninstall failed: $(tail -5 "$PVLI_LOGDIR/install.log")"
left=$(find "$dest" -type f)
[ -z "$left" ] || fail "make uninstall left: $left"
note "make uninstall removed them all"
