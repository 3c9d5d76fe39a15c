// SPDX-License-Identifier: GPL-2.0-only
/*
 * Scripted multi-thread scenarios of the lock core (user-space build):
 * each arranges a queue and a host page step by step and checks who gets
 * the lock next, so a policy's promise is tested as behaviour, with a
 * plain policy (or no page) as the control that must not show it.  The
 * races a review found in the first lock core each have a scenario here
 * that the old core fails (see the test names).
 *
 * Threads are simulated vCPUs (shim_user.h): vCPU 7 is this thread, the
 * holder; waiters are vCPUs 0-6.
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

#define MAXT 8
#define HOLDER 7

enum lock_kind { L_SHFL, L_WORD, L_PVSPIN };

static enum lock_kind kind;
static struct shfl_lock lock;		/* L_SHFL */
static struct shfl_word word;		/* L_WORD: the kernel's word */
static const struct shfl_policy *word_pol;
static struct pvspin_lock pvl;		/* L_PVSPIN */
static int order[MAXT];
static int norder;
static volatile int release_now[MAXT];

struct waiter {
	pthread_t tid;
	int cpu;
};

static void take(void)
{
	switch (kind) {
	case L_SHFL:
		shfl_lock(&lock);
		break;
	case L_WORD:
		if (!shfl_word_trylock(&word))
			shfl_word_lock_slowpath(&word, word_pol, 0, 0);
		break;
	case L_PVSPIN:
		pvspin_lock(&pvl);
		break;
	}
}

static void let_go(void)
{
	switch (kind) {
	case L_SHFL:
		shfl_unlock(&lock);
		break;
	case L_WORD:
		shfl_word_unlock(&word);
		break;
	case L_PVSPIN:
		pvspin_unlock(&pvl);
		break;
	}
}

static u32 word_val(void)
{
	return kind == L_SHFL ? READ_ONCE(lock.w.val) : kind == L_WORD ? READ_ONCE(word.val)
								   : READ_ONCE(pvl.val);
}

static u32 *word_ptr(void)
{
	return kind == L_SHFL ? &lock.w.val : kind == L_WORD ? &word.val : &pvl.val;
}

