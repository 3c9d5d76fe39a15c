// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockinfo probes: known guest situations for host-side ground truth.
 *
 *   echo "holder=1 ms=4000" > /sys/kernel/debug/pvlockinfo/hold
 *     a kthread bound to vCPU 1 takes a pvlockinfo lock and keeps it for
 *     4 s (spinning, preemption off): every host preemption of vCPU 1 in
 *     that window is a lock-holder preemption.
 *   echo "holder=0 waiter=1 ms=4000" > .../hold
 *     the same, plus a kthread on vCPU 1 that waits for the lock the whole
 *     time (a "shfl" waiter spins; it never halts, so the host sees a
 *     runnable lock waiter): every preemption of vCPU 1 is a lock-waiter
 *     preemption.
 *   echo "cpu=1 ms=3000 on=0" > /sys/kernel/debug/pvlockinfo/watch
 *   cat .../watch
 *     a kthread on vCPU 0 polls vCPU 1's record for 3 s and lists every
 *     interval it saw vCPU 1 preempted (or woken and waiting for its pCPU)
 *     of at least min_us, so the guest's view of an
 *     injected preemption can be compared with what the host did.
 *
 *   echo "cpu=1 ms=5000" > /sys/kernel/debug/pvlockinfo/quota
 *   cat .../quota
 *     a kthread on vCPU 1 keeps it busy for 5 s and, again and again,
 *     asks the page how much run quota vCPU 1 has left (the prediction),
 *     then spins until the host preempts it and measures, with the
 *     host's clock, how long that took (the truth); it reports the
 *     absolute error's median and p95 next to the median quota.
 *
 * The writes block until the probe ends (pvli_cmd.c; one probe of each
 * kind at a time, a hold and a watch may overlap).  The watcher times
 * intervals with the host's own clock (the record's steal counter, see
 * watch_thread()), so its figures do not depend on how the watching vCPU
 * was scheduled.
 */
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "pvlockinfo.h"
#include "pvli_cmd.h"
#include "pvli_lock.h"
#include "pvli_test.h"

#define PROBE_MAX_MS		20000	/* under the soft-lockup threshold */
#define WATCH_MAX_INTERVALS	1024
#define QUOTA_MAX_SAMPLES	4096

/* ---- hold ---------------------------------------------------------------------- */

enum { HOLD_HOLDER, HOLD_WAITER, HOLD_MS };

static const struct pvli_cmd_key hold_keys[] = {
	[HOLD_HOLDER] = { .name = "holder", .max = PVLI_CMD_CPU_MAX, .def = 0 },
	[HOLD_WAITER] = { .name = "waiter", .max = PVLI_CMD_CPU_MAX, .def = PVLI_CMD_UNSET },
	[HOLD_MS] = { .name = "ms", .min = 1, .max = PROBE_MAX_MS, .def = 1000 },
};

/* A run, and its result. */
struct hold_run {
	struct pvli_lock lock;
	u64 end_ns;
	struct completion held;
	unsigned int holder;
	int waiter;		/* -1: none */
	u64 hold_ns, wait_ns;
};

static void holder_fn(struct hold_run *r)
{
	u64 t0;

	pvli_lock(&r->lock);
	t0 = ktime_get_ns();
	complete_all(&r->held);
	/*
	 * Interrupts stay on: with them off, another vCPU that sends this one
	 * an IPI (a TLB flush, a kthread's creation) would spin until the
	 * hold ends.
	 */
	while (ktime_get_ns() < r->end_ns)
		cpu_relax();
	r->hold_ns = ktime_get_ns() - t0;
	pvli_unlock(&r->lock);
}

static void waiter_fn(struct hold_run *r)
{
	u64 t0;

	wait_for_completion(&r->held);
	t0 = ktime_get_ns();
	pvli_lock(&r->lock);
	r->wait_ns = ktime_get_ns() - t0;
	pvli_unlock(&r->lock);
}

/* Thread 0 holds, thread 1 (if any) waits. */
static void hold_thread(void *arg, unsigned int thread)
{
	if (thread == 0)
		holder_fn(arg);
	else
		waiter_fn(arg);
}

