// SPDX-License-Identifier: GPL-2.0-only
/*
 * Multi-thread stress of every lock in the core (user-space build), with
 * random critical sections, random simulated vCPU preemptions and
 * simulated interrupts that take other locks while a waiter is about to
 * halt:
 *
 * - 8 worker threads, each a "vCPU", lock, check and update shared state
 *   non-atomically, unlock, repeat;
 * - one hold in 64 is preempted mid-section for 50 .. 550 us; a
 *   preempter thread stops random workers, and half the time the current
 *   holder, for 50 us .. 2 ms, marks them preempted in the simulated page,
 *   hands out random run quotas and now and then takes the page away;
 * - every halt may first run an "interrupt" on the same vCPU (the sim's
 *   on_halt hook) that takes and releases a second lock, halting on it
 *   too: the nesting that per-node halt state exists for;
 * - the kernel's own paths on the same word (the takeover's case):
 *   virt_spin_lock()'s test-and-set of a zero word, inline arch_spin_lock()
 *   users (queued_spin_lock()'s cmpxchg of a zero word, then the replaced
 *   slow path), all naming nobody, and the inline unlock, a plain store
 *   that kicks nobody.  Nothing plays the tick: a waiter may halt only
 *   behind a holder whose release kicks;
 * - checks: no two threads inside at once (owner field), no lost update
 *   (shared counter == sum of acquisitions), every thread got the lock,
 *   no lost kick (a halt ends after HALT_TIMEOUT_MS without one; if no
 *   kick has come SHFL_SIM_KICK_GRACE_NS later, the halt counts in
 *   shfl_sim.stale_halts, which must stay 0: a lost kick fails the test
 *   where it happened, not only when it is the run's last and hangs it),
 *   nobody hangs (the alarm), and the pv paths really ran (halts and
 *   kicks > 0);
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

#include "shfl_lock.h"
#include "pvspin_lock.h"

#define WORKERS 8
/*
 * A halt no kick ended looks again after this long (then waits the
 * grace for a late kick, see halt_sleep()).  Without it a lost kick
 * would only show when no later release with SLOW set happened to kick
 * the forgotten waiter too (kick_halted() kicks every CPU halted on the
 * word): at the run's end.
 */
#define HALT_TIMEOUT_MS	20

/*
 * K_WORD: the takeover's waiting on a bare lock word, each acquisition by
 * one of its paths at random: queued (kernel shfl-pv), test-and-set with
 * halts (kernel tas-pv: callers that may not queue), the kernel's own
 * virt_spin_lock() and inline queued_spin_lock() users with the
 * plain-store unlock (word_lock()).
 */
enum kind { K_SHFL, K_PVSPIN, K_MCS, K_WORD, K_BROKEN };

struct run {
	enum kind kind;
	const struct shfl_policy *policy;
	const char *name;
	struct shfl_lock shfl;
	struct pvspin_lock pv;
	struct mcs_lock mcs;
	struct shfl_word word;
	bool nest;			/* simulated interrupts take irq_lock */
	volatile int stop;
	volatile int stop_preempter;
	int owner;			/* -1 or the worker inside */
	u64 shared;			/* updated non-atomically inside */
	u64 violations;
	u64 count[WORKERS];
	u64 nested[WORKERS];		/* interrupts that took irq_lock or the word */
	u64 irq_count[WORKERS];		/* K_WORD: acquisitions by those interrupts */
	u32 seed;
};

/* The lock the simulated interrupts take, and who holds it. */
static struct shfl_lock irq_lock;
static int irq_owner = -1;
static u64 irq_violations;
/* K_WORD: interrupts that took the word their context waited for. */
static u64 irq_words;
static struct run *cur_run;
static __thread bool in_irq;
static __thread u32 irq_seed;
/* K_WORD: the word this thread waits for with interrupts on (path 5). */
static __thread struct shfl_word *waits_irqs_on;

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

/*
 * A critical section's ends: @owner is -1 outside, @cpu inside; a
 * mismatch at either end is another thread inside at the same time.
 */
static void enter(int *owner, u64 *violations, int cpu)
{
	if (__atomic_load_n(owner, __ATOMIC_RELAXED) != -1)
		__atomic_fetch_add(violations, 1, __ATOMIC_RELAXED);
	__atomic_store_n(owner, cpu, __ATOMIC_RELAXED);
}

static void leave(int *owner, u64 *violations, int cpu)
{
	if (__atomic_load_n(owner, __ATOMIC_RELAXED) != cpu)
		__atomic_fetch_add(violations, 1, __ATOMIC_RELAXED);
	__atomic_store_n(owner, -1, __ATOMIC_RELAXED);
}

