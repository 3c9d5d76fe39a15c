// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every shuffler and policy decision of the lock core on scripted queues
 * and scripted host pages (guest/lock, user-space build), and the lock
 * word's transitions one thread at a time.  A queue here is built by
 * hand, as enqueuers would have left it, and one shuffler pass is checked
 * against the order the policy promises.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "shfl_lock.h"

#define NR 6

static struct shfl_node nodes[NR];

/* A scripted queue: its tail, its policy, and whether the walker's wait is over. */
struct script {
	struct shfl_queue_ops ops;
	const struct shfl_policy *pol;
	struct shfl_node *tail;
	u64 hold_ns;
	bool wait_over;
	bool swap_fails;	/* someone swaps the tail first */
};

static struct script sc;

static bool s_is_tail(const struct shfl_queue_ops *q, const struct shfl_node *curr)
{
	(void)q;
	return curr == READ_ONCE(sc.tail);
}

static bool s_prefer(const struct shfl_queue_ops *q, const struct shfl_node *shuffler,
		     const struct shfl_node *curr)
{
	(void)q;
	return sc.pol->prefer(sc.pol, shuffler, curr, sc.hold_ns);
}

static bool s_wait_over(const struct shfl_queue_ops *q, const struct shfl_node *node)
{
	(void)q;
	(void)node;
	return sc.wait_over;
}

static bool s_swap_tail(const struct shfl_queue_ops *q, struct shfl_node *old,
			struct shfl_node *new)
{
	(void)q;
	if (sc.swap_fails || sc.tail != old)
		return false;
	sc.tail = new;
	return true;
}

/* nodes[0] (the shuffler) -> nodes[1] -> ... -> nodes[n-1] = tail */
static void build_queue(const struct shfl_policy *pol, int n)
{
	shfl_sim_reset();
	memset(nodes, 0, sizeof(nodes));
	for (int i = 0; i < n; i++) {
		nodes[i].cpu = i;
		nodes[i].next = i + 1 < n ? &nodes[i + 1] : NULL;
	}
	sc = (struct script){
		.ops = { s_is_tail, s_prefer, s_wait_over, s_swap_tail },
		.pol = pol,
		.tail = &nodes[n - 1],
	};
	nodes[0].shuffler = 1;
}

static u32 pass(void)
{
	return shfl_walk_queue(&nodes[0], &sc.ops);
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
	assert_int_equal(pass(), 0);
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
	/* 2 and 4 move up; then the tail 5 too, by a tail swap (3 is the tail). */
	assert_int_equal(pass(), 3);
	assert_string_equal(order(), "024513");
	assert_ptr_equal(sc.tail, &nodes[3]);
	/* 1 was overtaken by 2, 4 and 5; 3 by 4 and 5. */
	assert_int_equal(nodes[1].bypassed, 3);
	assert_int_equal(nodes[3].bypassed, 2);
	assert_int_equal(nodes[2].bypassed, 0);
	assert_int_equal(token_holders(NR, &who), 1);
	assert_int_equal(who, 5);
}

/* A halted waiter is a kick away from running: it keeps its place. */
static void shfl_pv_keeps_halted_waiters_in_place(void **state)
{
	(void)state;
	build_queue(&shfl_policy_shfl_pv, 5);
	nodes[1].halted_on = &nodes[1].status;
	assert_int_equal(pass(), 0);
	assert_string_equal(order(), "01234");
}

