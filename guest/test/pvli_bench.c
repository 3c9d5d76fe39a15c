// SPDX-License-Identifier: GPL-2.0-only
/*
 * Lock benchmark and torture harness: /sys/kernel/debug/pvlockinfo/bench
 *
 * Write a run's parameters, e.g.
 *   echo "policy=shfl-pv threads=4 cs_ns=2000 ncs_ns=2000 duration_ms=5000" > bench
 * The write returns when the run is over; read the file for its result,
 * one JSON object per policy (several policies, comma-separated, run at
 * the same time, each on its own locks with its own threads), or
 * {"error":"..."} when it failed.  The file is a debugfs command
 * (pvli_cmd.c): one run at a time.
 *
 * Each thread is a kthread bound to a CPU (thread i to CPU i mod the
 * online CPUs) that loops: pick a lock, take it (the time until it is
 * held is the acquire latency; the tracing and publishing that follow are
 * not in it), inside check that nobody else is (an owner
 * field) and update a counter non-atomically, spin for the critical
 * section, release, spin for the non-critical section.  Spinning is a
 * loop calibrated against local_clock() at the start of each run, not
 * udelay().  torture=1 draws each section length at random up to the
 * given one.  A broken lock ("broken": takes nothing) proves that the
 * checks catch a violation.
 *
 * Lock types follow locktorture: one ops table per type.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": bench: " fmt

#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/math64.h>
#include <linux/prandom.h>
#include <linux/sched/clock.h>
#include <linux/seq_buf.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/vmalloc.h>

#include "pvli_cmd.h"
#include "pvli_lock.h"
#include "pvli_trace_hooks.h"
#include "pvlockinfo.h"
#include "pvli_test.h"

#define BENCH_MAX_POLICIES	8
#define BENCH_MAX_LOCKS		64
#define BENCH_MAX_THREADS	256
#define BENCH_RESULT_SIZE	(64 * 1024)
/* Hang watchdog: threads that have not stopped this long after the end. */
#define BENCH_HANG_MS		30000

/* ---- latency histogram: log-linear, 32 buckets per power of two (<= 3%) --- */
#define HIST_SUB_BITS	5
#define HIST_SUB	(1 << HIST_SUB_BITS)
#define HIST_BUCKETS	(64 * HIST_SUB)

static unsigned int hist_bucket(u64 v)
{
	unsigned int e;

	if (v < HIST_SUB)
		return v;
	e = fls64(v) - 1 - HIST_SUB_BITS;	/* v >> e is in [HIST_SUB, 2*HIST_SUB) */
	return (e + 1) * HIST_SUB + ((v >> e) - HIST_SUB);
}

/* The largest value a bucket holds (so percentiles never understate). */
static u64 hist_value(unsigned int b)
{
	unsigned int e;

	if (b < HIST_SUB)
		return b;
	e = b / HIST_SUB - 1;
	return (((u64)(b % HIST_SUB) + HIST_SUB + 1) << e) - 1;
}

/* ---- lock types ------------------------------------------------------------ */

struct bench_lock {
	union {
		spinlock_t native;
		struct mcs_lock mcs;
		struct pvli_lock pv;
	};
	int trace_holder;	/* native, mcs: holder's CPU while traced */
	atomic_t trace_waiters;	/* native, mcs: see pvli_trace_hooks.h */
	/* Checked and written only inside the critical section. */
	int owner ____cacheline_aligned;
	u64 counter;
};

struct lock_ops {
	const char *name;
	int (*init)(struct bench_lock *bl, const char *policy);
	/*
	 * Returns whether it had to wait (its fast path failed); sets
	 * *@held_ns to local_clock() once the lock is held, before the
	 * tracing and publishing that follow, so latency is the lock's own.
	 */
	bool (*lock)(struct bench_lock *bl, struct mcs_node *node, u64 *held_ns);
	void (*unlock)(struct bench_lock *bl, struct mcs_node *node);
};

/*
 * The baselines record their holder's CPU for the wait tracepoint (the
 * pvli locks keep it in the lock), only while the tracepoint is on.
 */
static bool baseline_wait(struct bench_lock *bl, u32 policy, u64 start)
{
	bool counted;

	preempt_disable();
	counted = pvli_trace_wait(bl, &bl->trace_waiters, policy, READ_ONCE(bl->trace_holder),
				  start);
	preempt_enable();
	return counted;
}