/*
 * The kernel-word stress's critical section, for an interrupt that takes
 * the word (see interrupt()); the worker's own is in worker().
 */
static void word_section(struct run *r, int cpu)
{
	enter(&r->owner, &r->violations, cpu);
	u64 v = r->shared;
	busy(xorshift(&irq_seed) % 500);
	r->shared = v + 1;
	leave(&r->owner, &r->violations, cpu);
	r->irq_count[cpu]++;
}

/*
 * An interrupt on this vCPU right before it halts (one halt in 4): take
 * and release irq_lock, itself a shfl-pv lock, so that its waiters queue
 * and halt on a nested node of the same vCPU.  If the interrupted context
 * waits for the kernel word with interrupts on (path 5), the handler
 * takes that same word instead, every time (path 5's halts are few, and
 * the test checks this ran): a handler that wants the lock its
 * interrupted context waits for, why such waiters may not queue.  It
 * waits by test-and-set with halts on a nested node, and its release
 * must kick the others but not its own vCPU (kick_halted()).  That
 * models a softirq, or the takeover with its queue off: a hardirq
 * handler in the kernel never halts (interrupts are off), and with the
 * queue on it would queue; that case is not stressed here.
 */
static void interrupt(int cpu)
{
	struct run *r = cur_run;
	struct shfl_word *w = waits_irqs_on;

	if (in_irq || !r || !r->nest || (!w && xorshift(&irq_seed) % 4))
		return;
	in_irq = true;
	if (w) {
		if (!shfl_word_trylock(w))
			shfl_word_lock_slowpath(w, &shfl_policy_kernel_tas_pv, 0, 0);
		word_section(r, cpu);
		shfl_word_unlock(w);
		r->nested[cpu]++;
		__atomic_fetch_add(&irq_words, 1, __ATOMIC_RELAXED);
		in_irq = false;
		return;
	}
	shfl_lock(&irq_lock);
	enter(&irq_owner, &irq_violations, cpu);
	busy(xorshift(&irq_seed) % 500);
	leave(&irq_owner, &irq_violations, cpu);
	shfl_unlock(&irq_lock);
	r->nested[cpu]++;
	in_irq = false;
}

struct worker_arg {
	struct run *run;
	int id;
};

/*
 * K_WORD: paths 0-3 queue, 4-5 test-and-set with halts (5: with
 * interrupts on while waiting), 6 the kernel's own virt_spin_lock(), 7
 * and 8 an inline arch_spin_lock() user: queued_spin_lock()'s fast path,
 * then the replaced slow path, whose policy is kernel shfl-pv (7) or,
 * with the takeover's queue off, kernel tas-pv (8); 6 to 8 take the word
 * naming nobody (SHFL_UNKNOWN_HOLDER, the kernel's _Q_LOCKED_VAL) and
 * release it with the kernel's plain store.  Path 7 once named itself
 * in its fast path (shfl_word_trylock()), which the kernel never does:
 * waiters halted behind it, its plain store kicked none of them, and
 * only this test's old simulated tick woke them, until the run's end,
 * when a last such halt hung the test.
 */
static void word_lock(struct shfl_word *w, u32 path)
{
	if (path < 6 && shfl_word_trylock(w))
		return;
	if (path < 4) {
		shfl_word_lock_slowpath(w, &shfl_policy_kernel_shfl_pv, 0, 0);
	} else if (path == 4) {
		shfl_word_lock_slowpath(w, &shfl_policy_kernel_tas_pv, 0, 0);
	} else if (path == 5) {
		waits_irqs_on = w;
		shfl_word_lock_slowpath(w, &shfl_policy_kernel_tas_pv, 0, SHFL_WAIT_IRQS_ON);
		waits_irqs_on = NULL;
	} else if (path == 6) {
		/* virt_spin_lock(): only a whole word of 0, and it names nobody. */
		while (READ_ONCE(w->val) || cmpxchg_acquire(&w->val, 0, SHFL_UNKNOWN_HOLDER))
			cpu_relax();
	} else if (READ_ONCE(w->val) || cmpxchg_acquire(&w->val, 0, SHFL_UNKNOWN_HOLDER)) {
		/* queued_spin_lock(): its fast path failed; the replaced slow path. */
		shfl_word_lock_slowpath(w, path == 7 ? &shfl_policy_kernel_shfl_pv :
					&shfl_policy_kernel_tas_pv, 0, SHFL_WAIT_ANONYMOUS);
	}
}

static void word_unlock(struct shfl_word *w, u32 path)
{
	if (path >= 6)
		smp_store_release(&w->locked, 0);	/* queued_spin_unlock() */
	else
		shfl_word_unlock(w);
}

