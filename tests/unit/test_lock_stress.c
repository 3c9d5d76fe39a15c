// SPDX-License-Identifier: GPL-2.0-only
/*
 * Multi-thread stress of every lock in the core (user-space build), the
 * takeover's qword lock with the kernel's own paths on its word included, with
 * random critical sections and random simulated vCPU preemptions:
 *
 * - 8 worker threads, each a "vCPU", lock, check and update shared state
 *   non-atomically, unlock, repeat;
 * - one hold in 64 is preempted mid-section for 50 .. 550 us; a
 *   preempter thread stops random workers, and half the time the current
 *   holder, for 50 us .. 2 ms, marks them preempted in the simulated page, hands
 *   out random run quotas and now and then takes the page away;
 * - checks: no two threads inside at once (owner field), no lost update
 *   (shared counter == sum of acquisitions), every thread got the lock,
 *   nobody hangs (a halted waiter that is never kicked hangs: the watchdog
 *   fails the test), and the pv paths really ran (halts and kicks > 0);
 * - a deliberately broken lock proves the checks catch a violation.
 *
 * PVLI_STRESS_SECONDS sets the time per lock (default 2).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "qword_lock.h"

#define WORKERS 8

/*
 * K_QWORD: the takeover's lock in a qspinlock word, each acquisition by
 * one of its paths at random: queued (shfl-pv) or stealing with halts
 * behind a preempted holder (a waiter that may not queue).
 * K_QWORD_MIXED: the same plus the kernel's own paths on the same word,
 * virt_spin_lock()'s test-and-set and the inline unlock (a plain store
 * that kicks nobody); the preempter then also plays the timer tick.
 */
enum kind { K_SHFL, K_MCS, K_QWORD, K_QWORD_MIXED, K_BROKEN };

struct run {
	enum kind kind;
	const struct shfl_policy *policy;
	struct shfl_lock shfl;
	struct mcs_lock mcs;
	struct qword qword;
	volatile int stop;
	volatile int stop_preempter;
	int owner;			/* -1 or the worker inside */
	u64 shared;			/* updated non-atomically inside */
	u64 violations;
	u64 count[WORKERS];
	struct shfl_stats stats[WORKERS];
	u32 seed;
};

static u32 xorshift(u32 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Busy work that can be "preempted" in the middle, like guest code. */
static void busy(u32 iters)
{
	for (u32 i = 0; i < iters; i++) {
		__asm__ volatile("" ::: "memory");
		if ((i & 63) == 0)
			shfl_sim_preempt_point();
	}
}

static void sleep_us(u32 us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000L };

	nanosleep(&ts, NULL);
}

struct worker_arg {
	struct run *run;
	int id;
};

/* Paths 0-3 queue, 4-5 steal (and halt), 6-7 are the kernel's own. */
static void qword_path_lock(struct qword *w, u32 path)
{
	u32 v;

	if (path < 4) {
		if (!qword_trylock(w))
			qword_lock_queued(w);
	} else if (path < 6) {
		while (!qword_steal(w, v = READ_ONCE(w->val))) {
			if (qword_holder_preempted(v))
				qword_park(w, v);
			cpu_relax();
		}
	} else {
		/* virt_spin_lock(): only a whole word of 0, and it names nobody. */
		while (READ_ONCE(w->val) || cmpxchg_acquire(&w->val, 0, QWORD_UNKNOWN_HOLDER))
			cpu_relax();
	}
}

static void qword_path_unlock(struct qword *w, u32 path)
{
	if (path == 7)
		smp_store_release(&w->locked, 0);	/* queued_spin_unlock() */
	else
		qword_unlock(w);
}

static void *worker(void *p)
{
	struct worker_arg *a = p;
	struct run *r = a->run;
	u32 seed = r->seed * 2654435761U + a->id + 1;
	struct mcs_node mnode;

	shfl_sim_set_cpu(a->id);
	memset(&shfl_stats_thread, 0, sizeof(shfl_stats_thread));
	while (!READ_ONCE(r->stop)) {
		u32 path = xorshift(&seed) % 8;

		if (r->kind == K_SHFL)
			shfl_lock(&r->shfl);
		else if (r->kind == K_MCS)
			mcs_lock(&r->mcs, &mnode);
		else if (r->kind == K_QWORD || r->kind == K_QWORD_MIXED)
			qword_path_lock(&r->qword, r->kind == K_QWORD_MIXED ? path : path % 6);

		if (__atomic_load_n(&r->owner, __ATOMIC_RELAXED) != -1)
			__atomic_fetch_add(&r->violations, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&r->owner, a->id, __ATOMIC_RELAXED);
		u64 v = r->shared;
		busy(xorshift(&seed) % 2000);
		/* One hold in 64: the holder's vCPU is preempted mid-section. */
		if (xorshift(&seed) % 64 == 0) {
			shfl_sim_preempt(a->id, true);
			sleep_us(50 + xorshift(&seed) % 500);
			shfl_sim_preempt(a->id, false);
		}
		r->shared = v + 1;
		if (__atomic_load_n(&r->owner, __ATOMIC_RELAXED) != a->id)
			__atomic_fetch_add(&r->violations, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&r->owner, -1, __ATOMIC_RELAXED);

		if (r->kind == K_SHFL)
			shfl_unlock(&r->shfl);
		else if (r->kind == K_MCS)
			mcs_unlock(&r->mcs, &mnode);
		else if (r->kind == K_QWORD || r->kind == K_QWORD_MIXED)
			qword_path_unlock(&r->qword, r->kind == K_QWORD_MIXED ? path : path % 6);
		r->count[a->id]++;
		busy(xorshift(&seed) % 4000);
	}
	r->stats[a->id] = shfl_stats_thread;
	return NULL;
}