static void baseline_acquired(struct bench_lock *bl, u32 policy, bool counted)
{
	if (pvli_trace_wants_holder())
		WRITE_ONCE(bl->trace_holder, smp_processor_id());
	pvli_trace_acquired(bl, &bl->trace_waiters, policy, counted);
	pvli_publish_hold(1);
}

static void baseline_release(struct bench_lock *bl, u32 policy)
{
	pvli_publish_hold(-1);
	if (pvli_trace_wants_holder())
		WRITE_ONCE(bl->trace_holder, PVLI_TP_NO_CPU);
	pvli_trace_release(bl, &bl->trace_waiters, policy);
}

static int native_init(struct bench_lock *bl, const char *policy)
{
	spin_lock_init(&bl->native);
	return 0;
}

static bool native_lock(struct bench_lock *bl, struct mcs_node *node, u64 *held_ns)
{
	u64 start = pvli_trace_start();
	bool waited = false, counted = false;

	/* Publish a wait only when there is one, like the other locks. */
	if (!spin_trylock(&bl->native)) {
		counted = baseline_wait(bl, PVLI_TP_NATIVE, start);
		pvli_publish_wait((u64)(unsigned long)bl);
		spin_lock(&bl->native);
		*held_ns = local_clock();
		pvli_publish_wait(0);
		waited = true;
	} else {
		*held_ns = local_clock();
	}
	baseline_acquired(bl, PVLI_TP_NATIVE, counted);
	return waited;
}

static void native_unlock(struct bench_lock *bl, struct mcs_node *node)
{
	baseline_release(bl, PVLI_TP_NATIVE);
	spin_unlock(&bl->native);
}

static int mcs_init(struct bench_lock *bl, const char *policy)
{
	mcs_lock_init(&bl->mcs);
	return 0;
}

static bool mcs_lock_op(struct bench_lock *bl, struct mcs_node *node, u64 *held_ns)
{
	u64 start = pvli_trace_start();
	bool waited = false, counted = false;

	if (!mcs_trylock(&bl->mcs, node)) {
		counted = baseline_wait(bl, PVLI_TP_MCS, start);
		mcs_lock(&bl->mcs, node);
		waited = true;
	}
	*held_ns = local_clock();
	baseline_acquired(bl, PVLI_TP_MCS, counted);
	return waited;
}

static void mcs_unlock_op(struct bench_lock *bl, struct mcs_node *node)
{
	baseline_release(bl, PVLI_TP_MCS);
	mcs_unlock(&bl->mcs, node);
}

static int pvli_init_op(struct bench_lock *bl, const char *policy)
{
	return pvli_lock_init(&bl->pv, policy);
}

static bool pvli_lock_op(struct bench_lock *bl, struct mcs_node *node, u64 *held_ns)
{
	bool counted, waited = __pvli_lock_acquire(&bl->pv, &counted);

	*held_ns = local_clock();
	__pvli_lock_acquired(&bl->pv, counted);
	return waited;
}

static void pvli_unlock_op(struct bench_lock *bl, struct mcs_node *node)
{
	pvli_unlock(&bl->pv);
}

static int broken_init(struct bench_lock *bl, const char *policy) { return 0; }

/* Excludes no one: the checks must see it. */
static bool broken_lock(struct bench_lock *bl, struct mcs_node *node, u64 *held_ns)
{
	preempt_disable();
	*held_ns = local_clock();
	return false;
}

static void broken_unlock(struct bench_lock *bl, struct mcs_node *node)
{
	preempt_enable();
}

static const struct lock_ops native_ops = { "native", native_init, native_lock, native_unlock };
static const struct lock_ops mcs_ops = { "mcs", mcs_init, mcs_lock_op, mcs_unlock_op };
static const struct lock_ops pvli_ops = { "pvli", pvli_init_op, pvli_lock_op, pvli_unlock_op };
static const struct lock_ops broken_ops = { "broken", broken_init, broken_lock, broken_unlock };

/* ---- a run ------------------------------------------------------------------ */

struct bench_params {
	unsigned int threads;		/* per policy */
	unsigned int cs_ns, ncs_ns;
	unsigned int duration_ms;
	unsigned int locks;		/* per policy */
	bool torture;
};

struct bench_policy;