static void *worker(void *p)
{
	struct worker_arg *a = p;
	struct run *r = a->run;
	u32 seed = r->seed * 2654435761U + a->id + 1;
	struct mcs_node mnode;

	shfl_sim_set_cpu(a->id);
	irq_seed = seed ^ 0x5bd1e995;
	while (!READ_ONCE(r->stop)) {
		u32 path = xorshift(&seed) % 9;

		switch (r->kind) {
		case K_SHFL: shfl_lock(&r->shfl); break;
		case K_PVSPIN: pvspin_lock(&r->pv); break;
		case K_MCS: mcs_lock(&r->mcs, &mnode); break;
		case K_WORD: word_lock(&r->word, path); break;
		case K_BROKEN: break;
		}

		enter(&r->owner, &r->violations, a->id);
		u64 v = r->shared;
		busy(xorshift(&seed) % 2000);
		/* One hold in 64: the holder's vCPU is preempted mid-section. */
		if (xorshift(&seed) % 64 == 0) {
			shfl_sim_preempt(a->id, true);
			sleep_us(50 + xorshift(&seed) % 500);
			shfl_sim_preempt(a->id, false);
		}
		r->shared = v + 1;
		leave(&r->owner, &r->violations, a->id);

		switch (r->kind) {
		case K_SHFL: shfl_unlock(&r->shfl); break;
		case K_PVSPIN: pvspin_unlock(&r->pv); break;
		case K_MCS: mcs_unlock(&r->mcs, &mnode); break;
		case K_WORD: word_unlock(&r->word, path); break;
		case K_BROKEN: break;
		}
		r->count[a->id]++;
		busy(xorshift(&seed) % 4000);
	}
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
		case 1: quota = 1 + xorshift(&seed) % 300; break;
		default: quota = 1000000 + xorshift(&seed) % 1000000; break;
		}
		WRITE_ONCE(shfl_sim.quota_ns[xorshift(&seed) % WORKERS], quota);
		if (xorshift(&seed) % 50 == 0)
			WRITE_ONCE(shfl_sim.channel_ok, !READ_ONCE(shfl_sim.channel_ok));
		shfl_sim_preempt(victim, true);
		sleep_us(50 + xorshift(&seed) % 2000);
		shfl_sim_preempt(victim, false);
		sleep_us(xorshift(&seed) % 500);
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
	u64 sum = 0, nested = 0, stale = 0, late = 0;

	shfl_sim_reset();
	shfl_sim.on_halt = interrupt;
	shfl_sim.halt_timeout_ns = HALT_TIMEOUT_MS * 1000000ULL;
	/* Two vCPUs start with less quota than any hold: shfl-quota's case. */
	shfl_sim.quota_ns[1] = shfl_sim.quota_ns[5] = 100;
	shfl_lock_init(&irq_lock, &shfl_policy_shfl_pv);
	irq_owner = -1;
	irq_violations = 0;
	irq_words = 0;
	r->owner = -1;
	r->seed = (u32)time(NULL);
	cur_run = r;
	print_message("%s: %u s, %d workers, seed %u\n", r->name, seconds(), WORKERS, r->seed);
	if (r->policy)
		shfl_lock_init(&r->shfl, r->policy);
	pvspin_lock_init(&r->pv);
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
	cur_run = NULL;
	for (int i = 0; i < WORKERS; i++) {
		sum += r->count[i] + r->irq_count[i];
		nested += r->nested[i];
		stale += shfl_sim.stale_halts[i];
		late += shfl_sim.late_kicks[i];
	}
	print_message("  %llu acquisitions, %llu violations, shared %llu, %llu nested in"
		      " interrupts (%llu violations), %llu lost kicks, %llu late\n",
		      (unsigned long long)sum, (unsigned long long)r->violations,
		      (unsigned long long)r->shared, (unsigned long long)nested,
		      (unsigned long long)irq_violations, (unsigned long long)stale,
		      (unsigned long long)late);
}

static void check_correct(const struct run *r)
{
	u64 sum = 0;

	assert_int_equal(r->violations, 0);
	assert_int_equal(irq_violations, 0);
	for (int i = 0; i < WORKERS; i++) {
		/* Lost kicks: halts no kick ended (shfl_sim has them until the next run). */
		assert_int_equal(shfl_sim.stale_halts[i], 0);
		/* Starvation: every worker got the lock during the run (not only its interrupts). */
		assert_true(r->count[i] > 0);
		sum += r->count[i] + r->irq_count[i];
	}
	assert_int_equal(r->shared, sum);
	/* Nobody left holding, halting, or queued. */
	assert_int_equal(r->shfl.w.val, 0);
	assert_int_equal(r->pv.val, 0);
	assert_int_equal(r->word.val, 0);
	assert_int_equal(irq_lock.w.val, 0);
}

