// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockd's BPF side (pvlockd_bpf.h): load host_sched.bpf.c once, pin
 * its maps and links, reuse them after a restart, and remove them all on
 * --teardown.
 *
 * The maps are pinned at PVLOCKD_PIN_MAPS and reused as they are, since
 * the running VMs' state lives in them; each link is pinned at
 * PVLOCKD_PIN_LINKS/TRACEPOINT and, once pinned, left attached, so the
 * BPF program keeps writing the pages while no pvlockd runs.  A new
 * pvlockd whose program differs from the pinned link's (an upgrade)
 * replaces the link.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>

#include "host_sched.skel.h"
#include "kernel_probe.h"
#include "pvlockd_bpf.h"
#include "pvlockd_log.h"
#include "pvlockd_proto.h"

static bool verbose;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

void pvlockd_bpf_set_print(bool v)
{
	verbose = v;
	libbpf_set_print(libbpf_print);
}

int pvlockd_bpf_mount(void)
{
	struct statfs st;
	int err;

	if (statfs("/sys/fs/bpf", &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
		err = -errno;
		log_err("bpffs is not mounted at /sys/fs/bpf and mounting it failed: %s",
			strerror(-err));
		return err;
	}
	log_info("mounted bpffs at /sys/fs/bpf");
	return 0;
}

/* A tracepoint and its two programs: tp_btf, and raw_tp for kernels without BTF. */
struct prog_link {
	const char *name;
	struct bpf_program *btf, *raw;
};

/* sched_switch, sched_wakeup, sched_process_exit, the repair, the tick. */
#define NR_LINKS 5

/*
 * The tag (hash of the instructions, map references left out) of the
 * program the link pinned at @path runs; false if it cannot be read.
 */
static bool pinned_link_tag(const char *path, __u8 tag[BPF_TAG_SIZE])
{
	struct bpf_link_info link = {};
	struct bpf_prog_info prog = {};
	__u32 len = sizeof(link);
	int lfd, pfd;
	bool ok = false;

	lfd = bpf_obj_get(path);
	if (lfd < 0)
		return false;
	if (!bpf_link_get_info_by_fd(lfd, &link, &len)) {
		pfd = bpf_prog_get_fd_by_id(link.prog_id);
		len = sizeof(prog);
		if (pfd >= 0 && !bpf_prog_get_info_by_fd(pfd, &prog, &len)) {
			memcpy(tag, prog.tag, BPF_TAG_SIZE);
			ok = true;
		}
		if (pfd >= 0)
			close(pfd);
	}
	close(lfd);
	return ok;
}

/*
 * Make the link pinned at @path run @prog: keep a pinned link that runs
 * it already; else attach @prog and pin the new link, over the old pin
 * if there is one (rename(2) replaces it in one step, and the old link,
 * whose last reference was that pin, detaches).
 */
static int attach_pinned(const char *name, struct bpf_program *prog, const char *path,
			 bool btf)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	__u8 old[BPF_TAG_SIZE];
	struct bpf_link *link;
	char tmp[300];
	bool pinned = access(path, F_OK) == 0;
	int err;

	if (pinned && pinned_link_tag(path, old) &&
	    !bpf_prog_get_info_by_fd(bpf_program__fd(prog), &info, &len) &&
	    !memcmp(old, info.tag, BPF_TAG_SIZE)) {
		log_info("%s: keeping the attached program pinned at %s", name, path);
		return 0;
	}
	link = bpf_program__attach(prog);
	if (!link) {
		err = -errno;
		log_err("cannot attach to %s: %s", name, strerror(-err));
		return err;
	}
	/* bpffs refuses names with a dot (EPERM): no "NAME.new" here. */
	snprintf(tmp, sizeof(tmp), "%s_new", path);
	unlink(tmp);
	err = bpf_link__pin(link, pinned ? tmp : path);
	bpf_link__destroy(link);	/* the pin keeps it attached */
	if (!err && pinned && rename(tmp, path))
		err = -errno;
	if (err) {
		log_err("cannot pin the %s link at %s: %s", name, path, strerror(-err));
		unlink(tmp);
		return err;
	}
	if (pinned)
		log_warn("%s: the pinned program was not this pvlockd's; replaced it", name);
	else
		log_info("attached to %s (%s)", name, btf ? "tp_btf" : "raw_tp");
	return 0;
}