struct bench_thread {
	struct bench_policy *bp;
	unsigned int id;
	u64 count;
	u64 violations;
	u64 max_wait;
	/*
	 * The most acquisitions of this thread's lock by others between one
	 * of its calls to lock and its own entry (bl->counter read before
	 * and after): how far a waiter was bypassed.  FIFO keeps it below
	 * the number of threads on the lock (plus one for a holder that
	 * had not counted itself yet).
	 */
	u64 max_bypass;
	u64 wait_ns;			/* sum of all acquire latencies */
	u64 waits, waits_ns;		/* acquisitions that waited, and their latencies */
	u32 hist[HIST_BUCKETS];
};

struct bench_policy {
	const char *name;
	const struct lock_ops *ops;
	struct bench_lock *locks;
	struct bench_thread **threads;
};

struct bench_run {
	struct bench_params p;
	struct bench_policy pol[BENCH_MAX_POLICIES];
	unsigned int npol;
	u64 ns_per_kiter;		/* calibration: ns per 1000 loop iterations */
	u64 cs_iters, ncs_iters;
	atomic_t ready;
	bool go, stop;
	u64 start_ns, end_ns;
	/* Core events are per CPU for all locks: one sum before, one after. */
	struct shfl_stats stats_before, stats_after;
};

static noinline void spin_iters(u64 iters)
{
	for (u64 i = 0; i < iters; i++)
		barrier();
}

/* ns per 1000 iterations: best of 5, on this CPU. */
static u64 calibrate(void)
{
	u64 best = U64_MAX;

	for (int i = 0; i < 5; i++) {
		u64 t0 = local_clock(), d;

		spin_iters(200000);
		d = local_clock() - t0;
		best = min(best, d);
	}
	return max_t(u64, div_u64(best, 200), 1);
}

static u64 ns_to_iters(struct bench_run *run, u64 ns)
{
	return div64_u64(ns * 1000, run->ns_per_kiter);
}

/* Thread @id: the (@id / threads)th policy's (@id % threads)th thread. */
static void bench_thread(void *data, unsigned int id)
{
	struct bench_run *run = data;
	struct bench_thread *t = run->pol[id / run->p.threads].threads[id % run->p.threads];
	struct bench_policy *bp = t->bp;
	u32 seed = t->id * 2654435761U + 1;
	struct mcs_node node;

	atomic_inc(&run->ready);
	while (!READ_ONCE(run->go))
		cond_resched();

	while (!READ_ONCE(run->stop)) {
		struct bench_lock *bl = &bp->locks[run->p.locks > 1 ? seed % run->p.locks : 0];
		u64 cs = run->cs_iters, ncs = run->ncs_iters, t0, held, wait, before;
		bool waited;

		seed = next_pseudo_random32(seed);
		if (run->p.torture) {
			cs = cs ? seed % (cs + 1) : 0;
			ncs = ncs ? (seed >> 7) % (ncs + 1) : 0;
		}
		/* Racy read: the holder may be about to count itself. */
		before = READ_ONCE(bl->counter);
		t0 = local_clock();
		waited = bp->ops->lock(bl, &node, &held);
		wait = held - t0;

		if (READ_ONCE(bl->owner) != -1)
			t->violations++;
		WRITE_ONCE(bl->owner, t->id);
		if (bl->counter - before > t->max_bypass)
			t->max_bypass = bl->counter - before;
		bl->counter++;
		spin_iters(cs);
		if (READ_ONCE(bl->owner) != t->id)
			t->violations++;
		WRITE_ONCE(bl->owner, -1);
		bp->ops->unlock(bl, &node);

		t->count++;
		t->wait_ns += wait;
		if (waited) {
			t->waits++;
			t->waits_ns += wait;
		}
		t->hist[hist_bucket(wait)]++;
		if (wait > t->max_wait)
			t->max_wait = wait;
		spin_iters(ncs);
		cond_resched();
	}
}

static void sum_stats(struct shfl_stats *out)
{
	shfl_stats(SHFL_STATS_LOCKS, out);
}

/* Sum of the host's LHP and LWP counts over all vCPUs, if the page is live. */
static bool host_counts(u64 *lhp, u64 *lwp)
{
	struct pvli_vcpu_host h;
	int cpu;

	*lhp = *lwp = 0;
	if (!pvli_available())
		return false;
	for_each_possible_cpu(cpu) {
		if (pvli_vcpu_snapshot(cpu, &h))
			return false;
		*lhp += h.lhp_count;
		*lwp += h.lwp_count;
	}
	return true;
}

/* ---- parameters -------------------------------------------------------------- */

enum { KEY_POLICY, KEY_THREADS, KEY_CS_NS, KEY_NCS_NS, KEY_DURATION_MS, KEY_LOCKS, KEY_TORTURE };