static void *preempter(void *p)
{
	struct run *r = p;
	u32 seed = r->seed + 77;

	while (!READ_ONCE(r->stop_preempter)) {
		int victim = xorshift(&seed) % WORKERS;
		int owner = __atomic_load_n(&r->owner, __ATOMIC_RELAXED);
		u64 quota;

		/* Half the time, preempt whoever holds the lock right now (LHP). */
		if (owner >= 0 && xorshift(&seed) % 2)
			victim = owner;
		/* Unknown, shorter than a typical hold (a few us here), or ample. */
		switch (xorshift(&seed) % 4) {
		case 0: quota = SHFL_QUOTA_UNKNOWN; break;
		case 1: quota = xorshift(&seed) % 300; break;
		default: quota = 1000000 + xorshift(&seed) % 1000000; break;
		}
		WRITE_ONCE(shfl_sim.quota_ns[xorshift(&seed) % WORKERS], quota);
		if (xorshift(&seed) % 50 == 0)
			WRITE_ONCE(shfl_sim.channel_ok, !READ_ONCE(shfl_sim.channel_ok));
		shfl_sim_preempt(victim, true);
		sleep_us(50 + xorshift(&seed) % 2000);
		shfl_sim_preempt(victim, false);
		sleep_us(xorshift(&seed) % 500);
		/* The tick: what ends a halt that a plain-store unlock did not kick. */
		if (r->kind == K_QWORD_MIXED)
			for (int i = 0; i < WORKERS; i++)
				shfl_kick(i);
	}
	for (int i = 0; i < WORKERS; i++)
		shfl_sim_preempt(i, false);
	return NULL;
}

static unsigned int seconds(void)
{
	const char *s = getenv("PVLI_STRESS_SECONDS");

	return s && atoi(s) > 0 ? (unsigned int)atoi(s) : 2;
}

static void stress(struct run *r)
{
	pthread_t tid[WORKERS], pre;
	struct worker_arg args[WORKERS];
	u64 sum = 0;

	shfl_sim_reset();
	/* Two vCPUs start with less quota than any hold: shfl-quota's case. */
	shfl_sim.quota_ns[1] = shfl_sim.quota_ns[5] = 100;
	r->owner = -1;
	r->seed = (u32)time(NULL);
	print_message("%s: %u s, %d workers, seed %u\n",
		      r->policy ? r->policy->name : r->kind == K_MCS ? "mcs" :
		      r->kind == K_QWORD ? "qword" : r->kind == K_QWORD_MIXED ? "qword+kernel" : "broken",
		      seconds(), WORKERS, r->seed);
	if (r->policy)
		shfl_lock_init(&r->shfl, r->policy);
	mcs_lock_init(&r->mcs);
	for (int i = 0; i < WORKERS; i++) {
		args[i] = (struct worker_arg){ .run = r, .id = i };
		assert_int_equal(pthread_create(&tid[i], NULL, worker, &args[i]), 0);
	}
	assert_int_equal(pthread_create(&pre, NULL, preempter, r), 0);
	sleep(seconds());
	/* Resume everyone first: a stopped holder would hold up the join. */
	WRITE_ONCE(r->stop_preempter, 1);
	pthread_join(pre, NULL);
	WRITE_ONCE(r->stop, 1);
	/* A waiter halted and never kicked never returns: the alarm catches it. */
	alarm(60);
	for (int i = 0; i < WORKERS; i++)
		pthread_join(tid[i], NULL);
	alarm(0);
	for (int i = 0; i < WORKERS; i++)
		sum += r->count[i];
	print_message("  %llu acquisitions, %llu violations, shared %llu\n",
		      (unsigned long long)sum, (unsigned long long)r->violations,
		      (unsigned long long)r->shared);
}

static void check_correct(const struct run *r)
{
	u64 sum = 0;

	assert_int_equal(r->violations, 0);
	for (int i = 0; i < WORKERS; i++) {
		/* Starvation: every worker got the lock during the run. */
		assert_true(r->count[i] > 0);
		sum += r->count[i];
	}
	assert_int_equal(r->shared, sum);
}