int pvlockd_bpf_load(struct host_sched_bpf **out, struct pvlockd_maps *maps)
{
	bool btf = access("/sys/kernel/btf/vmlinux", R_OK) == 0;
	bool exit_tp = btf && have_sched_exit_tp();
	struct host_sched_bpf *skel;
	struct prog_link links[NR_LINKS];
	char path[256];
	int err;

	mkdir(PVLOCKD_PIN_ROOT, 0700);
	mkdir(PVLOCKD_PIN_MAPS, 0700);
	mkdir(PVLOCKD_PIN_LINKS, 0700);
	mkdir(PVLOCKD_PIN_VMS, 0755);

	skel = host_sched_bpf__open();
	if (!skel) {
		err = -errno;
		log_err("cannot open the BPF object: %s", strerror(-err));
		return err;
	}
	links[0] = (struct prog_link){ "sched_switch", skel->progs.pvli_switch_btf,
				       skel->progs.pvli_switch_raw };
	links[1] = (struct prog_link){ "sched_wakeup", skel->progs.pvli_wakeup_btf,
				       skel->progs.pvli_wakeup_raw };
	links[2] = (struct prog_link){ "sched_process_exit", skel->progs.pvli_exit_btf,
				       skel->progs.pvli_exit_raw };
	/*
	 * The repair of switch-ins the kernel does not report (see
	 * host_sched.bpf.c): at the end of every __schedule() where the
	 * kernel has that tracepoint, else at every runtime update.
	 */
	if (exit_tp)
		links[3] = (struct prog_link){ "sched_exit_tp", skel->progs.pvli_sched_exit_btf,
					       skel->progs.pvli_sched_exit_raw };
	else
		links[3] = (struct prog_link){ "sched_stat_runtime", skel->progs.pvli_runtime_btf,
					       skel->progs.pvli_runtime_raw };
	/* The host's tick, to which run quotas are rounded (host_sched.bpf.c). */
	links[4] = (struct prog_link){ "hrtimer_expire_entry", skel->progs.pvli_tick_btf,
				       skel->progs.pvli_tick_raw };
	bpf_program__set_autoload(skel->progs.pvli_sched_exit_btf, false);
	bpf_program__set_autoload(skel->progs.pvli_sched_exit_raw, false);
	bpf_program__set_autoload(skel->progs.pvli_runtime_btf, false);
	bpf_program__set_autoload(skel->progs.pvli_runtime_raw, false);
	/* tp_btf needs kernel BTF; raw_tp works without it. */
	for (int i = 0; i < NR_LINKS; i++) {
		bpf_program__set_autoload(links[i].btf, btf);
		bpf_program__set_autoload(links[i].raw, !btf);
	}
	/* Pinned maps are reused as they are: the running VMs' state lives there. */
	bpf_map__set_pin_path(skel->maps.pages, PVLOCKD_PIN_MAPS "/pages");
	bpf_map__set_pin_path(skel->maps.vcpus, PVLOCKD_PIN_MAPS "/vcpus");
	bpf_map__set_pin_path(skel->maps.counters, PVLOCKD_PIN_MAPS "/counters");
	bpf_map__set_pin_path(skel->maps.vm_opts, PVLOCKD_PIN_MAPS "/vm_opts");

	err = host_sched_bpf__load(skel);
	if (err) {
		log_err("cannot load the BPF programs: %s%s", strerror(-err),
			err == -EPERM ? " (pvlockd must run as root)" : "");
		goto cleanup;
	}

	for (int i = 0; i < NR_LINKS; i++) {
		struct bpf_program *prog = btf ? links[i].btf : links[i].raw;

		snprintf(path, sizeof(path), PVLOCKD_PIN_LINKS "/%s", links[i].name);
		err = attach_pinned(links[i].name, prog, path, btf);
		if (err)
			goto cleanup;
	}
	maps->pages = bpf_map__fd(skel->maps.pages);
	maps->vcpus = bpf_map__fd(skel->maps.vcpus);
	maps->counters = bpf_map__fd(skel->maps.counters);
	maps->vm_opts = bpf_map__fd(skel->maps.vm_opts);
	*out = skel;
	return 0;

cleanup:
	host_sched_bpf__destroy(skel);
	return err;
}

void pvlockd_bpf_unload(struct host_sched_bpf *skel)
{
	host_sched_bpf__destroy(skel);
}

static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR)
			remove_tree(path);
		else
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* The links go first, so nothing writes while the pins vanish. */
int pvlockd_bpf_teardown(void)
{
	remove_tree(PVLOCKD_PIN_LINKS);
	remove_tree(PVLOCKD_PIN_ROOT);
	remove_tree(PVLOCKD_META_DIR);
	log_info("detached the BPF programs and removed %s", PVLOCKD_PIN_ROOT);
	return 0;
}