static void *waiter_main(void *p)
{
	struct waiter *w = p;

	shfl_sim_set_cpu(w->cpu);
	take();
	order[__atomic_fetch_add(&norder, 1, __ATOMIC_SEQ_CST)] = w->cpu;
	while (!READ_ONCE(release_now[w->cpu]))
		cpu_relax();
	let_go();
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

static u64 queued_base[SHFL_SIM_MAX_CPUS];

static u64 queued_by(int cpu)
{
	return READ_ONCE(shfl_stats_pcpu[cpu].set[SHFL_STATS_LOCKS].queued) +
	       READ_ONCE(shfl_stats_pcpu[cpu].set[SHFL_STATS_KERNEL].queued);
}

/* Wait until vCPU @cpu has queued (its newcomer's spin is over). */
static void wait_queued(int cpu)
{
	for (int i = 0; i < 5000; i++) {
		if (queued_by(cpu) > queued_base[cpu])
			return;
		ms(1);
	}
	fail_msg("cpu %d never queued", cpu);
}

/* Wait until vCPU @cpu halts (sleeps in the sim) at least @n times. */
static void wait_halts(int cpu, u64 n)
{
	for (int i = 0; i < 5000; i++) {
		if (READ_ONCE(shfl_sim.halts[cpu]) >= n)
			return;
		ms(1);
	}
	fail_msg("cpu %d halted %llu times, want %llu", cpu,
		 (unsigned long long)READ_ONCE(shfl_sim.halts[cpu]), (unsigned long long)n);
}

/* Mark vCPU @cpu preempted and wait until it has really stopped. */
static void preempt_and_stop(int cpu)
{
	shfl_sim_preempt(cpu, true);
	for (int i = 0; i < 5000 && !READ_ONCE(shfl_sim.preempt_stops[cpu]); i++)
		ms(1);
	assert_true(READ_ONCE(shfl_sim.preempt_stops[cpu]));
}

static void reset(enum lock_kind k, const struct shfl_policy *pol)
{
	shfl_sim_reset();
	kind = k;
	shfl_lock_init(&lock, pol ? pol : &shfl_policy_shfl);
	word.val = 0;
	word_pol = pol;
	pvspin_lock_init(&pvl);
	norder = 0;
	memset(order, -1, sizeof(order));
	memset((void *)release_now, 0, sizeof(release_now));
	for (int i = 0; i < SHFL_SIM_MAX_CPUS; i++)
		queued_base[i] = queued_by(i);
	shfl_sim_set_cpu(HOLDER);
}

static void join_all(struct waiter *w, int n)
{
	for (int i = 0; i < n; i++)
		release_now[w[i].cpu] = 1;
	for (int i = 0; i < n; i++)
		pthread_join(w[i].tid, NULL);
	assert_int_equal(norder, n);
	assert_int_equal(word_val(), 0);
}

static u64 stat_of(unsigned int set, size_t off)
{
	struct shfl_stats s;

	shfl_stats(set, &s);
	return *(u64 *)((char *)&s + off);
}
#define STAT(set, field) stat_of(set, offsetof(struct shfl_stats, field))

/*
 * Holder 7; queue: 0 (the head), 1 (preempted), 2 .. @n - 1; 0 takes the
 * lock when 7 lets go.  Returns whether 2 came next, past 1 (which a FIFO
 * queue cannot do while 1 is preempted).  With @n == 3, 2 is the tail.
 */
static bool running_waiter_passes_preempted_one(enum lock_kind k, const struct shfl_policy *pol,
						bool channel, int n)
{
	struct waiter w[MAXT];
	unsigned int set = k == L_WORD ? SHFL_STATS_KERNEL : SHFL_STATS_LOCKS;
	bool reorders = channel && pol->prefer && pol->prefer != shfl_policy_shfl.prefer;
	u64 shuffles;
	bool passed;

	reset(k, pol);
	shfl_sim.channel_ok = channel;
	take();
	shuffles = STAT(set, shuffles);
	for (int i = 0; i < n; i++) {
		start(&w[i], i);
		wait_queued(i);
		if (i == 1)
			shfl_sim_preempt(1, true);
	}
	/* Where the policy reorders, let the head's shuffler do it first. */
	for (int i = 0; i < 5000 && reorders && STAT(set, shuffles) == shuffles; i++)
		ms(1);
	release_now[0] = 1;
	let_go();			/* 0 takes it and makes the next one the head */
	for (int i = 2; i < n; i++)
		release_now[i] = 1;
	passed = wait_acquired(2, 500) && order[1] == 2;
	shfl_sim_preempt(1, false);
	join_all(w, n);
	return passed;
}

static void shfl_pv_passes_a_preempted_waiter(void **state)
{
	(void)state;
	assert_true(running_waiter_passes_preempted_one(L_SHFL, &shfl_policy_shfl_pv, true, 4));
	assert_true(running_waiter_passes_preempted_one(L_WORD, &shfl_policy_kernel_shfl_pv,
							true, 4));
	/* Control: plain shfl is FIFO here, 2 waits for 1 ... */
	assert_false(running_waiter_passes_preempted_one(L_SHFL, &shfl_policy_shfl, true, 4));
	/* ... and so is shfl-pv without a page. */
	assert_false(running_waiter_passes_preempted_one(L_SHFL, &shfl_policy_shfl_pv, false, 4));
}

/*
 * A 4-vCPU guest's longest queue: holder, head, a preempted waiter and
 * the tail.  The tail goes before the preempted waiter (it becomes the
 * tail instead).
 */
static void shfl_pv_tail_passes_a_preempted_waiter(void **state)
{
	(void)state;
	assert_true(running_waiter_passes_preempted_one(L_SHFL, &shfl_policy_shfl_pv, true, 3));
	assert_true(running_waiter_passes_preempted_one(L_WORD, &shfl_policy_kernel_shfl_pv,
							true, 3));
	assert_false(running_waiter_passes_preempted_one(L_SHFL, &shfl_policy_shfl_pv, false, 3));
}

/*
 * The queue lives in the kernel's own lock word and the kernel's own
 * paths respect it: its trylock (a cmpxchg from 0) fails while a waiter
 * is queued, and its unlock (a store of 0 to the locked byte) lets the
 * queue head take the lock.
 */
static void queue_in_the_kernel_word(void **state)
{
	struct waiter w[1];
	u32 zero = 0;

	(void)state;
	reset(L_WORD, &shfl_policy_kernel_shfl_pv);
	take();
	assert_int_equal(word.val, HOLDER + SHFL_CPU_BIAS);
	start(&w[0], 0);
	wait_queued(0);
	/* tail: CPU 0 node 0; head: CPU 0; holder: CPU 7 */
	for (int i = 0; i < 5000 && READ_ONCE(word.val) != 0x00040109U; i++)
		ms(1);
	assert_int_equal(word.val, 0x00040109U);
	assert_false(__atomic_compare_exchange_n(&word.val, &zero, 1U, false,
						 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
	release_now[0] = 1;
	smp_store_release(&word.locked, 0);	/* queued_spin_unlock() */
	pthread_join(w[0].tid, NULL);
	assert_int_equal(norder, 1);
	/* 0 took it as the last in the queue (tail and head cleared), then let go. */
	assert_int_equal(word.val, 0);
}

/*
 * A waiter's quick look takes a free word with the holder bits it was
 * asked for: SHFL_WAIT_ANONYMOUS names nobody (its caller's release is
 * the kernel's plain store, which kicks no one), otherwise this CPU.
 */
static void quick_take_names_as_asked(void **state)
{
	(void)state;
	reset(L_WORD, &shfl_policy_kernel_shfl_pv);
	assert_true(shfl_policy_kernel_shfl_pv.quick_spins > 0);
	shfl_word_lock_slowpath(&word, word_pol, 0, SHFL_WAIT_ANONYMOUS);
	assert_int_equal(word.val, SHFL_UNKNOWN_HOLDER);
	smp_store_release(&word.locked, 0);	/* queued_spin_unlock() */
	shfl_word_lock_slowpath(&word, word_pol, 0, 0);
	assert_int_equal(word.val, HOLDER + SHFL_CPU_BIAS);
	shfl_word_unlock(&word);
	assert_int_equal(word.val, 0);
}

/*
 * Holder 7 is preempted.  Waiters 0 and 1 halt on the word rather than
 * spin (newcomers do not queue behind a preempted holder: a queue would
 * only order who is kicked), and 7's release kicks both.  With @queue,
 * 0 and 1 queue first (the holder runs while their spin budget runs
 * out), then 7 is preempted: 0, the head, halts on the word and 1 on its
 * node; 7's release kicks 0 (SLOW), 0 makes 1 the head and kicks it.
 */
static void waiters_halt_behind_a_preempted_holder(enum lock_kind k,
						   const struct shfl_policy *pol, bool queue)
{
	struct waiter w[2];
	unsigned int set = k == L_WORD ? SHFL_STATS_KERNEL : SHFL_STATS_LOCKS;
	u64 kicks;

	reset(k, pol);
	take();
	shfl_sim.preempted[HOLDER] = !queue;	/* the page says so; this thread goes on */
	start(&w[0], 0);
	if (queue)
		wait_queued(0);
	start(&w[1], 1);
	if (queue)
		wait_queued(1);
	shfl_sim.preempted[HOLDER] = 1;
	wait_halts(0, 1);
	wait_halts(1, 1);
	assert_true(shfl_cpu_halted_on(0, word_ptr()));
	/* 1 halts on the word too, or (queued, not the head) on its node. */
	assert_int_equal(shfl_cpu_halted_on(1, word_ptr()), !queue);
	assert_true(word_val() & SHFL_SLOW);
	assert_int_equal(queued_by(0) - queued_base[0] + queued_by(1) - queued_base[1],
			 queue ? 2 : 0);
	kicks = STAT(set, kicks);
	shfl_sim.preempted[HOLDER] = 0;
	let_go();
	release_now[0] = release_now[1] = 1;
	pthread_join(w[0].tid, NULL);
	pthread_join(w[1].tid, NULL);
	assert_int_equal(norder, 2);
	if (queue) {
		assert_int_equal(order[0], 0);
		assert_int_equal(order[1], 1);
	}
	assert_true(STAT(set, kicks) - kicks >= 2);
	assert_int_equal(word_val(), 0);
}

static void shfl_pv_waiters_halt_behind_a_preempted_holder(void **state)
{
	(void)state;
	waiters_halt_behind_a_preempted_holder(L_SHFL, &shfl_policy_shfl_pv, false);
	waiters_halt_behind_a_preempted_holder(L_WORD, &shfl_policy_kernel_shfl_pv, false);
	waiters_halt_behind_a_preempted_holder(L_SHFL, &shfl_policy_shfl_pv, true);
	waiters_halt_behind_a_preempted_holder(L_WORD, &shfl_policy_kernel_shfl_pv, true);
}

/*
 * A newcomer woken park_budget times behind a preempted holder, and each
 * time finding the word still held, queues instead of halting on the
 * word again (so that the queue bounds its wait).  Holder 7 is preempted
 * and holds on; 0 halts on the word; shfl-pv's park_budget kicks (each
 * a release it lost the word after, as far as 0 can tell) wake it; then
 * it must queue.  Returns whether it did; it is left waiting (queued or
 * halted) for the caller's release either way.
 */
static bool newcomer_queues_after_park_budget(const struct shfl_policy *pol)
{
	u64 budget = shfl_policy_shfl_pv.park_budget;
	struct waiter w[1];
	bool queued = false;

	reset(L_SHFL, pol);
	take();
	shfl_sim.preempted[HOLDER] = 1;
	start(&w[0], 0);
	for (u64 n = 1; n <= budget; n++) {
		wait_halts(0, n);
		shfl_kick(0);
	}
	/* Queued, or halted on the word once more. */
	for (int i = 0; i < 5000 && !queued && READ_ONCE(shfl_sim.halts[0]) <= budget; i++) {
		queued = queued_by(0) > queued_base[0];
		ms(1);
	}
	queued = queued_by(0) > queued_base[0];
	shfl_sim.preempted[HOLDER] = 0;
	release_now[0] = 1;
	let_go();
	join_all(w, 1);
	return queued;
}

static void starved_newcomer_queues(void **state)
{
	struct shfl_policy pol = shfl_policy_shfl_pv;

	(void)state;
	assert_true(newcomer_queues_after_park_budget(&shfl_policy_shfl_pv));
	/* Control: without the budget it halts on the word again ... */
	pol.park_budget = 0;
	assert_false(newcomer_queues_after_park_budget(&pol));
	/* ... as test-and-set always does. */
	assert_false(newcomer_queues_after_park_budget(&shfl_policy_tas_pv));
}

/*
 * Race 2 of the review: halt state was one slot per CPU, shared by the
 * nesting levels.  Waiter 0 parks on the lock behind preempted holder 7;
 * an interrupt arrives on vCPU 0 right before it halts and waits for a
 * second lock (held by vCPU 6, also preempted), parking on it too; 6 lets
 * go, the interrupt takes and releases the second lock and returns; then
 * 7 lets go.  7's release must still find vCPU 0 halted on the first
 * lock and kick it.  (With one slot per CPU the interrupt's park had
 * overwritten it and then cleared it: 0 slept until its next interrupt.)
 */
static struct shfl_lock irq_lock;
static volatile int irq_done;

static void nested_interrupt(int cpu)
{
	if (cpu != 0 || irq_done)
		return;
	irq_done = 1;
	shfl_lock(&irq_lock);
	shfl_unlock(&irq_lock);
	irq_done = 2;
}

static void *irq_lock_holder(void *arg)
{
	(void)arg;
	shfl_sim_set_cpu(6);
	shfl_lock(&irq_lock);
	while (READ_ONCE(irq_done) != 1 || !shfl_cpu_halted_on(0, &irq_lock.w.val))
		ms(1);
	shfl_sim.preempted[6] = 0;
	shfl_unlock(&irq_lock);	/* kicks vCPU 0's interrupt level */
	return NULL;
}

static void nested_halt_keeps_the_kick(void **state)
{
	struct waiter w[1];
	pthread_t holder6;

	(void)state;
	reset(L_SHFL, &shfl_policy_shfl_pv);
	shfl_lock_init(&irq_lock, &shfl_policy_shfl_pv);
	irq_done = 0;
	take();
	shfl_sim.preempted[HOLDER] = 1;
	shfl_sim.preempted[6] = 1;	/* the page says so; thread 6 goes on */
	assert_int_equal(pthread_create(&holder6, NULL, irq_lock_holder, NULL), 0);
	for (int i = 0; i < 5000 && !(READ_ONCE(irq_lock.w.val) & SHFL_LOCKED_MASK); i++)
		ms(1);
	shfl_sim.on_halt = nested_interrupt;
	start(&w[0], 0);
	pthread_join(holder6, NULL);
	/* The interrupt is over and vCPU 0 sleeps on the first lock again. */
	for (int i = 0; i < 5000 && READ_ONCE(irq_done) != 2; i++)
		ms(1);
	assert_int_equal(irq_done, 2);
	wait_halts(0, 2);
	assert_true(shfl_cpu_halted_on(0, &lock.w.val));
	shfl_sim.preempted[HOLDER] = 0;
	let_go();
	/* Kicked: it takes the lock at once, not at some later interrupt. */
	assert_true(wait_acquired(1, 2000));
	shfl_sim.on_halt = NULL;
	join_all(w, 1);
}

/*
 * The queue grants the right to compete, not ownership: with the head 0
 * preempted, a newcomer (2) takes the free word at once.  Control: plain
 * shfl (ShflLock: no stealing past a queue) makes it wait for 0.
 */
static bool newcomer_passes_a_preempted_head(const struct shfl_policy *policy)
{
	struct shfl_policy patient = *policy;
	const struct shfl_policy *pol = &patient;
	struct waiter w[2];
	bool passed;

	patient.urgent_ns = ~0ULL;
	reset(L_SHFL, pol);
	take();
	start(&w[0], 0);
	wait_queued(0);
	/* 0 has stopped: it cannot take the word as it comes free. */
	preempt_and_stop(0);
	release_now[2] = 1;
	let_go();
	start(&w[1], 2);
	passed = wait_acquired(1, 500) && order[0] == 2;
	shfl_sim_preempt(0, false);
	join_all(w, 2);
	return passed;
}

static void newcomer_takes_the_word_past_a_preempted_head(void **state)
{
	(void)state;
	assert_true(newcomer_passes_a_preempted_head(&shfl_policy_shfl_pv));
	assert_false(newcomer_passes_a_preempted_head(&shfl_policy_shfl));
}

/*
 * The bound counts every free word taken past the head, also those it
 * never saw free: head 0 is preempted (passing it is allowed) while
 * holder 7 lets go and takes the lock again 2 * urgent_bypass times, each
 * a newcomer's steal past the queue.  Back on its pCPU, 0 finds the word
 * held and must turn urgent at once (urgent_ns is endless here, so only
 * the count can make it).  A head that counted only its own failed
 * cmpxchgs lost all of them without counting one, and 7 could go on
 * passing it as long as its reads happened to find the word held.
 */
static void skips_past_a_preempted_head_count_toward_urgent(void **state)
{
	struct shfl_policy pol = shfl_policy_shfl_pv;
	struct waiter w[1];
	bool urgent = false;

	(void)state;
	pol.urgent_ns = ~0ULL;
	pol.urgent_bypass = 4;
	reset(L_SHFL, &pol);
	take();
	start(&w[0], 0);
	wait_queued(0);
	preempt_and_stop(0);
	for (u32 i = 0; i < 2 * pol.urgent_bypass; i++) {
		let_go();
		take();		/* past head 0: a steal */
	}
	assert_int_equal(norder, 0);
	shfl_sim_preempt(0, false);
	for (int i = 0; i < 1000 && !urgent; i++) {
		urgent = word_val() & SHFL_URGENT;
		ms(1);
	}
	release_now[0] = 1;
	let_go();
	join_all(w, 1);
	assert_true(urgent);
}

/*
 * The bound: once the head has turned urgent, nobody else takes a free
 * word.  Head 0 sets URGENT itself after SHFL_URGENT_NS as the head;
 * here a newcomer (2) arrives after that and must queue behind 0.  It
 * spins first (urgent_head_keeps_newcomers_spinning), but spinning
 * behind an urgent head spends its spin budget, so it queues: its own
 * wait stays bounded by the queue.
 */
static void urgent_head_is_next(void **state)
{
	struct waiter w[2];
	u64 urgent;

	(void)state;
	reset(L_SHFL, &shfl_policy_shfl_pv);
	urgent = STAT(SHFL_STATS_LOCKS, urgent);
	take();
	start(&w[0], 0);
	wait_queued(0);
	for (int i = 0; i < 5000 && !(word_val() & SHFL_URGENT); i++)
		ms(1);
	assert_true(word_val() & SHFL_URGENT);
	assert_int_equal(STAT(SHFL_STATS_LOCKS, urgent) - urgent, 1);
	start(&w[1], 2);
	wait_queued(2);		/* it could not steal; its budget ran out */
	release_now[0] = release_now[2] = 1;
	let_go();
	assert_true(wait_acquired(2, 2000));
	assert_int_equal(order[0], 0);
	assert_int_equal(order[1], 2);
	join_all(w, 2);
}

/*
 * An urgent head does not send a newcomer to the queue at once: it spins
 * (taking nothing: the bound) and takes the word once the urgent head has
 * had it, without queueing.  Unless the urgent head is preempted: then
 * spinning is no use and it queues.  Head 0 turns urgent at once
 * (urgent_ns 0); newcomer 2 comes with an endless spin budget, so only
 * the rule can make it queue.
 */
static void urgent_head_lets_newcomers_spin(bool head_preempted)
{
	struct shfl_policy pol = shfl_policy_shfl_pv;
	struct waiter w[2];

	pol.urgent_ns = 0;
	reset(L_SHFL, &pol);
	take();
	start(&w[0], 0);
	wait_queued(0);
	pol.spin_budget = ~0U;	/* from now on (0 has queued) */
	for (int i = 0; i < 5000 && !(word_val() & SHFL_URGENT); i++)
		ms(1);
	assert_true(word_val() & SHFL_URGENT);
	shfl_sim_preempt(0, head_preempted);
	start(&w[1], 2);
	if (head_preempted) {
		wait_queued(2);
	} else {
		ms(50);
		assert_int_equal(queued_by(2), queued_base[2]);
	}
	assert_int_equal(norder, 0);
	shfl_sim_preempt(0, false);
	release_now[0] = release_now[2] = 1;
	let_go();
	assert_true(wait_acquired(2, 2000));
	assert_int_equal(order[0], 0);
	assert_int_equal(order[1], 2);
	assert_int_equal(queued_by(2) - queued_base[2], head_preempted);
	join_all(w, 2);
}

static void urgent_head_keeps_newcomers_spinning(void **state)
{
	(void)state;
	urgent_head_lets_newcomers_spin(false);
	urgent_head_lets_newcomers_spin(true);
}

/*
 * The bound holds without a page too.  In the kernel word, waiters that
 * wait with interrupts on (and the tas-pv policy) test-and-set past any
 * queue that is not URGENT, page or no page; so a queued shfl-pv head
 * must turn urgent without a channel as well, and then be next.  Found by
 * review: the head set URGENT only with a live channel, and three such
 * stealers took 133k-7.3M words past it in 3 s.
 */
static void *word_waiter_main(void *p)
{
	struct waiter *w = p;
	const struct shfl_policy *pol = w->cpu == 0 ? &shfl_policy_kernel_shfl_pv
						    : &shfl_policy_kernel_tas_pv;

	shfl_sim_set_cpu(w->cpu);
	if (!shfl_word_trylock(&word))
		shfl_word_lock_slowpath(&word, pol, 0, w->cpu == 0 ? 0 : SHFL_WAIT_IRQS_ON);
	order[__atomic_fetch_add(&norder, 1, __ATOMIC_SEQ_CST)] = w->cpu;
	shfl_word_unlock(&word);
	return NULL;
}

static void head_turns_urgent_without_channel(void **state)
{
	struct waiter w[2];
	u64 urgent;
	int i;

	(void)state;
	reset(L_WORD, &shfl_policy_kernel_shfl_pv);
	shfl_sim.channel_ok = false;
	urgent = STAT(SHFL_STATS_KERNEL, urgent);
	assert_true(shfl_word_trylock(&word));
	w[0].cpu = 0;
	assert_int_equal(pthread_create(&w[0].tid, NULL, word_waiter_main, &w[0]), 0);
	wait_queued(0);
	for (i = 0; i < 5000 && !(READ_ONCE(word.val) & SHFL_URGENT); i++)
		ms(1);
	assert_true(READ_ONCE(word.val) & SHFL_URGENT);
	assert_int_equal(STAT(SHFL_STATS_KERNEL, urgent) - urgent, 1);
	/* A test-and-set waiter with interrupts on, spinning for the word. */
	w[1].cpu = 2;
	assert_int_equal(pthread_create(&w[1].tid, NULL, word_waiter_main, &w[1]), 0);
	ms(20);
	shfl_word_unlock(&word);
	pthread_join(w[0].tid, NULL);
	pthread_join(w[1].tid, NULL);
	assert_int_equal(norder, 2);
	assert_int_equal(order[0], 0);
	assert_int_equal(order[1], 2);
	assert_int_equal(word.val, 0);
}

/*
 * shfl-quota: a head whose quota will not cover a typical hold leaves a
 * free word alone (it would be preempted holding it) and a running
 * newcomer with the quota takes it; shfl-pv's head (the control, same
 * quotas) takes it itself.
 */
static void shfl_quota_head_with_short_quota_goes_second(void **state)
{
	struct shfl_policy quota = shfl_policy_shfl_quota, pv = shfl_policy_shfl_pv;
	struct waiter w[2];

	(void)state;
	/* No urgency by time here: the scenario must not depend on speed. */
	quota.urgent_ns = pv.urgent_ns = ~0ULL;

	reset(L_SHFL, &quota);
	lock.hold_ns = 50000;
	take();
	start(&w[0], 0);
	wait_queued(0);
	shfl_sim.quota_ns[0] = 1000;	/* 1 us left: less than a 50 us hold */
	release_now[0] = release_now[2] = 1;
	let_go();
	ms(100);
	assert_int_equal(norder, 0);	/* the gated head left it free */
	start(&w[1], 2);
	assert_true(wait_acquired(1, 2000));
	assert_int_equal(order[0], 2);
	shfl_sim.quota_ns[0] = SHFL_QUOTA_UNKNOWN;
	join_all(w, 2);
	assert_true(STAT(SHFL_STATS_LOCKS, quota_waits) > 0);

	reset(L_SHFL, &pv);
	lock.hold_ns = 50000;
	take();
	start(&w[0], 0);
	wait_queued(0);
	shfl_sim.quota_ns[0] = 1000;
	release_now[0] = 1;
	let_go();
	assert_true(wait_acquired(1, 2000));
	assert_int_equal(order[0], 0);
	shfl_sim.quota_ns[0] = SHFL_QUOTA_UNKNOWN;
	join_all(w, 1);
}

/*
 * tas-pv: never queues; waiters halt on the word behind a preempted
 * holder and the release kicks all of them.
 */
static void tas_pv_waiters_halt_and_are_kicked(void **state)
{
	struct waiter w[2];

	(void)state;
	reset(L_SHFL, &shfl_policy_tas_pv);
	take();
	shfl_sim.preempted[HOLDER] = 1;
	start(&w[0], 0);
	start(&w[1], 1);
	wait_halts(0, 1);
	wait_halts(1, 1);
	assert_true(shfl_cpu_halted_on(0, &lock.w.val) && shfl_cpu_halted_on(1, &lock.w.val));
	assert_int_equal(word_val() & SHFL_TAIL_MASK, 0);
	shfl_sim.preempted[HOLDER] = 0;
	let_go();
	assert_true(wait_acquired(1, 2000));
	join_all(w, 2);
	assert_int_equal(queued_by(0) - queued_base[0] + queued_by(1) - queued_base[1], 0);
}

/*
 * pvspin (qspinlock_paravirt.h): a newcomer takes the word unfairly while
 * the head is not spinning (pending clear: the head halted, hashed, with
 * _Q_SLOW_VAL); here the kicked head is preempted before it can run.
 */
static void pvspin_unfair_trylock_past_a_halted_head(void **state)
{
	struct waiter w[2];

	(void)state;
	reset(L_PVSPIN, NULL);
	take();
	start(&w[0], 0);
	wait_queued(0);
	wait_halts(0, 1);
	assert_int_equal(pvl.locked, PVSPIN_SLOW_VAL);
	assert_int_equal(pvl.pending, 0);
	shfl_sim_preempt(0, true);
	release_now[2] = 1;
	let_go();		/* SLOW: unhash, kick 0, which is preempted */
	start(&w[1], 2);
	assert_true(wait_acquired(1, 2000));
	assert_int_equal(order[0], 2);
	shfl_sim_preempt(0, false);
	join_all(w, 2);
}

/*
 * pvspin: a halted successor is not woken at hand-over but by the next
 * unlock, through _Q_SLOW_VAL and the hash (pv_kick_node()).
 */
static void pvspin_lazy_kick(void **state)
{
	struct waiter w[2];
	u64 kicks;

	(void)state;
	reset(L_PVSPIN, NULL);
	take();
	/*
	 * 0 queues as the head and stops in its spin with pending set, so
	 * that 1 queues behind it instead of spinning unfairly.
	 */
	shfl_sim.preempted[0] = 1;
	start(&w[0], 0);
	for (int i = 0; i < 5000 && !READ_ONCE(shfl_sim.preempt_stops[0]); i++)
		ms(1);
	assert_int_equal(pvl.pending, 1);
	start(&w[1], 1);
	wait_queued(1);
	shfl_sim_preempt(0, false);
	wait_halts(0, 1);
	wait_halts(1, 1);
	kicks = STAT(SHFL_STATS_LOCKS, kicks);
	let_go();		/* kicks 0, the hashed head */
	assert_true(wait_acquired(1, 2000));
	assert_int_equal(order[0], 0);
	/* 0 holds; it made 1 the head without waking it: SLOW, hashed for 1. */
	for (int i = 0; i < 5000 && READ_ONCE(pvl.locked) != PVSPIN_SLOW_VAL; i++)
		ms(1);
	assert_int_equal(pvl.locked, PVSPIN_SLOW_VAL);
	assert_int_equal(STAT(SHFL_STATS_LOCKS, kicks) - kicks, 1);
	assert_int_equal(norder, 1);
	release_now[0] = 1;	/* 0's unlock kicks 1 */
	assert_true(wait_acquired(2, 2000));
	assert_int_equal(STAT(SHFL_STATS_LOCKS, kicks) - kicks, 2);
	join_all(w, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shfl_pv_passes_a_preempted_waiter),
		cmocka_unit_test(shfl_pv_tail_passes_a_preempted_waiter),
		cmocka_unit_test(queue_in_the_kernel_word),
		cmocka_unit_test(quick_take_names_as_asked),
		cmocka_unit_test(shfl_pv_waiters_halt_behind_a_preempted_holder),
		cmocka_unit_test(starved_newcomer_queues),
		cmocka_unit_test(nested_halt_keeps_the_kick),
		cmocka_unit_test(newcomer_takes_the_word_past_a_preempted_head),
		cmocka_unit_test(skips_past_a_preempted_head_count_toward_urgent),
		cmocka_unit_test(urgent_head_is_next),
		cmocka_unit_test(urgent_head_keeps_newcomers_spinning),
		cmocka_unit_test(head_turns_urgent_without_channel),
		cmocka_unit_test(shfl_quota_head_with_short_quota_goes_second),
		cmocka_unit_test(tas_pv_waiters_halt_and_are_kicked),
		cmocka_unit_test(pvspin_unfair_trylock_past_a_halted_head),
		cmocka_unit_test(pvspin_lazy_kick),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