static const struct pvli_cmd_key bench_keys[] = {
	[KEY_POLICY] = { .name = "policy", .text = true, .required = true },
	/* default: num_online_cpus() */
	[KEY_THREADS] = { .name = "threads", .min = 1, .max = BENCH_MAX_THREADS,
			  .def = PVLI_CMD_UNSET },
	[KEY_CS_NS] = { .name = "cs_ns", .max = 100000000, .def = 1000 },
	[KEY_NCS_NS] = { .name = "ncs_ns", .max = 100000000, .def = 1000 },
	[KEY_DURATION_MS] = { .name = "duration_ms", .min = 1, .max = 3600000, .def = 5000 },
	[KEY_LOCKS] = { .name = "locks", .min = 1, .max = BENCH_MAX_LOCKS, .def = 1 },
	[KEY_TORTURE] = { .name = "torture", .max = 1, .def = 0 },
};

static int add_policy(struct bench_run *run, const char *name)
{
	struct bench_policy *bp;

	if (run->npol == BENCH_MAX_POLICIES)
		return -E2BIG;
	bp = &run->pol[run->npol];
	bp->name = name;
	if (!strcmp(name, "native")) {
		bp->ops = &native_ops;
	} else if (!strcmp(name, "mcs")) {
		bp->ops = &mcs_ops;
	} else if (!strcmp(name, "broken")) {
		bp->ops = &broken_ops;
	} else {
		if (!pvli_lock_type(name))
			return -ENOENT;
		bp->ops = &pvli_ops;
	}
	run->npol++;
	return 0;
}

static int parse_params(struct bench_run *run, struct pvli_cmd_args *a)
{
	char *list = a->text[KEY_POLICY], *name;
	int ret;

	run->p = (struct bench_params){
		.threads = a->val[KEY_THREADS] == PVLI_CMD_UNSET ? num_online_cpus() :
								   a->val[KEY_THREADS],
		.cs_ns = a->val[KEY_CS_NS], .ncs_ns = a->val[KEY_NCS_NS],
		.duration_ms = a->val[KEY_DURATION_MS], .locks = a->val[KEY_LOCKS],
		.torture = a->val[KEY_TORTURE],
	};
	while ((name = strsep(&list, ",")) != NULL) {
		ret = add_policy(run, name);
		if (ret == -ENOENT)
			return pvli_cmd_fail(a, -EINVAL,
					     "unknown policy '%s' (native, mcs, shfl, pvspin, tas-pv, shfl-pv, shfl-quota, broken)",
					     name);
		if (ret)
			return pvli_cmd_fail(a, ret, "too many policies at '%s'", name);
	}
	if (run->p.threads * run->npol > BENCH_MAX_THREADS)
		return pvli_cmd_fail(a, -E2BIG, "at most %d threads in all", BENCH_MAX_THREADS);
	return 0;
}

/* ---- result ------------------------------------------------------------------ */