static int hold_run(struct pvli_cmd_args *a, void **result)
{
	unsigned int cpus[2] = { a->val[HOLD_HOLDER], a->val[HOLD_WAITER] };
	bool waiter = cpus[1] != PVLI_CMD_UNSET;
	struct hold_run *r;

	if (!pvli_cmd_cpu_ok(cpus[0]) ||
	    (waiter && (!pvli_cmd_cpu_ok(cpus[1]) || cpus[1] == cpus[0])))
		return pvli_cmd_fail(a, -EINVAL, "holder and waiter must be two online CPUs");
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	/* "shfl": no host information, waiters spin and never halt. */
	pvli_lock_init(&r->lock, "shfl");
	init_completion(&r->held);
	r->holder = cpus[0];
	r->waiter = waiter ? cpus[1] : -1;
	r->end_ns = ktime_get_ns() + (u64)a->val[HOLD_MS] * NSEC_PER_MSEC;
	*result = r;
	return pvli_cmd_run_on(waiter ? 2 : 1, cpus, hold_thread, r, "pvli_hold/%u");
}

static void hold_show(struct seq_file *m, const void *result)
{
	const struct hold_run *r = result;

	seq_printf(m, "holder cpu %u held %llu ms; waiter cpu %d waited %llu ms\n", r->holder,
		   r->hold_ns / NSEC_PER_MSEC, r->waiter, r->wait_ns / NSEC_PER_MSEC);
}

struct pvli_cmd pvli_hold_cmd = {
	.name = "hold",
	.keys = hold_keys,
	.nkeys = ARRAY_SIZE(hold_keys),
	.usage = "no run yet: echo 'holder=N [waiter=M] ms=T' > hold\n",
	.run = hold_run,
	.show = hold_show,
};

/* ---- watch --------------------------------------------------------------------- */

enum { WATCH_CPU, WATCH_MS, WATCH_ON, WATCH_MIN_US };

static const struct pvli_cmd_key watch_keys[] = {
	[WATCH_CPU] = { .name = "cpu", .max = PVLI_CMD_CPU_MAX, .required = true },
	[WATCH_MS] = { .name = "ms", .min = 1, .max = PROBE_MAX_MS, .def = 1000 },
	[WATCH_ON] = { .name = "on", .max = PVLI_CMD_CPU_MAX, .required = true },
	[WATCH_MIN_US] = { .name = "min_us", .max = UINT_MAX, .def = 1000 },
};

/* A run, and its result. */
struct watch_run {
	unsigned int cpu, min_us;
	u64 end_ns;
	u64 reads, failed, missed, short_ones;
	u64 stall_ns;			/* longest time between two of its reads */
	u32 nr;
	u64 us[WATCH_MAX_INTERVALS];	/* preempted intervals >= min_us */
	u32 miss[WATCH_MAX_INTERVALS];	/* transitions missed inside each */
};

/*
 * Intervals are timed by the record's steal counter, to which the host
 * adds each wait (preempted, or woken and not yet running) at the
 * switch-in that ends it.  Between two consecutive snapshots the watcher
 * takes, the steal moved by the waits that ended in between: one wait
 * when the watcher saw both its ends (seq moved by 2 from a PREEMPTED
 * snapshot), or several when it missed transitions, which happens when
 * the watching vCPU is itself stalled.  Under TCG that is not rare: a
 * vCPU that needs all others at a safe point (TB flush, exclusive atomic
 * step) waits until the preempted one runs again.  The missed
 * transitions are counted per interval.
 */
/* One snapshot of the watched record: close the interval since the last one. */
static void watch_read(struct watch_run *w, struct pvli_vcpu_host *prev, bool *have_prev)
{
	struct pvli_vcpu_host h;

	w->reads++;
	if (pvli_vcpu_snapshot(w->cpu, &h)) {
		w->failed++;
		*have_prev = false;
		return;
	}
	if (*have_prev && h.steal_ns != prev->steal_ns) {
		u64 us = (h.steal_ns - prev->steal_ns) / NSEC_PER_USEC;
		/* record versions between the two that it never saw */
		u32 missed = (h.seq - prev->seq) / 2 - 1;

		w->missed += missed;
		if (us < w->min_us) {
			w->short_ones++;
		} else if (w->nr < WATCH_MAX_INTERVALS) {
			w->us[w->nr] = us;
			w->miss[w->nr++] = missed;
		}
	}
	*prev = h;
	*have_prev = true;
}

