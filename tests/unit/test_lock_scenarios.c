// SPDX-License-Identifier: GPL-2.0-only
/*
 * Scripted multi-thread scenarios of the lock core (user-space build):
 * each arranges a queue and a host page step by step and checks who gets
 * the lock next, so a policy's promise is tested as behaviour, with the
 * plain policy as the control that must not show it.  The takeover's
 * lock in a qspinlock word (qword_lock.c) runs the shfl-pv scenarios too
 * (policy NULL below), and one of its own: the queue in the kernel's word.
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

#define MAXT 8

static struct shfl_lock lock;
static struct qword qlock;	/* used instead while use_qword */
static bool use_qword;
static int order[MAXT];
static int norder;
static volatile int release_now[MAXT];
static struct shfl_stats stats[MAXT];
static struct shfl_stats *live_stats[MAXT];	/* each waiter's, while it runs */

struct waiter {
	pthread_t tid;
	int cpu;
};

static void *waiter_main(void *p)
{
	struct waiter *w = p;

	shfl_sim_set_cpu(w->cpu);
	memset(&shfl_stats_thread, 0, sizeof(shfl_stats_thread));
	__atomic_store_n(&live_stats[w->cpu], &shfl_stats_thread, __ATOMIC_SEQ_CST);
	if (use_qword && !qword_trylock(&qlock))
		qword_lock_queued(&qlock);
	else if (!use_qword)
		shfl_lock(&lock);
	order[__atomic_fetch_add(&norder, 1, __ATOMIC_SEQ_CST)] = w->cpu;
	while (!READ_ONCE(release_now[w->cpu]))
		cpu_relax();
	if (use_qword)
		qword_unlock(&qlock);
	else
		shfl_unlock(&lock);
	stats[w->cpu] = shfl_stats_thread;
	return NULL;
}

static void start(struct waiter *w, int cpu)
{
	w->cpu = cpu;
	assert_int_equal(pthread_create(&w->tid, NULL, waiter_main, w), 0);
}

