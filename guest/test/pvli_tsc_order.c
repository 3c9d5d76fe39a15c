// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockinfo self-test of the guest's TSC across vCPUs, driven through
 * debugfs:
 *
 *   echo N > /sys/kernel/debug/pvlockinfo/tsc_order     (or reads=N)
 *   cat /sys/kernel/debug/pvlockinfo/tsc_order
 *
 * On every online CPU a bound kthread reads the TSC N times.  Before each
 * read it loads the largest value any of them has published; the read,
 * ordered after that load (rdtsc_ordered()), must not be below it: the
 * TSC is one clock for all vCPUs, so a reading taken after another vCPU's
 * published reading is at least as large.  Then the reading is published
 * (raised with a compare-and-swap).  A reading below the published one is
 * a violation; the largest shortfall is kept, in cycles.
 *
 * Why: the channel translates between the host's clock and the guest's
 * TSC (page header: clock_mult, clock_base_tsc), and under TCG the guest's
 * RDTSC is QEMU's cpu_get_ticks(), which pvlockinfo patches to run without
 * its lock (qemu-patches/0007).  The patch must keep what the lock kept:
 * values that never go back from one vCPU to another.
 */
#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <asm/msr.h>

#include "pvli_cmd.h"
#include "pvli_test.h"

struct tsc_result {
	u64 reads;
	u64 violations;		/* readings below the published largest */
	u64 worst;		/* largest shortfall, cycles */
	u64 ns;
};

struct tsc_run {
	u64 reads;
	atomic64_t largest;	/* the largest reading published so far */
	struct tsc_result *res;	/* per CPU */
};

static void tsc_thread(void *arg, unsigned int thread)
{
	struct tsc_run *run = arg;
	struct tsc_result *r = &run->res[smp_processor_id()];
	u64 start = ktime_get_ns();

	for (u64 i = 0; i < run->reads; i++) {
		s64 seen, t;

		preempt_disable();
		seen = atomic64_read(&run->largest);
		/* rdtsc_ordered(): the read is not taken before that load. */
		t = rdtsc_ordered();
		if (t < seen) {
			r->violations++;
			r->worst = max_t(u64, r->worst, seen - t);
		}
		while (t > seen) {
			s64 old = atomic64_cmpxchg(&run->largest, seen, t);

			if (old == seen)
				break;
			seen = old;
		}
		preempt_enable();
		r->reads++;
		if (!(i & 0xffff))
			cond_resched();
	}
	r->ns = ktime_get_ns() - start;
}

/* Result: the per-CPU array (nr_cpu_ids entries; a CPU that ran none reads 0). */
static int tsc_run(struct pvli_cmd_args *a, void **result)
{
	struct tsc_run run = { .reads = a->val[0], .largest = ATOMIC64_INIT(0) };

	run.res = kcalloc(nr_cpu_ids, sizeof(*run.res), GFP_KERNEL);
	*result = run.res;
	if (!run.res)
		return -ENOMEM;
	return pvli_cmd_run_on_online(tsc_thread, &run, "pvli_tsc/%u");
}

static void tsc_show(struct seq_file *m, const void *result)
{
	const struct tsc_result *res = result;
	int cpu;

	seq_printf(m, "%-4s %12s %10s %12s %8s\n", "cpu", "reads", "violations",
		   "worst_cyc", "kread/s");
	for_each_possible_cpu(cpu) {
		const struct tsc_result *r = &res[cpu];

		if (!r->reads)
			continue;
		seq_printf(m, "%-4d %12llu %10llu %12llu %8llu\n", cpu, r->reads,
			   r->violations, r->worst, r->ns ? r->reads * NSEC_PER_MSEC / r->ns : 0);
	}
}

static const struct pvli_cmd_key tsc_keys[] = {
	{ .name = "reads", .min = 1, .max = 1000000000, .def = PVLI_CMD_UNSET, .required = true },
};

struct pvli_cmd pvli_tsc_order_cmd = {
	.name = "tsc_order",
	.keys = tsc_keys,
	.nkeys = ARRAY_SIZE(tsc_keys),
	.usage = "no run yet: echo READS > tsc_order\n",
	.run = tsc_run,
	.show = tsc_show,
};