static void watch_thread(void *arg, unsigned int thread)
{
	struct watch_run *w = arg;
	struct pvli_vcpu_host prev;
	bool have_prev = false;
	u64 now, last = ktime_get_ns();

	while ((now = ktime_get_ns()) < w->end_ns) {
		/* The watcher's own stalls (guest time between two reads). */
		w->stall_ns = max(w->stall_ns, now - last);
		last = now;
		watch_read(w, &prev, &have_prev);
		if (!(w->reads & 0xfff))
			cond_resched();
	}
	/*
	 * One more read: a watcher stalled until after its end (by a
	 * stop_machine() waiting for the watched vCPU, say) still reports
	 * what happened meanwhile, as one interval with transitions missed.
	 */
	w->stall_ns = max(w->stall_ns, ktime_get_ns() - last);
	watch_read(w, &prev, &have_prev);
}

static int watch_run(struct pvli_cmd_args *a, void **result)
{
	unsigned int on = a->val[WATCH_ON];
	struct watch_run *w;

	if (a->val[WATCH_CPU] >= nr_cpu_ids || !pvli_cmd_cpu_ok(on) || on == a->val[WATCH_CPU])
		return pvli_cmd_fail(a, -EINVAL, "cpu must be a CPU, on another one that is online");
	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	w->cpu = a->val[WATCH_CPU];
	w->min_us = a->val[WATCH_MIN_US];
	w->end_ns = ktime_get_ns() + (u64)a->val[WATCH_MS] * NSEC_PER_MSEC;
	*result = w;
	return pvli_cmd_run_on(1, &on, watch_thread, w, "pvli_watch/%u");
}

static void watch_show(struct seq_file *m, const void *result)
{
	const struct watch_run *w = result;

	seq_printf(m, "cpu %u reads %llu failed %llu missed %llu short %llu long %u\n",
		   w->cpu, w->reads, w->failed, w->missed, w->short_ones, w->nr);
	seq_printf(m, "watcher_stall_us %llu\n", w->stall_ns / NSEC_PER_USEC);
	for (u32 i = 0; i < w->nr; i++)
		seq_printf(m, "preempted_us %llu missed %u\n", w->us[i], w->miss[i]);
}

struct pvli_cmd pvli_watch_cmd = {
	.name = "watch",
	.keys = watch_keys,
	.nkeys = ARRAY_SIZE(watch_keys),
	.usage = "no run yet: echo 'cpu=N ms=M on=C [min_us=U]' > watch\n",
	.needs_page = true,
	.run = watch_run,
	.show = watch_show,
};

/* ---- quota ------------------------------------------------------------------ */

enum { QUOTA_CPU, QUOTA_MS };

static const struct pvli_cmd_key quota_keys[] = {
	[QUOTA_CPU] = { .name = "cpu", .max = PVLI_CMD_CPU_MAX, .required = true },
	[QUOTA_MS] = { .name = "ms", .min = 1, .max = PROBE_MAX_MS, .def = 5000 },
};

/* A run, and its result. */
struct quota_run {
	u64 end_ns;
	u64 unknown;		/* no quota known (uncapped and uncontended, no clock) */
	u64 blocked;		/* the vCPU blocked (not preempted) first: no truth */
	u64 missed;		/* several switches between two reads: no truth */
	u32 nr;
	s64 err_ns[QUOTA_MAX_SAMPLES];	/* predicted - actual */
	u64 pred_ns[QUOTA_MAX_SAMPLES];
	u64 actual_ns[QUOTA_MAX_SAMPLES];
};

/*
 * One sample: the quota the page promises now (host clock), then spin
 * reading our own record until it changes, which it can only do while we
 * are off the pCPU.  If exactly one switch-out and switch-in happened and
 * it was a preemption (preempt_count + 1), the switch-out was at the new
 * last_switch_ns (the switch-in) minus the wait the host added to steal.
 * A block (TCG vCPU threads block on QEMU's locks) ends the run quota the
 * host computed too, but it is not what the prediction is about: skipped.
 */
static void quota_sample(struct quota_run *q, int cpu)
{
	struct pvli_vcpu_host a, b;
	u64 now, pred, out;

	if (pvli_vcpu_snapshot(cpu, &a) || a.state != PVLI_STATE_RUNNING)
		return;
	now = pvli_host_now_ns();
	pred = now ? pvli_quota_left_ns(&a, now) : PVLI_QUOTA_UNKNOWN;
	if (pred == PVLI_QUOTA_UNKNOWN) {
		q->unknown++;
		return;
	}
	do {
		cpu_relax();
		if (pvli_vcpu_snapshot(cpu, &b))
			return;
	} while (b.seq == a.seq && ktime_get_ns() < q->end_ns);
	if (b.seq == a.seq)
		return;
	if (b.seq - a.seq != 4 || b.preempt_count != a.preempt_count + 1) {
		if (b.preempt_count == a.preempt_count)
			q->blocked++;
		else
			q->missed++;
		return;
	}
	out = b.last_switch_ns - (b.steal_ns - a.steal_ns);
	if (q->nr < QUOTA_MAX_SAMPLES && out >= now) {
		q->pred_ns[q->nr] = pred;
		q->actual_ns[q->nr] = out - now;
		q->err_ns[q->nr++] = (s64)pred - (s64)(out - now);
	}
}

