// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockinfo self-test of the channel, driven through debugfs:
 *
 *   echo N > /sys/kernel/debug/pvlockinfo/selftest_own
 *   cat /sys/kernel/debug/pvlockinfo/selftest_own
 *
 * On every online CPU a bound kthread reads its own vCPU record N times.
 * A vCPU that is executing guest code is on a pCPU, so every consistent
 * read of its own record must say RUNNING: any other state is a violation
 * (a torn record, a stale page, or a host that published a transition
 * late).  The threads also count how often the record changed under them
 * (the vCPU went off-CPU in between) and report the page's preemption
 * counter at the end, which the host test compares with the counts the
 * BPF program kept on its side.
 */
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/debugfs.h>
#include <linux/kthread.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "pvlockinfo.h"
#include "pvli_test.h"

struct own_result {
	u64 reads;
	u64 violations;		/* own record not RUNNING while running */
	u64 seen[PVLI_STATE_MAX + 1];	/* violations by the state seen */
	u64 failed;		/* snapshots that did not succeed */
	u64 changes;		/* reads where seq moved since the previous one */
	u32 preempt_count;	/* page counter at the end */
	u32 seq;
	u64 ns;
};

struct own_run {
	u64 reads;
	struct own_result *res;		/* per CPU */
	atomic_t left;
	struct completion done;
};

static DEFINE_MUTEX(selftest_lock);
static struct own_result *last_res;
static u64 last_reads;

static int own_thread(void *arg)
{
	struct own_run *run = arg;
	struct own_result *r = &run->res[smp_processor_id()];
	u32 prev_seq = 0;
	u64 start = ktime_get_ns();
	struct pvli_vcpu_host h;

	for (u64 i = 0; i < run->reads; i++) {
		int cpu;

		/* Stay on this CPU for the read: "own" must mean own. */
		preempt_disable();
		cpu = smp_processor_id();
		if (pvli_vcpu_snapshot(cpu, &h)) {
			r->failed++;
		} else {
			if (h.state != PVLI_STATE_RUNNING) {
				r->violations++;
				r->seen[h.state]++;
			}
			if (i && h.seq != prev_seq)
				r->changes++;
			prev_seq = h.seq;
		}
		preempt_enable();
		r->reads++;
		if (!(i & 0xffff))
			cond_resched();
	}
	r->ns = ktime_get_ns() - start;
	if (!pvli_vcpu_snapshot(smp_processor_id(), &h)) {
		r->preempt_count = h.preempt_count;
		r->seq = h.seq;
	}
	if (atomic_dec_and_test(&run->left))
		complete(&run->done);
	return 0;
}

static ssize_t own_write(struct file *f, const char __user *ubuf, size_t len, loff_t *off)
{
	struct own_run run = {};
	u64 reads;
	int cpu, ret;

	ret = kstrtou64_from_user(ubuf, len, 0, &reads);
	if (ret)
		return ret;
	if (!reads || reads > 1000000000ULL)
		return -EINVAL;
	if (!pvli_available())
		return -ENODEV;

	mutex_lock(&selftest_lock);
	run.reads = reads;
	run.res = kcalloc(nr_cpu_ids, sizeof(*run.res), GFP_KERNEL);
	if (!run.res) {
		mutex_unlock(&selftest_lock);
		return -ENOMEM;
	}
	init_completion(&run.done);
	cpus_read_lock();
	atomic_set(&run.left, num_online_cpus());
	for_each_online_cpu(cpu) {
		struct task_struct *t = kthread_create_on_cpu(own_thread, &run, cpu,
							      "pvli_own/%u");

		if (IS_ERR(t)) {
			/* count it as done so the wait below still ends */
			if (atomic_dec_and_test(&run.left))
				complete(&run.done);
			continue;
		}
		wake_up_process(t);
	}
	cpus_read_unlock();
	wait_for_completion(&run.done);

	kfree(last_res);
	last_res = run.res;
	last_reads = reads;
	mutex_unlock(&selftest_lock);
	return len;
}

static int own_show(struct seq_file *m, void *v)
{
	int cpu;

	mutex_lock(&selftest_lock);
	if (!last_res) {
		seq_puts(m, "no run yet: echo READS > selftest_own\n");
		goto out;
	}
	seq_printf(m, "%-4s %12s %10s %8s %10s %10s %10s %8s %s\n", "cpu", "reads",
		   "violations", "failed", "changes", "preempts", "seq", "Mread/s",
		   "seen(unknown/preempted/idle)");
	for_each_possible_cpu(cpu) {
		struct own_result *r = &last_res[cpu];

		if (!r->reads)
			continue;
		seq_printf(m, "%-4d %12llu %10llu %8llu %10llu %10u %10u %8llu %llu/%llu/%llu\n",
			   cpu, r->reads, r->violations, r->failed, r->changes, r->preempt_count,
			   r->seq, r->ns ? r->reads * 1000 / r->ns : 0,
			   r->seen[PVLI_STATE_UNKNOWN], r->seen[PVLI_STATE_PREEMPTED],
			   r->seen[PVLI_STATE_IDLE]);
	}
out:
	mutex_unlock(&selftest_lock);
	return 0;
}

static int own_open(struct inode *inode, struct file *file)
{
	return single_open(file, own_show, NULL);
}

static const struct file_operations own_fops = {
	.owner = THIS_MODULE,
	.open = own_open,
	.read = seq_read,
	.write = own_write,
	.llseek = seq_lseek,
	.release = single_release,
};

int pvli_selftest_init(void)
{
	debugfs_create_file("selftest_own", 0600, pvli_debugfs_dir(), NULL, &own_fops);
	return 0;
}

void pvli_selftest_exit(void)
{
	kfree(last_res);
	last_res = NULL;
}
