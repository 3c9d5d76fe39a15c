// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every shuffler and policy decision of the lock core, on scripted queues
 * and scripted host pages (guest/lock, user-space build).  A queue here is
 * built by hand, as enqueuers would have left it, and one shuffler pass or
 * one hook call is checked against the order and the answers the policy
 * promises.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "shfl_lock.h"

#define NR 6

static struct shfl_lock lock;
static struct shfl_node nodes[NR];

/* nodes[0] (the shuffler) -> nodes[1] -> ... -> nodes[n-1] = tail */
static void build_queue(const struct shfl_policy *pol, int n)
{
	shfl_sim_reset();
	memset(&shfl_stats_thread, 0, sizeof(shfl_stats_thread));
	shfl_lock_init(&lock, pol);
	memset(nodes, 0, sizeof(nodes));
	for (int i = 0; i < n; i++) {
		nodes[i].cpu = i;
		nodes[i].prev_cpu = i ? (u16)(i - 1) : SHFL_NO_CPU;
		nodes[i].next = i + 1 < n ? &nodes[i + 1] : NULL;
	}
	lock.tail = &nodes[n - 1];
	lock.word = SHFL_LOCKED | SHFL_NO_STEAL;
	lock.holder_cpu = 40;
	nodes[0].shuffler = 1;
}

/* The queue from nodes[0], as a string of CPU digits. */
static const char *order(void)
{
	static char buf[NR + 1];
	int i = 0;

	for (struct shfl_node *n = &nodes[0]; n && i < NR; n = n->next)
		buf[i++] = '0' + n->cpu;
	buf[i] = '\0';
	return buf;
}

static int token_holders(int n, int *who)
{
	int count = 0;

	for (int i = 0; i < n; i++)
		if (nodes[i].shuffler) {
			count++;
			*who = i;
		}
	return count;
}

static void shfl_groups_everyone_and_moves_no_one(void **state)
{
	int who = -1;

	(void)state;
	build_queue(&shfl_policy_shfl, NR);
	shfl_sim.preempted[2] = 1;	/* plain shfl does not look */
	assert_int_equal(shfl_shuffle(&lock, &nodes[0], false), 0);
	assert_string_equal(order(), "012345");
	/* The batch runs up to the node before the tail, which gets the token. */
	assert_int_equal(token_holders(NR, &who), 1);
	assert_int_equal(who, 4);
	for (int i = 0; i < 5; i++)
		assert_int_equal(nodes[i].batch, 1);
	assert_int_equal(nodes[5].batch, 0);
}

static void shfl_pv_moves_preempted_waiters_back(void **state)
{
	int who = -1;

	(void)state;
	build_queue(&shfl_policy_shfl_pv, NR);
	shfl_sim.preempted[1] = 1;
	shfl_sim.preempted[3] = 1;
	assert_int_equal(shfl_shuffle(&lock, &nodes[0], false), 2);
	assert_string_equal(order(), "024135");
	/* 1 was overtaken by 2 and 4, 3 by 4. */
	assert_int_equal(nodes[1].bypassed, 2);
	assert_int_equal(nodes[3].bypassed, 1);
	assert_int_equal(nodes[2].bypassed, 0);
	assert_int_equal(token_holders(NR, &who), 1);
	assert_int_equal(who, 4);
	assert_int_equal(shfl_stats_thread.shuffles, 2);
	assert_ptr_equal(lock.tail, &nodes[5]);
}

static void shfl_pv_treats_halted_waiters_as_not_running(void **state)
{
	u32 dummy;

	(void)state;
	build_queue(&shfl_policy_shfl_pv, 5);
	shfl_sim.halted_on[1] = &dummy;
	assert_int_equal(shfl_shuffle(&lock, &nodes[0], false), 2);
	assert_string_equal(order(), "02314");
}

static void shfl_pv_never_moves_the_tail(void **state)
{
	int who = -1;

	(void)state;
	build_queue(&shfl_policy_shfl_pv, 4);
	shfl_sim.preempted[1] = 1;
	shfl_sim.preempted[2] = 1;
	/* 3 runs but is the tail: an enqueuer may be linking behind it. */
	assert_int_equal(shfl_shuffle(&lock, &nodes[0], false), 0);
	assert_string_equal(order(), "0123");
	assert_int_equal(token_holders(4, &who), 1);
	assert_int_equal(who, 0);
}