static void report_policy(struct seq_buf *s, struct bench_run *run, struct bench_policy *bp,
			  bool lhp_ok, u64 lhp, u64 lwp)
{
	static u32 hist[HIST_BUCKETS];	/* one run at a time */
	u64 total = 0, sumsq = 0, maxw = 0, viol = 0, seen = 0, elapsed, bypass = 0;
	u64 wait_ns = 0, waits = 0, waits_ns = 0;
	u64 pct[3] = { 0 }, pct_rank[3];
	const u64 pct_per_mille[3] = { 500, 990, 999 };
	unsigned int i, n = run->p.threads;
	u64 fair;
	int k = 0;

	memset(hist, 0, sizeof(hist));
	for (i = 0; i < n; i++) {
		struct bench_thread *t = bp->threads[i];

		total += t->count;
		sumsq += t->count * t->count;
		maxw = max(maxw, t->max_wait);
		bypass = max(bypass, t->max_bypass);
		viol += t->violations;
		wait_ns += t->wait_ns;
		waits += t->waits;
		waits_ns += t->waits_ns;
		for (int b = 0; b < HIST_BUCKETS; b++)
			hist[b] += t->hist[b];
	}
	/* Percentiles: the smallest bucket whose cumulative count reaches the rank. */
	for (i = 0; i < 3; i++)
		pct_rank[i] = max_t(u64, div_u64(total * pct_per_mille[i] + 999, 1000), 1);
	for (int b = 0; b < HIST_BUCKETS && k < 3; b++) {
		seen += hist[b];
		while (k < 3 && seen >= pct_rank[k])
			pct[k++] = min(hist_value(b), maxw);
	}
	/* Jain's index (sum x)^2 / (n sum x^2), in 1/10000. */
	fair = sumsq ? div64_u64(total * total * 10000 / n, sumsq) : 0;
	elapsed = max_t(u64, run->end_ns - run->start_ns, 1);

	seq_buf_printf(s, "{\"policy\":\"%s\",\"vcpus\":%u,\"threads\":%u,\"cs_ns\":%u,"
		       "\"ncs_ns\":%u,\"duration_ms\":%u,\"locks\":%u,\"torture\":%s,"
		       "\"channel\":%s,\"ns_per_kiter\":%llu,\"elapsed_ns\":%llu,"
		       "\"acquisitions\":%llu,\"ops_per_s\":%llu,\"per_thread\":[",
		       bp->name, num_online_cpus(), n, run->p.cs_ns, run->p.ncs_ns,
		       run->p.duration_ms, run->p.locks, run->p.torture ? "true" : "false",
		       pvli_available() ? "true" : "false", run->ns_per_kiter, elapsed,
		       total, div64_u64(total * NSEC_PER_SEC, elapsed));
	for (i = 0; i < n; i++)
		seq_buf_printf(s, "%s%llu", i ? "," : "", bp->threads[i]->count);
	seq_buf_printf(s, "],\"fairness\":%llu.%04llu,\"lat_ns\":{\"p50\":%llu,\"p99\":%llu,"
		       "\"p999\":%llu,\"max\":%llu},\"violations\":%llu,",
		       fair / 10000, fair % 10000, pct[0], pct[1], pct[2], maxw, viol);
	/* waits: the fast path failed; what pvlocktrace sees as a wait. */
	seq_buf_printf(s, "\"wait_ns\":%llu,\"waits\":%llu,\"waits_ns\":%llu,",
		       wait_ns, waits, waits_ns);
	seq_buf_printf(s, "\"max_bypass\":%llu,", bypass);
	/*
	 * Core events are counted per CPU for all policies together: exact
	 * for a run of one policy, the sum when several run at once.
	 */
#define D(f) (run->stats_after.f - run->stats_before.f)
	seq_buf_printf(s, "\"halts\":%llu,\"kicks\":%llu,\"shuffles\":%llu,\"urgent\":%llu,"
		       "\"holder_preempted\":%llu,\"stolen\":%llu,\"queued\":%llu,"
		       "\"quota_waits\":%llu,",
		       D(halts), D(kicks), D(shuffles), D(urgent), D(holder_preempted),
		       D(stolen), D(queued), D(quota_waits));
#undef D
	if (lhp_ok)
		seq_buf_printf(s, "\"host_lhp\":%llu,\"host_lwp\":%llu,", lhp, lwp);
	else
		seq_buf_printf(s, "\"host_lhp\":null,\"host_lwp\":null,");
	/* The latency distribution: [bucket upper bound ns, count], non-empty only. */
	seq_buf_printf(s, "\"lat_hist\":[");
	for (int b = 0, first = 1; b < HIST_BUCKETS; b++) {
		if (!hist[b])
			continue;
		seq_buf_printf(s, "%s[%llu,%u]", first ? "" : ",", hist_value(b), hist[b]);
		first = 0;
	}
	seq_buf_printf(s, "]}\n");
}

/* ---- running it ------------------------------------------------------------- */

static void free_run(struct bench_run *run)
{
	for (unsigned int p = 0; p < run->npol; p++) {
		struct bench_policy *bp = &run->pol[p];

		if (bp->threads)
			for (unsigned int i = 0; i < run->p.threads; i++)
				vfree(bp->threads[i]);
		kfree(bp->threads);
		kfree(bp->locks);
	}
	kfree(run);
}