static struct run *new_run(enum kind kind, const struct shfl_policy *pol)
{
	struct run *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->kind = kind;
	r->policy = pol;
	return r;
}

/*
 * Stress one correct lock (@pol, or MCS when NULL), check it and print
 * its event totals.  Returns the totals.
 */
static struct shfl_stats stress_correct(enum kind kind, const struct shfl_policy *pol)
{
	struct run *r = new_run(kind, pol);
	struct shfl_stats t = { 0 }, before = { 0 }, after = { 0 };

	/* The qword lock counts per CPU inside the core, for the life of the process. */
	qword_stats(&before);
	stress(r);
	check_correct(r);
	for (int i = 0; i < WORKERS; i++)
		shfl_stats_add(&t, &r->stats[i]);
	if (kind == K_QWORD || kind == K_QWORD_MIXED) {
		qword_stats(&after);
		t.queued = after.queued - before.queued;
		t.stolen = after.stolen - before.stolen;
		t.halts = after.halts - before.halts;
		t.kicks = after.kicks - before.kicks;
		t.shuffles = after.shuffles - before.shuffles;
		t.holder_preempted = after.holder_preempted - before.holder_preempted;
		/* Nobody left holding, halting, or queued. */
		assert_int_equal(r->qword.val, 0);
	}
	print_message("  queued %llu stolen %llu halts %llu kicks %llu shuffles %llu yields %llu"
		      " holder-preempted %llu hold estimate %llu ns\n",
		      (unsigned long long)t.queued, (unsigned long long)t.stolen,
		      (unsigned long long)t.halts, (unsigned long long)t.kicks,
		      (unsigned long long)t.shuffles, (unsigned long long)t.yields,
		      (unsigned long long)t.holder_preempted,
		      (unsigned long long)r->shfl.hold_ns);
	free(r);
	return t;
}

static void stress_shfl(void **state)
{
	struct shfl_stats t = stress_correct(K_SHFL, &shfl_policy_shfl);

	(void)state;
	/* No host information used: never halts, never moves anyone. */
	assert_int_equal(t.halts, 0);
	assert_int_equal(t.shuffles, 0);
}

static void stress_shfl_pv(void **state)
{
	struct shfl_stats t = stress_correct(K_SHFL, &shfl_policy_shfl_pv);

	(void)state;
	/* Preempted holders and waiters happened: both pv paths ran. */
	assert_true(t.holder_preempted > 0);
	assert_true(t.halts > 0);
	assert_true(t.kicks > 0);
	assert_true(t.shuffles > 0);
}

static void stress_shfl_quota(void **state)
{
	struct shfl_stats t = stress_correct(K_SHFL, &shfl_policy_shfl_quota);

	(void)state;
	/* Yields need a short-quota head at the right moment: see
	 * test_lock_scenarios for the scripted case. */
	assert_true(t.halts > 0);
}

static void stress_pvspin(void **state)
{
	struct shfl_stats t = stress_correct(K_SHFL, &shfl_policy_pvspin);

	(void)state;
	assert_true(t.halts > 0);
	assert_true(t.kicks > 0);
	assert_int_equal(t.shuffles, 0);
}

static void stress_qword(void **state)
{
	struct shfl_stats t = stress_correct(K_QWORD, NULL);

	(void)state;
	/* Every path ran: queued, stolen, halted and kicked, shuffled. */
	assert_true(t.queued > 0);
	assert_true(t.stolen > 0);
	assert_true(t.halts > 0);
	assert_true(t.kicks > 0);
	assert_true(t.shuffles > 0);
}

static void stress_qword_with_kernel_paths(void **state)
{
	struct shfl_stats t = stress_correct(K_QWORD_MIXED, NULL);

	(void)state;
	assert_true(t.queued > 0);
	assert_true(t.halts > 0);
}

static void stress_mcs(void **state)
{
	(void)state;
	stress_correct(K_MCS, NULL);
}

/* The checks must be able to fail: a "lock" that excludes no one. */
static void broken_lock_is_caught(void **state)
{
	struct run *r = new_run(K_BROKEN, NULL);
	u64 sum = 0;

	(void)state;
	stress(r);
	for (int i = 0; i < WORKERS; i++)
		sum += r->count[i];
	assert_true(r->violations > 0);
	assert_true(r->shared < sum);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(broken_lock_is_caught),
		cmocka_unit_test(stress_mcs),
		cmocka_unit_test(stress_shfl),
		cmocka_unit_test(stress_shfl_pv),
		cmocka_unit_test(stress_shfl_quota),
		cmocka_unit_test(stress_pvspin),
		cmocka_unit_test(stress_qword),
		cmocka_unit_test(stress_qword_with_kernel_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