/* Without a tail swap (an enqueuer may be linking behind it) the tail stays. */
static void tail_stays_when_someone_queues_behind_it(void **state)
{
	int who = -1;

	(void)state;
	build_queue(&shfl_policy_shfl_pv, 4);
	shfl_sim.preempted[1] = 1;
	shfl_sim.preempted[2] = 1;
	sc.ops.swap_tail = NULL;
	assert_int_equal(pass(), 0);
	assert_string_equal(order(), "0123");
	assert_int_equal(token_holders(4, &who), 1);
	assert_int_equal(who, 0);
	/* A swap that fails (someone queued behind 3 first): all as it was. */
	build_queue(&shfl_policy_shfl_pv, 4);
	shfl_sim.preempted[1] = 1;
	shfl_sim.preempted[2] = 1;
	sc.swap_fails = true;
	assert_int_equal(pass(), 0);
	assert_string_equal(order(), "0123");
	assert_ptr_equal(nodes[2].next, &nodes[3]);
	assert_int_equal(nodes[1].bypassed, 0);
	/* A swap that works: 3 goes up, 1 and 2 become the tail end. */
	build_queue(&shfl_policy_shfl_pv, 4);
	shfl_sim.preempted[1] = 1;
	shfl_sim.preempted[2] = 1;
	assert_int_equal(pass(), 1);
	assert_string_equal(order(), "0312");
	assert_ptr_equal(sc.tail, &nodes[2]);
	assert_null(nodes[2].next);
}

static void shfl_pv_without_channel_is_shfl(void **state)
{
	(void)state;
	build_queue(&shfl_policy_shfl_pv, NR);
	shfl_sim.preempted[1] = 1;
	shfl_sim.preempted[3] = 1;
	shfl_sim.channel_ok = false;	/* page missing, stale or garbage */
	assert_int_equal(pass(), 0);
	assert_string_equal(order(), "012345");
	assert_false(shfl_cpu_preempted(1));
}

static void shuffler_stops_at_a_waiter_overtaken_too_often(void **state)
{
	(void)state;
	build_queue(&shfl_policy_shfl_pv, NR);
	shfl_sim.preempted[2] = 1;
	nodes[2].bypassed = SHFL_MAX_BYPASS;
	/* 1 joins the batch; 2 may not be overtaken again, so 3 and 4 stay. */
	assert_int_equal(pass(), 0);
	assert_string_equal(order(), "012345");
	/* One short of the bound: overtaken once more, then the pass stops. */
	build_queue(&shfl_policy_shfl_pv, NR);
	shfl_sim.preempted[2] = 1;
	nodes[2].bypassed = SHFL_MAX_BYPASS - 1;
	assert_int_equal(pass(), 1);
	assert_string_equal(order(), "013245");
	assert_int_equal(nodes[2].bypassed, SHFL_MAX_BYPASS);
}

static void shuffler_stops_when_its_own_wait_ends(void **state)
{
	(void)state;
	build_queue(&shfl_policy_shfl_pv, NR);
	shfl_sim.preempted[1] = 1;
	sc.wait_over = true;	/* the word is free, or we are the head now */
	assert_int_equal(pass(), 1);
	assert_string_equal(order(), "021345");
}

static void shfl_quota_prefers_waiters_with_quota(void **state)
{
	(void)state;
	build_queue(&shfl_policy_shfl_quota, NR);
	sc.hold_ns = 100000;
	shfl_sim.quota_ns[1] = 50000;		/* would be preempted holding it */
	shfl_sim.quota_ns[2] = 100000;		/* just enough */
	shfl_sim.preempted[3] = 1;		/* not running at all */
	/* 4: quota unknown, treated as enough; 5 the tail moves up too */
	assert_int_equal(pass(), 3);
	assert_string_equal(order(), "024513");
}

static void quota_gate(void **state)
{
	(void)state;
	shfl_sim_reset();
	shfl_sim.quota_ns[1] = 1000;
	assert_false(shfl_quota_covers(1, 5000));
	assert_true(shfl_quota_covers(1, 1000));
	/* No estimate yet: a default hold. */
	assert_int_equal(shfl_quota_covers(1, 0), 1000 >= SHFL_DEFAULT_HOLD_NS);
	/* Unknown, or used up without a switch (a new slice): no bound. */
	shfl_sim.quota_ns[1] = SHFL_QUOTA_UNKNOWN;
	assert_true(shfl_quota_covers(1, 5000));
	shfl_sim.quota_ns[1] = 0;
	assert_true(shfl_quota_covers(1, 5000));
	/* No page: no bound. */
	shfl_sim.quota_ns[1] = 1000;
	shfl_sim.channel_ok = false;
	assert_true(shfl_quota_covers(1, 5000));
}