static void ms(int n)
{
	struct timespec ts = { .tv_sec = n / 1000, .tv_nsec = (n % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Wait up to @limit_ms for the lock to have been taken @n times. */
static bool wait_acquired(int n, int limit_ms)
{
	for (int i = 0; i < limit_ms; i++) {
		if (__atomic_load_n(&norder, __ATOMIC_SEQ_CST) >= n)
			return true;
		ms(1);
	}
	return false;
}

static u64 qword_queued_base;	/* the qword lock's "queued" count at reset() */

static u64 qword_queued(void)
{
	struct shfl_stats q = { 0 };

	qword_stats(&q);
	return q.queued;
}

/*
 * Wait until the node of @cpu is queued: the tail (shfl_lock), or the
 * (@cpu + 1)-th to queue since reset() (qword: its shuffler may move the
 * tail up as soon as it is queued; vCPUs are started in order).
 */
static void wait_queued(int cpu)
{
	for (int i = 0; i < 5000; i++) {
		struct shfl_node *t = READ_ONCE(lock.tail);

		if (use_qword ? qword_queued() >= qword_queued_base + cpu + 1
			      : t && READ_ONCE(t->cpu) == cpu)
			return;
		ms(1);
	}
	fail_msg("cpu %d never queued", cpu);
}

/* @pol NULL: the qword lock (always shfl-pv). */
static void reset(const struct shfl_policy *pol)
{
	shfl_sim_reset();
	use_qword = !pol;
	qlock.val = 0;
	qword_queued_base = qword_queued();
	shfl_lock_init(&lock, pol ? pol : &shfl_policy_shfl);
	norder = 0;
	memset(order, -1, sizeof(order));
	memset((void *)release_now, 0, sizeof(release_now));
	memset(stats, 0, sizeof(stats));
	memset(live_stats, 0, sizeof(live_stats));
}

/* Queue waiters 0 (the head) and 1 behind the lock we hold, then wait
 * (up to 5 s) until both have halted. */
static void queue_two_until_halted(struct waiter w[2])
{
	start(&w[0], 0);
	wait_queued(0);
	start(&w[1], 1);
	wait_queued(1);
	for (int i = 0; i < 5000 && !(READ_ONCE(shfl_sim.halted_on[0]) &&
				      READ_ONCE(shfl_sim.halted_on[1])); i++)
		ms(1);
}

/*
 * Holder 7.  Queue: 0 (head, shuffler), 1, 2, ... @n - 1 (tail).  1's
 * vCPU is preempted.  Returns whether 2 got the lock while 1 was still
 * preempted.  With @n 3, 2 is the tail.
 */
/* Shuffler passes that moved someone so far (the qword lock counts per CPU). */
static u64 shuffles_seen(void)
{
	struct shfl_stats q = { 0 };

	if (!use_qword)
		return READ_ONCE(live_stats[0]->shuffles);
	qword_stats(&q);
	return q.shuffles;
}

/* The lock this thread (vCPU 7 in the scenarios) holds, whichever it is. */
static void hold(void)
{
	if (use_qword)
		assert_true(qword_trylock(&qlock));
	else
		shfl_lock(&lock);
}

static void let_go(void)
{
	if (use_qword)
		qword_unlock(&qlock);
	else
		shfl_unlock(&lock);
}

static bool running_waiter_passes_preempted_one(const struct shfl_policy *pol, bool channel,
						int n)
{
	struct waiter w[4];
	bool passed, reorders = (!pol || pol->prefer != shfl_policy_shfl.prefer) && channel;
	u64 shuffles;

	reset(pol);
	shfl_sim.channel_ok = channel;
	shfl_sim_set_cpu(7);
	hold();
	for (int i = 0; i < n; i++) {
		start(&w[i], i);
		wait_queued(i);
		if (i == 1)
			shfl_sim_preempt(1, true);
	}
	/* Where the policy reorders, let the head's shuffler do it first. */
	shuffles = use_qword ? shuffles_seen() : 0;
	for (int i = 0; i < 5000 && reorders && shuffles_seen() == shuffles; i++)
		ms(1);
	release_now[0] = release_now[2] = release_now[3] = 1;
	let_go();		/* 0 takes it and hands over */
	/* 0, then 2 if 1 was moved back; FIFO stops at 1. */
	passed = wait_acquired(2, 500) && order[1] == 2;
	shfl_sim_preempt(1, false);
	release_now[1] = 1;
	for (int i = 0; i < n; i++)
		pthread_join(w[i].tid, NULL);
	assert_int_equal(norder, n);
	shfl_sim_set_cpu(0);
	return passed;
}

static void shfl_pv_hands_over_past_a_preempted_waiter(void **state)
{
	(void)state;
	assert_true(running_waiter_passes_preempted_one(&shfl_policy_shfl_pv, true, 4));
	assert_true(stats[0].shuffles >= 1);
	/* Control: plain shfl is FIFO here, 2 waits for 1 ... */
	assert_false(running_waiter_passes_preempted_one(&shfl_policy_shfl, true, 4));
	/* ... and so is shfl-pv without a page. */
	assert_false(running_waiter_passes_preempted_one(&shfl_policy_shfl_pv, false, 4));
	assert_int_equal(stats[0].shuffles, 0);
}

static void qword_hands_over_past_a_preempted_waiter(void **state)
{
	(void)state;
	assert_true(running_waiter_passes_preempted_one(NULL, true, 4));
	/* Control: without a page the queue is FIFO. */
	assert_false(running_waiter_passes_preempted_one(NULL, false, 4));
}

/*
 * A 4-vCPU guest's longest queue: holder, head, a preempted waiter and
 * the tail.  The tail goes before the preempted waiter (it becomes the
 * tail instead); plain shfl-pv, which never moves a tail, is the control.
 */
static void qword_tail_passes_a_preempted_waiter(void **state)
{
	(void)state;
	assert_true(running_waiter_passes_preempted_one(NULL, true, 3));
	assert_false(running_waiter_passes_preempted_one(&shfl_policy_shfl_pv, true, 3));
}

/*
 * The qword queue lives in the kernel's own lock word and the kernel's
 * own paths respect it: its trylock (a cmpxchg from 0) fails while a
 * waiter is queued, and its unlock (a store of 0 to the locked byte)
 * hands the lock to the queue head.
 */
static void qword_queue_in_the_kernel_word(void **state)
{
	struct waiter w[1];
	u32 zero = 0;

	(void)state;
	reset(NULL);
	shfl_sim_set_cpu(7);
	hold();
	assert_int_equal(qlock.val, 7 + QWORD_CPU_BIAS);
	start(&w[0], 0);
	wait_queued(0);
	/* tail: CPU 0 node 0; head: CPU 0; holder: CPU 7 */
	for (int i = 0; i < 5000 && READ_ONCE(qlock.val) != 0x00040109U; i++)
		ms(1);
	assert_int_equal(qlock.val, 0x00040109U);
	assert_false(__atomic_compare_exchange_n(&qlock.val, &zero, 1U, false,
						 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
	release_now[0] = 1;
	smp_store_release(&qlock.locked, 0);	/* queued_spin_unlock() */
	pthread_join(w[0].tid, NULL);
	assert_int_equal(norder, 1);
	/* 0 took it as the last in the queue (tail and head cleared), then let go. */
	assert_int_equal(qlock.val, 0);
	shfl_sim_set_cpu(0);
}

/*
 * Holder 7 is preempted.  Waiters 0 (head) and 1 must halt rather than
 * spin, and both must be woken when 7 resumes and lets go.
 */
static void waiters_halt_behind_a_preempted_holder(const struct shfl_policy *pol)
{
	struct waiter w[2];
	struct shfl_stats q0 = { 0 }, q1 = { 0 };

	reset(pol);
	qword_stats(&q0);
	shfl_sim_set_cpu(7);
	hold();
	shfl_sim.preempted[7] = 1;	/* the page says so; this thread goes on */
	queue_two_until_halted(w);
	/* Both halted: the head on the word (SLOW / HALTED), 1 on its node. */
	assert_ptr_equal(shfl_sim.halted_on[0], use_qword ? &qlock.val : &lock.word);
	assert_non_null(shfl_sim.halted_on[1]);
	assert_true(use_qword ? qlock.locked & QWORD_HALTED : lock.word & SHFL_SLOW);
	shfl_sim.preempted[7] = 0;
	release_now[0] = release_now[1] = 1;
	let_go();
	pthread_join(w[0].tid, NULL);
	pthread_join(w[1].tid, NULL);
	assert_int_equal(norder, 2);
	assert_int_equal(order[0], 0);
	assert_int_equal(order[1], 1);
	if (use_qword) {
		qword_stats(&q1);
		/* 7's unlock kicked 0, and 0 kicked 1 at hand-over. */
		assert_true(q1.halts - q0.halts >= 2);
		assert_true(q1.kicks - q0.kicks >= 2);
		assert_int_equal(qlock.val, 0);
	} else {
		assert_true(stats[0].halts >= 1 && stats[1].halts >= 1);
		assert_true(stats[0].kicks >= 1);	/* 0 kicked 1 at hand-over */
	}
	shfl_sim_set_cpu(0);
}

static void shfl_pv_waiters_halt_behind_a_preempted_holder(void **state)
{
	(void)state;
	waiters_halt_behind_a_preempted_holder(&shfl_policy_shfl_pv);
}

static void qword_waiters_halt_behind_a_preempted_holder(void **state)
{
	(void)state;
	waiters_halt_behind_a_preempted_holder(NULL);
}

/*
 * shfl-quota: the head (0) has less quota than the lock is usually held
 * for, so it lets its successor (1) take the lock first.
 */
static void shfl_quota_head_with_short_quota_goes_second(void **state)
{
	struct waiter w[3];

	(void)state;
	reset(&shfl_policy_shfl_quota);
	lock.hold_ns = 50000;
	shfl_sim_set_cpu(7);
	shfl_lock(&lock);
	for (int i = 0; i < 3; i++) {
		start(&w[i], i);
		wait_queued(i);
	}
	/* 0's quota runs short: it requeues behind 2. */
	shfl_sim.quota_ns[0] = 1000;
	wait_queued(0);
	release_now[0] = release_now[1] = release_now[2] = 1;
	shfl_unlock(&lock);
	for (int i = 0; i < 3; i++)
		pthread_join(w[i].tid, NULL);
	assert_int_equal(order[0], 1);
	assert_true(stats[0].yields >= 1);
	shfl_sim_set_cpu(0);
}

/*
 * pvspin: a waiter behind a halted predecessor halts early; a halted
 * successor is not woken at hand-over but by the unlock (lazy kick).
 */
static void pvspin_lazy_kick(void **state)
{
	struct waiter w[2];

	(void)state;
	reset(&shfl_policy_pvspin);
	shfl_sim_set_cpu(7);
	shfl_lock(&lock);
	/* The head spins SHFL_SPIN_THRESHOLD times, then both halt. */
	queue_two_until_halted(w);
	assert_non_null(shfl_sim.halted_on[0]);
	assert_non_null(shfl_sim.halted_on[1]);
	shfl_unlock(&lock);		/* kicks 0; 0 takes it, 1 stays halted */
	assert_true(wait_acquired(1, 5000));
	/* 0 holds; 1 is the head now but still halted, and SLOW is set for it. */
	for (int i = 0; i < 5000 && !(READ_ONCE(lock.word) & SHFL_SLOW); i++)
		ms(1);
	assert_true(lock.word & SHFL_SLOW);
	assert_int_equal(lock.kick_cpu, 1);
	assert_non_null(shfl_sim.halted_on[1]);	/* not woken at hand-over */
	assert_int_equal(norder, 1);
	release_now[0] = release_now[1] = 1;
	pthread_join(w[0].tid, NULL);	/* 0's unlock kicks 1 */
	pthread_join(w[1].tid, NULL);
	assert_int_equal(norder, 2);
	shfl_sim_set_cpu(0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shfl_pv_hands_over_past_a_preempted_waiter),
		cmocka_unit_test(shfl_pv_waiters_halt_behind_a_preempted_holder),
		cmocka_unit_test(shfl_quota_head_with_short_quota_goes_second),
		cmocka_unit_test(pvspin_lazy_kick),
		cmocka_unit_test(qword_queue_in_the_kernel_word),
		cmocka_unit_test(qword_hands_over_past_a_preempted_waiter),
		cmocka_unit_test(qword_tail_passes_a_preempted_waiter),
		cmocka_unit_test(qword_waiters_halt_behind_a_preempted_holder),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