static void quota_thread(void *arg, unsigned int thread)
{
	struct quota_run *q = arg;
	int cpu = smp_processor_id();
	u32 seed = 1;

	while (ktime_get_ns() < q->end_ns && q->nr < QUOTA_MAX_SAMPLES) {
		/* Start samples at spread-out points of a slice: 0-2 ms in. */
		u64 until = ktime_get_ns() + (seed % 2000) * NSEC_PER_USEC;

		seed = seed * 1103515245 + 12345;
		while (ktime_get_ns() < until)
			cpu_relax();
		preempt_disable();
		quota_sample(q, cpu);
		preempt_enable();
		cond_resched();
	}
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* The value at per-mille @pm of sorted @v[@n]. */
static u64 pct_of(const u64 *v, u32 n, u32 pm)
{
	return n ? v[min_t(u32, n - 1, (u64)n * pm / 1000)] : 0;
}

static int quota_run(struct pvli_cmd_args *a, void **result)
{
	unsigned int cpu = a->val[QUOTA_CPU];
	struct quota_run *q;

	if (!pvli_cmd_cpu_ok(cpu))
		return pvli_cmd_fail(a, -EINVAL, "cpu=%u is not an online CPU", cpu);
	q = kvzalloc(sizeof(*q), GFP_KERNEL);
	if (!q)
		return -ENOMEM;
	q->end_ns = ktime_get_ns() + (u64)a->val[QUOTA_MS] * NSEC_PER_MSEC;
	*result = q;
	return pvli_cmd_run_on(1, &cpu, quota_thread, q, "pvli_quota/%u");
}

static void quota_show(struct seq_file *m, const void *result)
{
	const struct quota_run *q = result;
	u64 *abs_err, *pred, *actual;

	abs_err = kvmalloc_array(3 * (size_t)QUOTA_MAX_SAMPLES, sizeof(u64), GFP_KERNEL);
	if (!abs_err) {
		seq_puts(m, "out of memory\n");
		return;
	}
	pred = abs_err + QUOTA_MAX_SAMPLES;
	actual = pred + QUOTA_MAX_SAMPLES;
	for (u32 i = 0; i < q->nr; i++) {
		abs_err[i] = q->err_ns[i] < 0 ? -q->err_ns[i] : q->err_ns[i];
		pred[i] = q->pred_ns[i];
		actual[i] = q->actual_ns[i];
	}
	sort(abs_err, q->nr, sizeof(u64), cmp_u64, NULL);
	sort(pred, q->nr, sizeof(u64), cmp_u64, NULL);
	sort(actual, q->nr, sizeof(u64), cmp_u64, NULL);
	seq_printf(m, "samples %u unknown %llu blocked %llu missed %llu\n", q->nr, q->unknown,
		   q->blocked, q->missed);
	seq_printf(m, "abs_err_us p50 %llu p95 %llu\n", pct_of(abs_err, q->nr, 500) / 1000,
		   pct_of(abs_err, q->nr, 950) / 1000);
	seq_printf(m, "predicted_us p50 %llu actual_us p50 %llu max %llu\n",
		   pct_of(pred, q->nr, 500) / 1000, pct_of(actual, q->nr, 500) / 1000,
		   pct_of(actual, q->nr, 1000) / 1000);
	for (u32 i = 0; i < q->nr; i++)
		seq_printf(m, "sample %llu %llu\n", q->pred_ns[i], q->actual_ns[i]);
	kvfree(abs_err);
}

struct pvli_cmd pvli_quota_cmd = {
	.name = "quota",
	.keys = quota_keys,
	.nkeys = ARRAY_SIZE(quota_keys),
	.usage = "no run yet: echo 'cpu=N ms=M' > quota\n",
	.needs_page = true,
	.run = quota_run,
	.show = quota_show,
};