/* Result: the JSON text. */
static int bench_run(struct pvli_cmd_args *a, void **result)
{
	struct bench_run *run = kzalloc(sizeof(*run), GFP_KERNEL);
	unsigned int ncpus = num_online_cpus(), n, *cpus = NULL, left;
	u64 lhp0 = 0, lwp0 = 0, lhp1, lwp1;
	struct pvli_cmd_threads *threads;
	char *text;
	bool lhp_ok;
	struct seq_buf s;
	int ret = 0;

	if (!run)
		return -ENOMEM;
	ret = parse_params(run, a);
	if (ret)
		goto out_free;

	n = run->npol * run->p.threads;
	cpus = kcalloc(n, sizeof(*cpus), GFP_KERNEL);
	text = kvmalloc(BENCH_RESULT_SIZE, GFP_KERNEL);
	*result = text;
	if (!cpus || !text) {
		ret = -ENOMEM;
		goto out_free;
	}
	for (unsigned int p = 0; p < run->npol; p++) {
		struct bench_policy *bp = &run->pol[p];

		bp->locks = kcalloc(run->p.locks, sizeof(*bp->locks), GFP_KERNEL);
		bp->threads = kcalloc(run->p.threads, sizeof(*bp->threads), GFP_KERNEL);
		if (!bp->locks || !bp->threads) {
			ret = -ENOMEM;
			goto out_free;
		}
		for (unsigned int l = 0; l < run->p.locks; l++) {
			ret = bp->ops->init(&bp->locks[l], bp->name);
			if (ret) {
				ret = pvli_cmd_fail(a, ret, "policy %s cannot run in this guest (%d)",
						    bp->name, ret);
				goto out_free;
			}
			bp->locks[l].owner = -1;
			bp->locks[l].trace_holder = PVLI_TP_NO_CPU;
			atomic_set(&bp->locks[l].trace_waiters, 0);
		}
		/* Thread i of each policy on the (i mod online CPUs)th online CPU. */
		for (unsigned int i = 0; i < run->p.threads; i++) {
			struct bench_thread *t = vzalloc(sizeof(*t));

			if (!t) {
				ret = -ENOMEM;
				goto out_free;
			}
			t->bp = bp;
			t->id = p * run->p.threads + i;
			cpus[t->id] = cpumask_nth(i % ncpus, cpu_online_mask);
			bp->threads[i] = t;
		}
	}

	run->ns_per_kiter = calibrate();
	run->cs_iters = ns_to_iters(run, run->p.cs_ns);
	run->ncs_iters = ns_to_iters(run, run->p.ncs_ns);

	threads = pvli_cmd_start(n, cpus, bench_thread, run, "pvlb/%u");
	if (IS_ERR(threads)) {
		ret = pvli_cmd_fail(a, PTR_ERR(threads), "could not start threads (%ld)",
				    PTR_ERR(threads));
		goto out_free;
	}
	while (atomic_read(&run->ready) < n)
		msleep(1);

	pr_info("run: %u policies x %u threads, %u ms\n", run->npol, run->p.threads,
		run->p.duration_ms);
	sum_stats(&run->stats_before);
	lhp_ok = host_counts(&lhp0, &lwp0);
	run->start_ns = local_clock();
	WRITE_ONCE(run->go, true);
	msleep(run->p.duration_ms);
	WRITE_ONCE(run->stop, true);
	left = pvli_cmd_wait(threads, BENCH_HANG_MS);
	if (left) {
		/* A waiter that never gets the lock: the lock is broken.  Say
		 * so and leave the threads (and their memory) be. */
		pr_err("%u threads still waiting %d ms after the run ended: lock hang\n",
		       left, BENCH_HANG_MS);
		kfree(cpus);
		return pvli_cmd_fail(a, -EDEADLK, "HANG: %u threads never got the lock back", left);
	}
	run->end_ns = local_clock();
	lhp_ok = host_counts(&lhp1, &lwp1) && lhp_ok;
	sum_stats(&run->stats_after);

	seq_buf_init(&s, text, BENCH_RESULT_SIZE);
	for (unsigned int p = 0; p < run->npol; p++)
		report_policy(&s, run, &run->pol[p], lhp_ok, lhp1 - lhp0, lwp1 - lwp0);
	if (seq_buf_has_overflowed(&s))
		ret = -EOVERFLOW;

out_free:
	kfree(cpus);
	free_run(run);
	return ret;
}

static void bench_show(struct seq_file *m, const void *result)
{
	seq_puts(m, result);
}

struct pvli_cmd pvli_bench_cmd = {
	.name = "bench",
	.keys = bench_keys,
	.nkeys = ARRAY_SIZE(bench_keys),
	.usage = "no run yet: echo 'policy=P[,P...] [threads=N] [cs_ns=NS] [ncs_ns=NS] [duration_ms=MS] [locks=N] [torture=1]' > bench\n",
	.error_fmt = "{\"error\":\"%s\"}\n",
	.run = bench_run,
	.show = bench_show,
};