/* Single-threaded walk through the word: fast path, holder bits, unlock, trylock. */
static void word_transitions(void **state)
{
	struct shfl_lock lock;
	u32 before;

	(void)state;
	shfl_sim_reset();
	shfl_lock_init(&lock, &shfl_policy_shfl_pv);
	shfl_sim_set_cpu(3);
	shfl_lock(&lock);
	assert_int_equal(lock.w.val, 3 + SHFL_CPU_BIAS);
	assert_int_equal(shfl_holder_cpu(&lock), 3);
	assert_false(shfl_trylock(&lock));
	shfl_unlock(&lock);
	assert_int_equal(lock.w.val, 0);
	assert_int_equal(shfl_holder_cpu(&lock), -1);
	/* A queue exists: the kernel-style trylock (a 0 word only) fails. */
	lock.w.val = 0x00040100U;
	assert_false(shfl_trylock(&lock));
	lock.w.val = 0;
	/* A release that finds SLOW kicks the CPUs halted on the word, once each. */
	assert_true(shfl_trylock(&lock));
	lock.w.locked |= SHFL_SLOW;
	shfl_sim_set_cpu(7);
	before = shfl_sim.kick_seq[5];
	/* vCPU 5 halts on the word at nesting level 2 (say, a hardirq). */
	shfl_waiter_node(5, 2)->halted_on = &lock.w.val;
	shfl_unlock(&lock);
	shfl_waiter_node(5, 2)->halted_on = NULL;
	assert_int_equal(lock.w.val, 0);
	assert_int_equal(shfl_sim.kick_seq[5], before + 1);
	/* CPUs the holder byte cannot name: 1 ("unknown", never halted behind). */
	assert_int_equal(SHFL_MAX_HOLDER_CPU, 125);
	shfl_sim_set_cpu(0);
}

static void hold_estimate_tracks_hold_time(void **state)
{
	struct shfl_lock lock;

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

/*
 * The estimate times one hold in SHFL_HOLD_SAMPLE (a clock read on both
 * ends of every hold would lengthen every hold): the first hold (timed)
 * is short, the next SHFL_HOLD_SAMPLE - 1 (not timed) are long and leave
 * the estimate alone; the next timed one moves it.
 */
static void hold_estimate_times_one_hold_in_a_sample(void **state)
{
	struct shfl_lock lock;
	u64 first = 0;

	(void)state;
	shfl_sim_reset();
	shfl_lock_init(&lock, &shfl_policy_shfl_quota);
	for (int i = 0; i <= SHFL_HOLD_SAMPLE; i++) {
		shfl_lock(&lock);
		for (u64 t0 = shfl_now_ns(); i && shfl_now_ns() - t0 < 200000;)
			;
		shfl_unlock(&lock);
		if (i == 0)
			first = lock.hold_ns;
		if (i < SHFL_HOLD_SAMPLE)
			assert_int_equal(lock.hold_ns, first);
	}
	assert_true(first < 200000);
	assert_true(lock.hold_ns >= first + (200000 - first) / 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shfl_groups_everyone_and_moves_no_one),
		cmocka_unit_test(shfl_pv_moves_preempted_waiters_back),
		cmocka_unit_test(shfl_pv_keeps_halted_waiters_in_place),
		cmocka_unit_test(tail_stays_when_someone_queues_behind_it),
		cmocka_unit_test(shfl_pv_without_channel_is_shfl),
		cmocka_unit_test(shuffler_stops_at_a_waiter_overtaken_too_often),
		cmocka_unit_test(shuffler_stops_when_its_own_wait_ends),
		cmocka_unit_test(shfl_quota_prefers_waiters_with_quota),
		cmocka_unit_test(quota_gate),
		cmocka_unit_test(word_transitions),
		cmocka_unit_test(hold_estimate_times_one_hold_in_a_sample),
		cmocka_unit_test(hold_estimate_tracks_hold_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