static void shfl_pv_without_channel_is_shfl(void **state)
{
	(void)state;
	build_queue(&shfl_policy_shfl_pv, NR);
	shfl_sim.preempted[1] = 1;
	shfl_sim.preempted[3] = 1;
	shfl_sim.channel_ok = false;	/* page missing, stale or garbage */
	assert_int_equal(shfl_shuffle(&lock, &nodes[0], false), 0);
	assert_string_equal(order(), "012345");
	assert_false(shfl_policy_shfl_pv.should_park(&lock, &nodes[2], false, 128));
}

static void shuffler_stops_at_a_waiter_overtaken_too_often(void **state)
{
	(void)state;
	build_queue(&shfl_policy_shfl_pv, NR);
	shfl_sim.preempted[2] = 1;
	nodes[2].bypassed = SHFL_MAX_BYPASS;
	/* 1 joins the batch; 2 may not be overtaken again, so 3 and 4 stay. */
	assert_int_equal(shfl_shuffle(&lock, &nodes[0], false), 0);
	assert_string_equal(order(), "012345");
	/* One short of the bound: overtaken once more, then the pass stops. */
	build_queue(&shfl_policy_shfl_pv, NR);
	shfl_sim.preempted[2] = 1;
	nodes[2].bypassed = SHFL_MAX_BYPASS - 1;
	assert_int_equal(shfl_shuffle(&lock, &nodes[0], false), 1);
	assert_string_equal(order(), "013245");
	assert_int_equal(nodes[2].bypassed, SHFL_MAX_BYPASS);
}

static void shuffler_stops_when_its_own_wait_ends(void **state)
{
	(void)state;
	build_queue(&shfl_policy_shfl_pv, NR);
	shfl_sim.preempted[1] = 1;
	/* Head shuffler, word already free: one move, then go take the lock. */
	lock.word = SHFL_NO_STEAL;
	assert_int_equal(shfl_shuffle(&lock, &nodes[0], true), 1);
	assert_string_equal(order(), "021345");
	/* Queued shuffler that became the head: same. */
	build_queue(&shfl_policy_shfl_pv, NR);
	shfl_sim.preempted[1] = 1;
	nodes[0].status = SHFL_READY;
	assert_int_equal(shfl_shuffle(&lock, &nodes[0], false), 1);
	assert_string_equal(order(), "021345");
}

static void shfl_quota_prefers_waiters_with_quota(void **state)
{
	(void)state;
	build_queue(&shfl_policy_shfl_quota, NR);
	lock.hold_ns = 100000;
	shfl_sim.quota_ns[1] = 50000;		/* would be preempted holding it */
	shfl_sim.quota_ns[2] = 100000;		/* just enough */
	shfl_sim.preempted[3] = 1;		/* not running at all */
	/* 4: quota unknown, treated as enough */
	assert_int_equal(shfl_shuffle(&lock, &nodes[0], false), 2);
	assert_string_equal(order(), "024135");
}

static void shfl_quota_head_yields_only_when_short(void **state)
{
	const struct shfl_policy *pol = &shfl_policy_shfl_quota;

	(void)state;
	build_queue(pol, 3);
	lock.hold_ns = 0;			/* nothing learned yet */
	shfl_sim.quota_ns[0] = 1;
	assert_false(pol->should_yield(&lock, &nodes[0]));
	lock.hold_ns = 20000;
	assert_true(pol->should_yield(&lock, &nodes[0]));
	shfl_sim.quota_ns[0] = 20000;
	assert_false(pol->should_yield(&lock, &nodes[0]));
	shfl_sim.quota_ns[0] = SHFL_QUOTA_UNKNOWN;
	assert_false(pol->should_yield(&lock, &nodes[0]));
	shfl_sim.quota_ns[0] = 1;
	shfl_sim.channel_ok = false;
	assert_false(pol->should_yield(&lock, &nodes[0]));
}

static void shfl_pv_parks_only_behind_a_preempted_holder(void **state)
{
	const struct shfl_policy *pol = &shfl_policy_shfl_pv;

	(void)state;
	build_queue(pol, 3);
	lock.holder_cpu = 5;
	assert_false(pol->should_park(&lock, &nodes[1], false, 128));
	shfl_sim.preempted[5] = 1;
	assert_true(pol->should_park(&lock, &nodes[1], false, 128));
	assert_true(pol->should_park(&lock, &nodes[0], true, 128));
	lock.holder_cpu = SHFL_NO_CPU;		/* released meanwhile */
	assert_false(pol->should_park(&lock, &nodes[0], true, 128));
	lock.holder_cpu = 1;			/* our own CPU: we are not waiting on it */
	shfl_sim.preempted[1] = 1;
	assert_false(pol->should_park(&lock, &nodes[1], false, 128));
	assert_int_equal(shfl_stats_thread.holder_preempted, 2);
}