static struct run *new_run(enum kind kind, const struct shfl_policy *pol, const char *name)
{
	struct run *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->kind = kind;
	r->policy = pol;
	r->name = name;
	r->nest = kind != K_BROKEN;
	return r;
}

static struct shfl_stats diff(const struct shfl_stats *a, const struct shfl_stats *b)
{
	return (struct shfl_stats){
		.acquired = a->acquired - b->acquired,
		.stolen = a->stolen - b->stolen,
		.queued = a->queued - b->queued,
		.halts = a->halts - b->halts,
		.kicks = a->kicks - b->kicks,
		.shuffles = a->shuffles - b->shuffles,
		.shuffle_walks = a->shuffle_walks - b->shuffle_walks,
		.holder_preempted = a->holder_preempted - b->holder_preempted,
		.urgent = a->urgent - b->urgent,
		.quota_waits = a->quota_waits - b->quota_waits,
	};
}

/* Stress one correct lock, check it and print its event totals (set @set). */
static struct shfl_stats stress_correct(enum kind kind, const struct shfl_policy *pol,
					const char *name, unsigned int set)
{
	struct run *r = new_run(kind, pol, name);
	struct shfl_stats before, after, t;

	shfl_stats(set, &before);
	stress(r);
	check_correct(r);
	shfl_stats(set, &after);
	t = diff(&after, &before);
	print_message("  acquired %llu queued %llu stolen %llu halts %llu kicks %llu shuffles %llu"
		      " holder-preempted %llu urgent %llu quota-waits %llu\n",
		      (unsigned long long)t.acquired, (unsigned long long)t.queued,
		      (unsigned long long)t.stolen, (unsigned long long)t.halts,
		      (unsigned long long)t.kicks, (unsigned long long)t.shuffles,
		      (unsigned long long)t.holder_preempted, (unsigned long long)t.urgent,
		      (unsigned long long)t.quota_waits);
	free(r);
	return t;
}

static void stress_shfl(void **state)
{
	struct shfl_stats t = stress_correct(K_SHFL, &shfl_policy_shfl, "shfl", SHFL_STATS_LOCKS);

	(void)state;
	assert_true(t.queued > 0);
}

static void stress_shfl_pv(void **state)
{
	struct shfl_stats t = stress_correct(K_SHFL, &shfl_policy_shfl_pv, "shfl-pv",
					     SHFL_STATS_LOCKS);

	(void)state;
	/* Preempted holders and waiters happened: the pv paths ran. */
	assert_true(t.holder_preempted > 0);
	assert_true(t.halts > 0);
	assert_true(t.kicks > 0);
	assert_true(t.stolen > 0);
	assert_true(t.queued > 0);
}

static void stress_shfl_quota(void **state)
{
	struct shfl_stats t = stress_correct(K_SHFL, &shfl_policy_shfl_quota, "shfl-quota",
					     SHFL_STATS_LOCKS);

	(void)state;
	assert_true(t.halts > 0);
	assert_true(t.quota_waits > 0);
}

static void stress_tas_pv(void **state)
{
	struct shfl_stats t = stress_correct(K_SHFL, &shfl_policy_tas_pv, "tas-pv",
					     SHFL_STATS_LOCKS);

	(void)state;
	assert_true(t.halts > 0);
	assert_true(t.kicks > 0);
}

static void stress_pvspin(void **state)
{
	struct shfl_stats t = stress_correct(K_PVSPIN, NULL, "pvspin", SHFL_STATS_LOCKS);

	(void)state;
	assert_true(t.halts > 0);
	assert_true(t.kicks > 0);
	assert_true(t.stolen > 0);
}

static void stress_word_with_kernel_paths(void **state)
{
	struct shfl_stats t = stress_correct(K_WORD, NULL, "kernel word", SHFL_STATS_KERNEL);

	(void)state;
	print_message("  %llu interrupts took the word their context waited for\n",
		      (unsigned long long)irq_words);
	assert_true(irq_words > 0);
	assert_true(t.queued > 0);
	assert_true(t.halts > 0);
	assert_true(t.kicks > 0);
}

static void stress_mcs(void **state)
{
	(void)state;
	stress_correct(K_MCS, NULL, "mcs", SHFL_STATS_LOCKS);
}

/* The checks must be able to fail: a "lock" that excludes no one. */
static void broken_lock_is_caught(void **state)
{
	struct run *r = new_run(K_BROKEN, NULL, "broken");
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
		cmocka_unit_test(stress_tas_pv),
		cmocka_unit_test(stress_pvspin),
		cmocka_unit_test(stress_word_with_kernel_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
