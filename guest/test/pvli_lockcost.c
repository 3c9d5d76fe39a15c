// SPDX-License-Identifier: GPL-2.0-only
/*
 * What one uncontended kernel spinlock costs, in ns: the entry cost of
 * the kernel-spinlock takeover, measured where it is paid.
 *
 *   echo "pairs=10000 batches=50 cpu=0" > /sys/kernel/debug/pvlockinfo/lockcost
 *   cat /sys/kernel/debug/pvlockinfo/lockcost
 *
 * A kthread on @cpu times @batches batches of @pairs spin_lock() +
 * spin_unlock() pairs on a spinlock_t of its own, then as many
 * spin_lock_irqsave() + spin_unlock_irqrestore() pairs, then as many
 * passes of the same loop without a lock (the loop's own cost, to
 * subtract).  Each call goes through the kernel's out-of-line
 * _raw_spin_*() functions: native, or whatever the takeover put in front
 * of them.  It prints the median and the fastest batch, in ns per pair.
 *
 * The median of batches, not the mean: under TCG the vCPU thread is
 * itself preempted by the host now and then, and an interrupt lands in
 * some batches; both are outliers to drop, not costs of the lock.  Run
 * the modes to compare in the same guest, one after the other.
 */
#include <linux/math64.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/spinlock.h>
#include <linux/sched/clock.h>

#include "pvli_cmd.h"
#include "pvli_test.h"

enum { COST_LOCK, COST_IRQSAVE, COST_LOOP, COST_KINDS };
static const char *const cost_names[COST_KINDS] = { "lock", "irqsave", "loop" };

struct cost_result {
	u32 pairs, batches, cpu;
	u64 median_ps[COST_KINDS];	/* per pair, picoseconds */
	u64 min_ps[COST_KINDS];
};

struct cost_run {
	struct cost_result *res;
	u64 *ns;		/* one batch's time each, @batches of them */
};

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* One batch of @kind, timed; noinline so that every kind pays the same call. */
static noinline u64 cost_batch(spinlock_t *l, unsigned int kind, u32 pairs)
{
	unsigned long flags;
	u64 t0 = local_clock();

	for (u32 i = 0; i < pairs; i++) {
		switch (kind) {
		case COST_LOCK:
			spin_lock(l);
			spin_unlock(l);
			break;
		case COST_IRQSAVE:
			spin_lock_irqsave(l, flags);
			spin_unlock_irqrestore(l, flags);
			break;
		default:
			/* Keep the loop: the compiler may not drop it. */
			barrier();
			break;
		}
	}
	return local_clock() - t0;
}

static void cost_thread(void *data, unsigned int i)
{
	struct cost_run *run = data;
	struct cost_result *r = run->res;
	DEFINE_SPINLOCK(l);

	for (unsigned int kind = 0; kind < COST_KINDS; kind++) {
		for (u32 b = 0; b < r->batches; b++) {
			run->ns[b] = cost_batch(&l, kind, r->pairs);
			cond_resched();
		}
		sort(run->ns, r->batches, sizeof(*run->ns), cmp_u64, NULL);
		r->median_ps[kind] = div_u64(run->ns[r->batches / 2] * 1000, r->pairs);
		r->min_ps[kind] = div_u64(run->ns[0] * 1000, r->pairs);
	}
}

static int cost_run(struct pvli_cmd_args *a, void **result)
{
	struct cost_run run = {};
	struct cost_result *r;
	int ret = -ENOMEM;

	if (!pvli_cmd_cpu_ok(a->val[2]))
		return pvli_cmd_fail(a, -EINVAL, "cpu %u is not online", a->val[2]);
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	*result = r;
	run.ns = kcalloc(a->val[1], sizeof(*run.ns), GFP_KERNEL);
	if (r && run.ns) {
		r->pairs = a->val[0];
		r->batches = a->val[1];
		r->cpu = a->val[2];
		run.res = r;
		ret = pvli_cmd_run_on(1, &r->cpu, cost_thread, &run, "pvli_cost/%u");
	}
	kfree(run.ns);
	return ret;
}

/* ns with three decimals from ps. */
#define PS_FMT		"%llu.%03llu"
#define PS_ARG(ps)	(ps) / 1000, (ps) % 1000

static void cost_show(struct seq_file *m, const void *result)
{
	const struct cost_result *r = result;

	seq_printf(m, "cpu=%u pairs=%u batches=%u", r->cpu, r->pairs, r->batches);
	for (unsigned int k = 0; k < COST_KINDS; k++)
		seq_printf(m, " %s_ns=" PS_FMT " %s_min_ns=" PS_FMT, cost_names[k],
			   PS_ARG(r->median_ps[k]), cost_names[k], PS_ARG(r->min_ps[k]));
	seq_putc(m, '\n');
}

static const struct pvli_cmd_key cost_keys[] = {
	{ .name = "pairs", .min = 1, .max = 10000000, .def = 10000 },
	{ .name = "batches", .min = 1, .max = 10000, .def = 51 },
	{ .name = "cpu", .min = 0, .max = PVLI_CMD_CPU_MAX, .def = 0 },
};

struct pvli_cmd pvli_lockcost_cmd = {
	.name = "lockcost",
	.keys = cost_keys,
	.nkeys = ARRAY_SIZE(cost_keys),
	.usage = "no run yet: echo \"pairs=10000 batches=51 cpu=0\" > lockcost\n",
	.run = cost_run,
	.show = cost_show,
};
