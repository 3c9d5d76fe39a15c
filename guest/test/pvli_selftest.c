// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockinfo self-test of the channel, driven through debugfs:
 *
 *   echo N > /sys/kernel/debug/pvlockinfo/selftest_own     (or reads=N)
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
#include <linux/cpumask.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "pvlockinfo.h"
#include "pvli_cmd.h"
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
};

static void own_thread(void *arg, unsigned int thread)
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
}

/* Result: the per-CPU array (nr_cpu_ids entries; a CPU that ran none reads 0). */
static int own_run(struct pvli_cmd_args *a, void **result)
{
	struct own_run run = { .reads = a->val[0] };

	run.res = kcalloc(nr_cpu_ids, sizeof(*run.res), GFP_KERNEL);
	*result = run.res;
	if (!run.res)
		return -ENOMEM;
	return pvli_cmd_run_on_online(own_thread, &run, "pvli_own/%u");
}

static void own_show(struct seq_file *m, const void *result)
{
	const struct own_result *res = result;
	int cpu;

	seq_printf(m, "%-4s %12s %10s %8s %10s %10s %10s %8s %s\n", "cpu", "reads",
		   "violations", "failed", "changes", "preempts", "seq", "Mread/s",
		   "seen(unknown/preempted/idle)");
	for_each_possible_cpu(cpu) {
		const struct own_result *r = &res[cpu];

		if (!r->reads)
			continue;
		seq_printf(m, "%-4d %12llu %10llu %8llu %10llu %10u %10u %8llu %llu/%llu/%llu\n",
			   cpu, r->reads, r->violations, r->failed, r->changes, r->preempt_count,
			   r->seq, r->ns ? r->reads * 1000 / r->ns : 0,
			   r->seen[PVLI_STATE_UNKNOWN], r->seen[PVLI_STATE_PREEMPTED],
			   r->seen[PVLI_STATE_IDLE]);
	}
}

static const struct pvli_cmd_key own_keys[] = {
	{ .name = "reads", .min = 1, .max = 1000000000, .def = PVLI_CMD_UNSET, .required = true },
};

struct pvli_cmd pvli_selftest_cmd = {
	.name = "selftest_own",
	.keys = own_keys,
	.nkeys = ARRAY_SIZE(own_keys),
	.usage = "no run yet: echo READS > selftest_own\n",
	.needs_page = true,
	.run = own_run,
	.show = own_show,
};
