// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockinfo debugfs: /sys/kernel/debug/pvlockinfo/
 *   status  the page: available or why not, ABI, geometry, heartbeat, clock
 *   vcpus   one line per vCPU: the host half as this guest reads it
 *
 * The companion test module (pvlockinfo_test.ko) adds its command files
 * to the same directory (pvli_debugfs_dir()).
 */
#include <linux/debugfs.h>
#include <linux/export.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "pvlockinfo.h"

static struct dentry *pvli_debugfs_root;

/**
 * pvli_debugfs_dir - /sys/kernel/debug/pvlockinfo, for other modules' files
 *
 * Valid while pvlockinfo.ko is loaded, which a module that calls this
 * ensures by depending on it.  Files created there must be removed by
 * their module when it unloads.
 */
struct dentry *pvli_debugfs_dir(void)
{
	return pvli_debugfs_root;
}
EXPORT_SYMBOL_GPL(pvli_debugfs_dir);

static int status_show(struct seq_file *m, void *v)
{
	char *buf = kmalloc(1024, GFP_KERNEL);

	if (!buf)
		return -ENOMEM;
	pvli_page_status(buf, 1024);
	seq_puts(m, buf);
	pvli_takeover_status(buf, 1024);
	seq_puts(m, buf);
	pvli_sched_view_status(buf, 1024);
	seq_puts(m, buf);
	kfree(buf);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(status);

static const char *state_name(u32 s)
{
	static const char * const names[] = { "unknown", "running", "preempted", "idle" };

	return s <= PVLI_STATE_MAX ? names[s] : "bad";
}

static int vcpus_show(struct seq_file *m, void *v)
{
	int cpu;

	seq_printf(m, "%-4s %-10s %10s %10s %12s %12s %6s %6s %12s %4s %6s\n", "cpu", "state",
		   "seq", "preempts", "steal_ms", "run_ms", "lhp", "lwp", "quota_us", "pcpu",
		   "kdepth");
	for_each_possible_cpu(cpu) {
		struct pvli_vcpu_host h;
		struct pvli_vcpu_guest g;
		u64 q;

		if (pvli_vcpu_snapshot(cpu, &h)) {
			seq_printf(m, "%-4d %-10s\n", cpu, "unknown");
			continue;
		}
		q = pvli_vcpu_quota_ns(cpu);
		seq_printf(m, "%-4d %-10s %10u %10u %12llu %12llu %6u %6u ", cpu,
			   state_name(h.state), h.seq, h.preempt_count,
			   h.steal_ns / NSEC_PER_MSEC, h.run_ns / NSEC_PER_MSEC,
			   h.lhp_count, h.lwp_count);
		if (q == PVLI_QUOTA_UNKNOWN)
			seq_printf(m, "%12s", "-");
		else
			seq_printf(m, "%12llu", q / NSEC_PER_USEC);
		seq_printf(m, " %4u", h.pcpu);
		/* The kernel spinlocks it holds, as published (takeover mode). */
		if (pvli_vcpu_guest_snapshot(cpu, &g) || !(g.flags & PVLI_GUEST_KERNEL_LOCKS))
			seq_printf(m, " %6s\n", "-");
		else
			seq_printf(m, " %6u\n", g.kernel_hold_depth);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vcpus);

int pvli_debugfs_init(void)
{
	pvli_debugfs_root = debugfs_create_dir("pvlockinfo", NULL);
	debugfs_create_file("status", 0444, pvli_debugfs_root, NULL, &status_fops);
	debugfs_create_file("vcpus", 0444, pvli_debugfs_root, NULL, &vcpus_fops);
	return 0;
}

void pvli_debugfs_exit(void)
{
	debugfs_remove_recursive(pvli_debugfs_root);
}