static void pvspin_spins_then_halts_and_halts_early(void **state)
{
	const struct shfl_policy *pol = &shfl_policy_pvspin;
	u32 dummy;

	(void)state;
	build_queue(pol, 3);
	assert_null(pol->prefer);		/* pvspin is FIFO */
	assert_false(pol->should_park(&lock, &nodes[0], true, SHFL_SPIN_THRESHOLD - 128));
	assert_true(pol->should_park(&lock, &nodes[0], true, SHFL_SPIN_THRESHOLD));
	assert_false(pol->should_park(&lock, &nodes[2], false, 128));
	/* pv_wait_early: predecessor halted ... */
	shfl_sim.halted_on[1] = &dummy;
	assert_true(pol->should_park(&lock, &nodes[2], false, 128));
	shfl_sim.halted_on[1] = NULL;
	/* ... or, from the channel, preempted. */
	shfl_sim.preempted[1] = 1;
	assert_true(pol->should_park(&lock, &nodes[2], false, 128));
	/* The head has no predecessor to wait on. */
	assert_false(pol->should_park(&lock, &nodes[0], true, 128));
}

/* Single-threaded walk through the word: fast path, unlock, trylock. */
static void word_transitions(void **state)
{
	(void)state;
	shfl_sim_reset();
	shfl_lock_init(&lock, &shfl_policy_shfl_pv);
	shfl_sim_set_cpu(3);
	shfl_lock(&lock);
	assert_int_equal(lock.word, SHFL_LOCKED);
	assert_int_equal(lock.holder_cpu, 3);
	assert_false(shfl_trylock(&lock));
	shfl_unlock(&lock);
	assert_int_equal(lock.word, 0);
	assert_int_equal(lock.holder_cpu, SHFL_NO_CPU);
	assert_true(shfl_trylock(&lock));
	/* A queue has formed: newcomers may not steal a free word. */
	lock.word |= SHFL_NO_STEAL;
	shfl_unlock(&lock);
	assert_int_equal(lock.word, SHFL_NO_STEAL);
	assert_false(shfl_trylock(&lock));
	lock.word = 0;
	/* Unlock of a word with SLOW kicks kick_cpu and clears SLOW. */
	assert_true(shfl_trylock(&lock));
	lock.word |= SHFL_SLOW;
	lock.kick_cpu = 7;
	u32 before = shfl_sim.kick_seq[7];
	shfl_unlock(&lock);
	assert_int_equal(lock.word, 0);
	assert_int_equal(shfl_sim.kick_seq[7], before + 1);
	shfl_sim_set_cpu(0);
}

static void hold_estimate_tracks_hold_time(void **state)
{
	(void)state;
	shfl_sim_reset();
	shfl_lock_init(&lock, &shfl_policy_shfl_quota);
	for (int i = 0; i < 64; i++) {
		shfl_lock(&lock);
		for (u64 t0 = shfl_now_ns(); shfl_now_ns() - t0 < 200000;)
			;
		shfl_unlock(&lock);
	}
	/* Held >= 200 us each time: the estimate converges above that. */
	assert_true(lock.hold_ns >= 200000);
	assert_true(lock.hold_ns < 50 * 1000000ULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shfl_groups_everyone_and_moves_no_one),
		cmocka_unit_test(shfl_pv_moves_preempted_waiters_back),
		cmocka_unit_test(shfl_pv_treats_halted_waiters_as_not_running),
		cmocka_unit_test(shfl_pv_never_moves_the_tail),
		cmocka_unit_test(shfl_pv_without_channel_is_shfl),
		cmocka_unit_test(shuffler_stops_at_a_waiter_overtaken_too_often),
		cmocka_unit_test(shuffler_stops_when_its_own_wait_ends),
		cmocka_unit_test(shfl_quota_prefers_waiters_with_quota),
		cmocka_unit_test(shfl_quota_head_yields_only_when_short),
		cmocka_unit_test(shfl_pv_parks_only_behind_a_preempted_holder),
		cmocka_unit_test(pvspin_spins_then_halts_and_halts_early),
		cmocka_unit_test(word_transitions),
		cmocka_unit_test(hold_estimate_tracks_hold_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
