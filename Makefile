# SPDX-License-Identifier: GPL-2.0-only
#
# pvlockinfo top-level Makefile.  Everything is built under $(O) (default
# build/); slow artefacts (QEMU) are cached in $(CACHE_DIR) by configure's
# choice.  "make V=1" shows the commands.

.DELETE_ON_ERROR:
.SUFFIXES:
.SECONDARY:

# config.mk is (re)made by ./configure, which also installs what is missing.
include config.mk
config.mk: configure
	./configure

O ?= build
B := $(abspath $(O))

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' $(1) $(2);
endif

CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror
ALL_CFLAGS := -std=gnu11 $(WARN) $(CFLAGS) $(EXTRA_CFLAGS)
LIBBPF_LIBS := $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf)

# Where "make install" puts things (GNU names; DESTDIR is prepended).
# libvirt looks for hooks in its own /etc, whatever our PREFIX.
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
LIBEXECDIR ?= $(PREFIX)/libexec
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
DOCDIR ?= $(DATADIR)/doc/pvlockinfo
SYSCONFDIR ?= /etc
LIBVIRT_HOOKDIR ?= $(SYSCONFDIR)/libvirt/hooks/qemu.d
SYSTEMD_UNITDIR ?= $(SYSCONFDIR)/systemd/system
PVLI_QEMU_INSTALLED := $(LIBEXECDIR)/pvlockinfo/qemu-system-x86_64

# ---- host tools -------------------------------------------------------------
HOST_TEST_TOOLS := $(B)/tests/bpfmap-pin $(B)/tests/cpuhog $(B)/tests/rundelay

$(B)/tests/rundelay: tests/helpers/rundelay.c tests/helpers/parse.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $<

$(B)/tests/cpuhog: tests/helpers/cpuhog.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $<

$(B)/tests/bpfmap-pin: tests/helpers/bpfmap-pin.c tests/helpers/pattern.h tests/helpers/parse.h include/pvli_abi.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBBPF_LIBS)

# ---- BPF: CO-RE, types from the running host kernel's BTF --------------------
# bpf/host/ holds what runs on the host (host_sched, loaded by pvlockd, and
# pvlockstat), bpf/guest/ what runs in the guest (pvlocktrace); objects and
# skeletons land in the same folders under $(B)/bpf.
BPF_CFLAGS := -g -O2 -Wall -Werror -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 \
	-I$(B)/bpf -Ibpf -Iinclude -I/usr/include/$(shell gcc -dumpmachine)

$(B)/bpf/vmlinux.h:
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)test -r /sys/kernel/btf/vmlinux || { echo "host kernel has no BTF (/sys/kernel/btf/vmlinux)"; exit 1; }
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c >$@

$(B)/bpf/%.bpf.o: bpf/%.bpf.c $(B)/bpf/vmlinux.h $(wildcard bpf/*.h bpf/*/*.h) $(wildcard include/*.h)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(B)/bpf/%.skel.h: $(B)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< >$@

# ---- user-space helpers of the BPF tools (pvlockstat, pvlocktrace) ----------
# One object for both: the static guest link takes it as the host one does.
TOOL_HELPERS := $(B)/host/lib/tool_helpers.o

$(TOOL_HELPERS): host/lib/tool_helpers.c host/lib/tool_helpers.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# ---- host daemon and CLI ------------------------------------------------------
HOST_TOOLS := $(B)/host/pvlockd $(B)/host/pvlockctl $(B)/host/pvlockstat $(B)/host/pvli-host-tsc
HOST_CFLAGS := $(ALL_CFLAGS) -Iinclude -Ibpf/host -I$(B)/bpf/host

PVLOCKD_SRCS := $(addprefix host/,pvlockd_main.c pvlockd.c pvlockd_adopt.c pvlockd_attach.c \
	pvlockd_bpf.c pvlockd_ctl.c pvlockd_fault.c pvlockd_log.c pvlockd_loop.c pvlockd_req.c \
	pvlockd_vm.c vm_meta.c qemu_proc.c qmp.c qmp_parse.c qmp_session.c)
PVLOCKD_HDRS := $(filter-out host/pvlockd_main.h,$(PVLOCKD_SRCS:.c=.h)) host/pvlockd_client.h \
	host/pvlockd_proto.h host/errbuf.h host/kernel_probe.h

$(B)/host/pvlockd: $(PVLOCKD_SRCS) $(PVLOCKD_HDRS) \
		$(B)/bpf/host/host_sched.skel.h include/pvli_abi.h bpf/host/host_sched.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(HOST_CFLAGS) -o $@ $(filter %.c,$^) $(LIBBPF_LIBS) -luring

PVLOCKSTAT_SRCS := $(addprefix host/,pvlockstat.c pvlockstat_prom.c prom_export.c vm_meta.c)
$(B)/host/pvlockstat: $(PVLOCKSTAT_SRCS) host/pvlockstat_prom.h host/prom_export.h host/errbuf.h \
		host/vm_meta.h host/pvlockd_proto.h host/kernel_probe.h bpf/host/pvlockstat.h \
		$(TOOL_HELPERS) $(B)/bpf/host/pvlockstat.skel.h include/pvli_abi.h bpf/host/host_sched.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(HOST_CFLAGS) -Ihost/lib -o $@ $(filter %.c %.o,$^) $(LIBBPF_LIBS)

# libvirt-xml names the installed QEMU and the firmware it is run with.
# The stamp changes with the path, so "make install PREFIX=..." rebuilds
# pvlockctl with the path it installs QEMU at.
INSTALL_PATHS := $(B)/install-paths
$(INSTALL_PATHS): FORCE
	@mkdir -p $(@D)
	@echo '$(PVLI_QEMU_INSTALLED)' | cmp -s - $@ || echo '$(PVLI_QEMU_INSTALLED)' >$@

PVLOCKCTL_SRCS := $(addprefix host/,pvlockctl.c pvlockctl_libvirt.c pvlockd_req.c vm_meta.c)
$(B)/host/pvlockctl: $(PVLOCKCTL_SRCS) host/pvlockctl_libvirt.h host/pvlockd_req.h host/vm_meta.h \
		host/pvlockd_proto.h include/pvli_abi.h bpf/host/host_sched.h config.mk $(INSTALL_PATHS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(HOST_CFLAGS) -DPVLI_QEMU_INSTALLED='"$(PVLI_QEMU_INSTALLED)"' \
		-DPVLI_FIRMWARE_DIRS='"$(QEMU_FIRMWARE_DIRS)"' -o $@ $(filter %.c,$^)

$(B)/host/pvli-host-tsc: host/pvli-host-tsc.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(HOST_CFLAGS) -o $@ $<

# Unit tests of pvlockd's pure parts, linked with only the host files they
# test: none of them may need BPF, io_uring or the daemon's state.
HOST_UNIT_TESTS := $(addprefix $(B)/tests/unit/,test_pvlockd_req test_qmp_parse test_qmp_session \
	test_vm_meta test_qemu_proc test_pvlockstat_prom)
$(B)/tests/unit/test_pvlockd_req: host/pvlockd_req.c host/vm_meta.c
$(B)/tests/unit/test_qmp_parse: host/qmp_parse.c
$(B)/tests/unit/test_qmp_session: host/qmp_session.c host/qmp_parse.c
$(B)/tests/unit/test_vm_meta: host/vm_meta.c
$(B)/tests/unit/test_pvlockstat_prom: host/pvlockstat_prom.c
$(B)/tests/unit/test_qemu_proc: host/qemu_proc.c

$(HOST_UNIT_TESTS): $(B)/tests/unit/%: tests/unit/%.c $(wildcard host/*.h) include/pvli_abi.h bpf/host/host_sched.h \
		bpf/host/pvlockstat.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(HOST_CFLAGS) -Ihost -o $@ $(filter %.c,$^) -lcmocka

# ---- guest tools: static, the image has no libc -----------------------------
GUEST_TOOLS := $(B)/guest/tools/pvli-bar guest/tools/pvlock-bench guest/tools/pvlock-sweep guest/tools/pvli-takeover guest/tools/pvli-workload $(B)/guest/tools/pvlocktrace \
	guest/tools/pvlock-usweep $(B)/guest/tools/schedview-cost $(B)/guest/tools/pvli-devcheck \
	$(B)/guest/tools/fentry-hold
# The harness's lock policies, one list for the guest tools and the host's benches.
GUEST_DATA := guest/tools/lock-policies guest/tools/sweep-order.sh
# libelf.a: see configure (the installed one may need elfutils' libeu).
LIBBPF_STATIC_LIBS := -l:libbpf.a $(LIBELF_STATIC) -lzstd -lz -pthread

# The guest's BPF is CO-RE too: types from the host's vmlinux.h, relocated
# against the guest kernel's BTF when pvlocktrace loads it there.
$(B)/guest/tools/pvlocktrace: guest/tools/pvlocktrace.c bpf/guest/pvlocktrace.h include/pvli_trace_ids.h \
		$(TOOL_HELPERS) $(B)/bpf/guest/pvlocktrace.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Ibpf/guest -Ihost/lib -Iinclude -I$(B)/bpf/guest -static -o $@ $(filter %.c %.o,$^) $(LIBBPF_STATIC_LIBS)

# The user-space view's mechanism, measured: the module's probe vs guest BPF.
$(B)/guest/tools/schedview-cost: guest/tools/schedview_cost.c tests/helpers/parse.h bpf/guest/schedview_cost.h $(B)/bpf/guest/schedview_cost.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Ibpf/guest -I$(B)/bpf/guest -static -o $@ $< $(LIBBPF_STATIC_LIBS)

$(B)/guest/tools/pvli-devcheck: tests/helpers/pvli-devcheck.c include/pvli_abi.h include/pvli_uapi.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -static -o $@ $<

# A test fixture: holds one kernel function's ftrace direct call with a
# BPF fentry program (tests/vm/takeover-fallback.sh).
$(B)/bpf/tests/fentry_hold.bpf.o: tests/helpers/fentry_hold.bpf.c $(B)/bpf/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(B)/guest/tools/fentry-hold: tests/helpers/fentry-hold.c $(B)/bpf/tests/fentry_hold.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -I$(B)/bpf/tests -static -o $@ $< $(LIBBPF_STATIC_LIBS)

$(B)/guest/tools/pvli-bar: tests/helpers/pvli-bar.c tests/helpers/pattern.h tests/helpers/parse.h include/pvli_abi.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -static -o $@ $<

# ---- libpvlock: user-space locks over /dev/pvlockinfo (guest/lib) -------------
# libpvlock.so.1 and libpvlock.a (the API in pvlock.h), libpvlock-preload.so
# (the LD_PRELOAD interposer of pthread's locks), pvlock.pc.  The guest
# image carries them; "make install-libpvlock" installs them elsewhere.
LIBPVLOCK_VERSION := 1.0
LIBPVLOCK_CORE := pvlock_channel pvlock_futex pvlock_queue pvlock_mutex pvlock_spin
LIBPVLOCK_OBJS := $(patsubst %,$(B)/lib/%.o,$(LIBPVLOCK_CORE))
LIBPVLOCK_PRELOAD_OBJS := $(LIBPVLOCK_OBJS) $(B)/lib/pvlock_cond.o $(B)/lib/pvlock_interpose.o
LIBPVLOCK_CFLAGS := $(ALL_CFLAGS) -fPIC -pthread -Iinclude
LIBPVLOCK := $(B)/lib/libpvlock.so.1 $(B)/lib/libpvlock.so $(B)/lib/libpvlock.a \
	$(B)/lib/libpvlock-preload.so $(B)/lib/pvlock.pc

$(B)/lib/%.o: guest/lib/%.c $(wildcard guest/lib/*.h) include/pvli_abi.h include/pvli_uapi.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LIBPVLOCK_CFLAGS) -c -o $@ $<

$(B)/lib/libpvlock.so.1: $(LIBPVLOCK_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LIBPVLOCK_CFLAGS) -shared -Wl,-soname,libpvlock.so.1 -Wl,-z,defs -o $@ $^

$(B)/lib/libpvlock.so: $(B)/lib/libpvlock.so.1
	$(Q)ln -sf libpvlock.so.1 $@

$(B)/lib/libpvlock.a: $(LIBPVLOCK_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(B)/lib/libpvlock-preload.so: $(LIBPVLOCK_PRELOAD_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LIBPVLOCK_CFLAGS) -shared -Wl,-z,defs -o $@ $^

PREFIX ?= /usr/local
$(B)/lib/pvlock.pc: guest/lib/pvlock.pc.in Makefile
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(LIBPVLOCK_VERSION)|' $< >$@

install-libpvlock: $(LIBPVLOCK)
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	install -m 0755 $(B)/lib/libpvlock.so.1 $(B)/lib/libpvlock-preload.so $(DESTDIR)$(PREFIX)/lib/
	ln -sf libpvlock.so.1 $(DESTDIR)$(PREFIX)/lib/libpvlock.so
	install -m 0644 $(B)/lib/libpvlock.a $(DESTDIR)$(PREFIX)/lib/
	install -m 0644 $(B)/lib/pvlock.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	install -m 0644 guest/lib/pvlock.h $(DESTDIR)$(PREFIX)/include/

# Its unit tests link the archive (and the interposer's objects) directly.
PVLOCK_UNIT_TESTS := $(patsubst tests/unit/%.c,$(B)/tests/unit/%,$(wildcard tests/unit/test_pvlock_*.c))
$(PVLOCK_UNIT_TESTS): $(B)/tests/unit/%: tests/unit/%.c $(wildcard guest/lib/*.h tests/unit/pvlock_*.h) $(LIBPVLOCK_PRELOAD_OBJS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -pthread -Iguest/lib -Iinclude -o $@ $< $(LIBPVLOCK_PRELOAD_OBJS) -lcmocka

# What LD_PRELOAD reaches (test_pvlock_preload): one unmodified program,
# dynamic and static.
PVLOCK_REACH := $(B)/tests/pvlock-reach $(B)/tests/pvlock-reach-static
$(B)/tests/pvlock-reach: tests/helpers/pvlock-reach.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -pthread -o $@ $<
$(B)/tests/pvlock-reach-static: tests/helpers/pvlock-reach.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -pthread -static -o $@ $<
$(B)/tests/unit/test_pvlock_preload: | $(PVLOCK_REACH) $(B)/lib/libpvlock-preload.so

# libpvlock's guest tools: unmodified pthread programs (the variants come in
# through LD_PRELOAD), dynamic like the Debian workloads beside them.
PVLOCK_GUEST_TOOLS := $(B)/guest/tools/pvlock-mutexbench $(B)/guest/tools/pvlock-stress
$(PVLOCK_GUEST_TOOLS): $(B)/guest/tools/%: guest/tools/%.c guest/lib/pvlock.h tests/helpers/parse.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -pthread -o $@ $<

# ---- lock core, user-space build (the module builds the same files) ----------
# Policy hooks share one signature and not every hook needs every argument.
LOCK_CORE := shfl_lock shfl_shuffle shfl_policy pvspin_lock mcs_lock
LOCK_OBJS := $(patsubst %,$(B)/lock/%.o,$(LOCK_CORE) shim_user)
LOCK_CFLAGS := $(ALL_CFLAGS) -Wno-unused-parameter -Iguest/lock -Iinclude

$(B)/lock/%.o: guest/lock/%.c $(wildcard guest/lock/*.h) include/pvli_trace_ids.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LOCK_CFLAGS) -c -o $@ $<

# ---- guest modules, built out of tree ----------------------------------------
# Kbuild writes its output next to the sources, so each module directory
# is built as a tree of symlinks under $(B).
# Our O= means our build dir; passed down, Kbuild would take it for its own.
MAKEOVERRIDES := $(filter-out O=%,$(MAKEOVERRIDES))
# $(call kbuild,SOURCES,TARGETS,MAKE-ARGS): one Kbuild run over the
# directory of the first target; fails on any compiler warning.  Its
# output goes to build.log, shown on failure (and with V=1, which also
# makes Kbuild list its commands).
define kbuild
	$(call msg,KBUILD,$(firstword $(2)))
	$(Q)mkdir -p $(dir $(firstword $(2)))
	$(Q)for f in $(1); do ln -sf $(abspath $$f) $(dir $(firstword $(2))); done
	$(Q)+$(MAKE) -C $(KDIR) M=$(dir $(firstword $(2))) PVLI_SRC=$(abspath .) $(3) modules \
		$(if $(filter 1,$(V)),V=1,-s) >$(dir $(firstword $(2)))build.log 2>&1 || \
		{ cat $(dir $(firstword $(2)))build.log; exit 1; }
	$(if $(filter 1,$(V)),cat $(dir $(firstword $(2)))build.log)
	$(Q)! grep -E 'warning:' $(dir $(firstword $(2)))build.log || { echo "module build has warnings"; exit 1; }
	$(Q)touch $(2)	# Kbuild keeps unchanged ones old
endef

# The driver (guest/module) with the lock core linked in, and the
# takeover's livepatch.  One Kbuild run per directory makes its modules
# (grouped targets: make re-reads each).
MODULE_SRCS := $(wildcard guest/module/*.c guest/module/*.S guest/module/*.h) guest/module/Kbuild \
	$(patsubst %,guest/lock/%.c,$(LOCK_CORE) shim_kernel shim_kernel_nmi shim_kernel_nmi_arm) \
	$(filter-out guest/lock/shim_user.h,$(wildcard guest/lock/*.h))
MODULE := $(B)/guest/module/pvlockinfo.ko
TAKEOVER_MODULE := $(B)/guest/module/pvlockinfo_takeover.ko

$(MODULE) $(TAKEOVER_MODULE) &: $(MODULE_SRCS) $(wildcard include/*.h) config.mk
	$(call kbuild,$(MODULE_SRCS),$(MODULE) $(TAKEOVER_MODULE))

# The tests' modules (guest/test): pvlockinfo_test.ko, which links against
# the driver's exports, the livepatch fixture, the kick storm
# (tests/vm/kick-storm.sh), which kicks through the driver's kick, and the
# kick of a waiter on a polling idle CPU (tests/vm/idle-kick.sh), and the
# NMI kick of a halt with interrupts off (tests/vm/nmi-kick.sh).
TEST_SRCS := $(wildcard guest/test/*.c guest/test/*.h) guest/test/Kbuild
TEST_MODULE := $(B)/guest/test/pvlockinfo_test.ko
FIXTURE_MODULE := $(B)/guest/test/pvlockinfo_klp_fixture.ko
KICK_STORM_MODULE := $(B)/guest/test/pvli_kick_storm.ko
IDLE_KICK_MODULE := $(B)/guest/test/pvli_idle_kick.ko
NMI_KICK_MODULE := $(B)/guest/test/pvli_nmi_kick.ko
TEST_MODULES := $(TEST_MODULE) $(FIXTURE_MODULE) $(KICK_STORM_MODULE) $(IDLE_KICK_MODULE) \
	$(NMI_KICK_MODULE)
GUEST_MODULES := $(MODULE) $(TAKEOVER_MODULE) $(TEST_MODULES)

$(TEST_MODULES) &: $(TEST_SRCS) $(MODULE) $(wildcard guest/module/*.h guest/lock/*.h include/*.h) config.mk
	$(call kbuild,$(TEST_SRCS),$(TEST_MODULES),KBUILD_EXTRA_SYMBOLS=$(B)/guest/module/Module.symvers)

# ---- guest image ------------------------------------------------------------
INITRAMFS := $(B)/guest/initramfs.cpio.gz
# Debian's own workloads: the takeover bench's (rt-tests) and libpvlock's
# (sysbench), and libpvlock's own tools.
GUEST_DYN_TOOLS := /usr/bin/hackbench /usr/bin/cyclictest /usr/bin/sysbench $(PVLOCK_GUEST_TOOLS)
# The benches' image: all of the above and the takeover benches' other
# workloads (pvli-workload), stress-ng and linux-perf's perf bench.  Their
# libraries make it 30 MB instead of 13 (compressed) and each boot a
# second longer under TCG, so only the benches that run them boot it
# (bench/takeover.sh, the main job's takeover part).  /usr/bin/perf may be
# linux-base's wrapper script, which runs perf_MAJOR.MINOR for the running
# kernel: the image takes the ELF itself, /usr/bin/perf_* where there is
# one (mkinitramfs links perf to it).
WORKLOAD_INITRAMFS := $(B)/guest/initramfs-workloads.cpio.gz
PERF_BIN := $(firstword $(wildcard /usr/bin/perf_6.*) /usr/bin/perf)
WORKLOAD_DYN_TOOLS := /usr/bin/stress-ng $(PERF_BIN)
# Shared libraries for /usr/lib: libpvlock and its interposer.
GUEST_LIBS := $(B)/lib/libpvlock.so.1 $(B)/lib/libpvlock-preload.so

IMAGE_DEPS := Makefile guest/initramfs/mkinitramfs.sh guest/initramfs/init $(GUEST_MODULES) \
	$(GUEST_TOOLS) $(GUEST_DYN_TOOLS) $(GUEST_LIBS) $(GUEST_DATA)
# mkimage EXTRA-DYN-TOOLS: the image's recipe.
mkimage = guest/initramfs/mkinitramfs.sh --out=$@ --kernel-release=$(KERNEL_RELEASE) \
		$(addprefix --module=,$(GUEST_MODULES)) $(addprefix --tool=,$(GUEST_TOOLS)) \
		$(addprefix --dyn-tool=,$(GUEST_DYN_TOOLS) $(1)) $(addprefix --lib=,$(GUEST_LIBS)) \
		$(addprefix --data=,$(GUEST_DATA))

$(INITRAMFS): $(IMAGE_DEPS)
	$(call msg,CPIO,$@)
	$(Q)$(call mkimage,)

$(WORKLOAD_INITRAMFS): $(IMAGE_DEPS) $(WORKLOAD_DYN_TOOLS)
	$(call msg,CPIO,$@)
	$(Q)$(call mkimage,$(WORKLOAD_DYN_TOOLS))

# ---- patched QEMU (cached outside the tree, keyed on tarball + patches) -------
QEMU_STAMP := $(B)/qemu-path

$(QEMU_STAMP): FORCE
	$(Q)mkdir -p $(@D)
	$(Q)qemu-patches/build-qemu.sh --cache=$(CACHE_DIR) >$@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

# ---- what pvlock-qemu reads to find the image -------------------------------
VM_ENV := $(B)/vm.env

$(VM_ENV): $(QEMU_STAMP) config.mk
	$(call msg,GEN,$@)
	$(Q){ echo "PVLI_QEMU=$$(cat $(QEMU_STAMP))"; \
	      echo "PVLI_KERNEL=$(VMLINUZ)"; \
	      echo "PVLI_INITRAMFS=$(INITRAMFS)"; \
	      echo "PVLI_ACCEL_DEFAULT=$(ACCEL)"; \
	      echo "PVLI_FIRMWARE_DIRS='$(QEMU_FIRMWARE_DIRS)'"; } >$@

# ---- unit tests (cmocka) ----------------------------------------------------
UNIT_TESTS := $(patsubst tests/unit/%.c,$(B)/tests/unit/%,$(wildcard tests/unit/test_*.c))

$(B)/tests/unit/%: tests/unit/%.c $(wildcard tests/helpers/*.h include/*.h guest/lock/*.h bpf/*.h bpf/*/*.h) $(LOCK_OBJS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Iguest/lock -o $@ $< $(LOCK_OBJS) -lcmocka -lpthread

# The benches' report is Python (bench/report/); its unit tests run from
# the source tree, linked into the build where tests/run.sh finds them.
PY_UNIT_TESTS := $(patsubst tests/unit/%.py,$(B)/tests/unit/%,$(wildcard tests/unit/test_*.py))

$(PY_UNIT_TESTS): $(B)/tests/unit/%: tests/unit/%.py
	$(call msg,LN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)ln -sf $(abspath $<) $@

# The adaptive entry's rule: plain C, no kernel needed (pvli_tk_adapt_rule.h).
$(B)/tests/unit/test_tk_adapt: tests/unit/test_tk_adapt.c guest/module/pvli_tk_adapt_rule.c \
		guest/module/pvli_tk_adapt_rule.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Iguest/module -o $@ $(filter %.c,$^) -lcmocka

# The takeover's wait split: plain C, no kernel needed (pvli_tk_split.h).
$(B)/tests/unit/test_tk_split: tests/unit/test_tk_split.c guest/module/pvli_tk_split.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Iguest/module -o $@ $< -lcmocka -lpthread

# The takeover's refusal list: plain C, no kernel needed (pvli_tk_refuse.h).
$(B)/tests/unit/test_tk_refuse: tests/unit/test_tk_refuse.c guest/module/pvli_tk_refuse.c \
		guest/module/pvli_tk_refuse.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Iguest/module -o $@ $(filter %.c,$^) -lcmocka

# ---- top-level targets --------------------------------------------------------
all: $(HOST_TOOLS) $(HOST_TEST_TOOLS) $(LIBPVLOCK) $(INITRAMFS) $(WORKLOAD_INITRAMFS) $(VM_ENV) $(UNIT_TESTS) $(PY_UNIT_TESTS)

qemu: $(QEMU_STAMP)

image: $(INITRAMFS)

module: $(GUEST_MODULES)

check: all
	tests/run.sh --build=$(B) --suite=check

check-unit: $(UNIT_TESTS) $(PY_UNIT_TESTS)
	tests/run.sh --build=$(B) --suite=unit

check-long: all
	tests/run.sh --build=$(B) --suite=long

# ---- install -------------------------------------------------------------------
# What an operator's host needs: the daemon, its unit and CLIs, the libvirt
# hook, the man pages, the patched QEMU (libvirt domains name it as their
# <emulator>) and the example guest of the README's domain XML.
MAN8 := host/man/pvlockd.8 host/man/pvlockctl.8 host/man/pvlockstat.8
MAN1 := host/man/pvlock-qemu.1
INSTALL ?= install
# The install paths the shipped files name (the unit's ExecStart, the hook's pvlockctl).
INSTALL_SED := sed -e 's|/usr/local/sbin/|$(SBINDIR)/|g' -e 's|@SBINDIR@|$(SBINDIR)|g' \
	-e 's|/usr/local/share/doc/pvlockinfo|$(DOCDIR)|g'
GUEST_DIR := $(DATADIR)/pvlockinfo/guest

install: $(B)/host/pvlockd $(B)/host/pvlockctl $(B)/host/pvlockstat $(QEMU_STAMP) $(INITRAMFS)
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(SYSTEMD_UNITDIR) $(DESTDIR)$(LIBVIRT_HOOKDIR) \
		$(DESTDIR)$(LIBEXECDIR)/pvlockinfo $(DESTDIR)$(GUEST_DIR) $(DESTDIR)$(DOCDIR)/examples
	$(Q)$(INSTALL) -m 0755 $(B)/host/pvlockd $(B)/host/pvlockctl $(B)/host/pvlockstat $(DESTDIR)$(SBINDIR)/
	$(Q)$(INSTALL_SED) host/pvlockd.service >$(DESTDIR)$(SYSTEMD_UNITDIR)/pvlockd.service
	$(Q)chmod 0644 $(DESTDIR)$(SYSTEMD_UNITDIR)/pvlockd.service
	$(Q)$(INSTALL_SED) host/libvirt/pvlockinfo-hook >$(DESTDIR)$(LIBVIRT_HOOKDIR)/pvlockinfo
	$(Q)chmod 0755 $(DESTDIR)$(LIBVIRT_HOOKDIR)/pvlockinfo
	$(Q)$(INSTALL) -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
	$(Q)$(INSTALL) -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	$(Q)$(INSTALL) -s -m 0755 $$(cat $(QEMU_STAMP)) $(DESTDIR)$(PVLI_QEMU_INSTALLED)
	$(Q)$(INSTALL) -m 0644 $(VMLINUZ) $(DESTDIR)$(GUEST_DIR)/vmlinuz
	$(Q)$(INSTALL) -m 0644 $(INITRAMFS) $(DESTDIR)$(GUEST_DIR)/initramfs.cpio.gz
	$(Q)$(INSTALL) -m 0644 README.md $(DESTDIR)$(DOCDIR)/
	$(Q)$(INSTALL) -m 0644 host/libvirt/example-domain.xml $(DESTDIR)$(DOCDIR)/examples/
	$(Q)$(INSTALL) -m 0644 host/grafana/pvlockinfo.json $(DESTDIR)$(DOCDIR)/examples/grafana-dashboard.json

uninstall:
	rm -f $(addprefix $(DESTDIR)$(SBINDIR)/,pvlockd pvlockctl pvlockstat) \
		$(DESTDIR)$(SYSTEMD_UNITDIR)/pvlockd.service $(DESTDIR)$(LIBVIRT_HOOKDIR)/pvlockinfo \
		$(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(MAN8))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN1)))
	rm -rf $(DESTDIR)$(LIBEXECDIR)/pvlockinfo $(DESTDIR)$(DATADIR)/pvlockinfo $(DESTDIR)$(DOCDIR)

clean:
	rm -rf $(B)

distclean: clean
	rm -f config.mk config.log

help:
	@echo "Targets:"
	@echo "  all         host tools, guest module and image, patched QEMU (default)"
	@echo "  check       unit and VM integration tests (under 30 minutes cold)"
	@echo "  check-unit  unit tests only"
	@echo "  check-long  torture and soak tests"
	@echo "  install     pvlockd and its unit, pvlockctl, pvlockstat, the libvirt hook,"
	@echo "              man pages, the patched QEMU and the example guest"
	@echo "              (PREFIX=$(PREFIX), DESTDIR; uninstall removes them)"
	@echo "  qemu        build (or find in the cache) the patched QEMU"
	@echo "  image       guest initramfs"
	@echo "  module      the guest modules: pvlockinfo.ko and its takeover livepatch,"
	@echo "              pvlockinfo_test.ko and the tests' livepatch fixture"
	@echo "  install-libpvlock  libpvlock, its interposer, header and pkg-config file"
	@echo "              under PREFIX (default /usr/local), DESTDIR honoured"
	@echo "  clean       remove $(O)/; distclean also config.mk"
	@echo "Variables: V=1 (verbose), O=DIR (build dir), CC, CFLAGS, EXTRA_CFLAGS"

.PHONY: all qemu image module check check-unit check-long install uninstall clean distclean help install-libpvlock FORCE
.DEFAULT_GOAL := all
