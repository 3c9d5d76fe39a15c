// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libpvlock: the mutex.
 *
 * A test-and-set word with glibc's futex protocol plus a queue of
 * spinning waiters (pvlock_queue.c), after FlexGuard (Laforet et al.,
 * SOSP'25), with "is the holder running" answered at both levels of
 * double scheduling (pvlock_channel.h).
 *
 *   word:   0 free ──cas──> 1 locked ──xchg by a blocker──> 2 locked, sleepers
 *           unlock: xchg 0; futex wake one if it was 2
 *   holder: (cpu << 32 | tid), written by the new holder right after the
 *           take, cleared before the release (0: "not known yet", which
 *           waiters read as running for PVL_UNNAMED_MAX polls, then as
 *           not running)
 *
 * Waiting:
 *   - while the holder runs, queue and spin (the head on the word);
 *     the head polls the word with exponential backoff, 1 to
 *     PVL_POLL_MAX pauses apart: every read of the lock's cache line
 *     takes it from the holder, and a holder that releases and retakes
 *     the lock in a tight loop (sysbench's mutex test) should do so on
 *     its own cache line, as it does under glibc's mutex, whose waiters
 *     sleep.  The cost is a hand-over up to PVL_POLL_MAX pauses late,
 *     well below a critical section worth spinning for (about 1 us);
 *   - once either level descheduled the holder, leave the queue, mark
 *     the word 2 and sleep on the futex; on wake-up, look again;
 *     when it was the host, spin on while that preemption began while
 *     this waiter's vCPU ran and is younger than PVL_PARK_DELAY_NS
 *     (pvl_holder_off()), then first park a few times (park()): sleep
 *     a while on the holder record, word untouched, woken by nobody;
 *     behind a preemption older than this waiter's own run (the
 *     holder's vCPU may wait for our host CPU), or one the page cannot
 *     date, block at once (PVL_PARK_MAX says why);
 *   - a thread that slept takes the word as 2 (xchg), never as 1: other
 *     sleepers may exist, and the 2 makes the next unlock wake one.
 * That last rule is glibc's own (lll_lock): with it a sleeper is never
 * left asleep on a free lock.  Every unlock that finds 2 wakes one;
 * every woken thread either takes the lock as 2 or finds it taken and
 * sets 2 before it sleeps again.
 */
#include "pvlock_mutex.h"
#include "pvlock_queue.h"

#define took pvl_mutex_took

/*
 * Polls of a taken word whose holder is not named before a waiter
 * blocks.  With the backoff that is 1 + 2 + 4 + 8 pauses, against a
 * window of a few instructions.  Measured at 4x (four vCPUs on one host
 * CPU, sysbench mutex): without the bound, waiters polled an unnamed
 * holder 30 000 to 83 000 times per run, 0.23 to 0.52 s of spinning,
 * each time for the rest of a host slice; with it, under 100 polls and
 * under 1 ms.
 */
#define PVL_UNNAMED_MAX	4

/*
 * A waiter whose holder's vCPU the host preempted cannot get the lock
 * before the host runs that vCPU again, so it sleeps: its own vCPU
 * halts and the host CPU can go to the holder's.  Blocking on the word
 * does that too, but marks it 2, and then the holder's unlock makes a
 * futex wake of a thread whose vCPU is halted, which the waker pays for
 * in wall time: measured 0.35 to 0.4 ms per wake at 2x and 2.3 to
 * 2.8 ms at 4x (4 vCPUs on one host CPU), where the host hands its CPU
 * to the woken vCPU.  So a waiter whose holder went off while its own
 * vCPU ran (below) first parks: sleeps up to
 * PVL_PARK_NS on the holder record, without marking the word, so
 * nobody wakes it and the unlock stays a plain exchange.  It sleeps on
 * the record it found preempted, not on a fresh read: if that holder
 * released, or another thread took the lock, before the sleep starts,
 * there is no sleep (the same thread retaking it is not seen: the futex
 * compares the TID half only).  A cancelled park still counts against
 * PVL_PARK_MAX, which is what bounds how long a waiter can avoid the
 * queue of sleepers.  After PVL_PARK_MAX
 * parks it blocks as usual, woken by the unlock, so a waiter cannot be
 * passed over forever.
 *
 * Measured when every host preemption was parked behind, same guest,
 * interleaved, medians of 3 to 4 (1 s runs), parking against blocking
 * at once: 2x sysbench mutex +10% and +18%, micro -2% and +9%; 4x
 * sysbench mutex +2%, micro +4% (4x now blocks, see below).
 *
 * Only behind a holder whose vCPU the host took off while the waiter's
 * own ran (struct pvl_away's elsewhere, pvl_off_while_we_ran()) does
 * the waiter park: that holder waits for another host CPU than ours,
 * and our park's end is less likely to take anything from it (the host
 * may still move it to our CPU while we sleep).  Behind a holder that
 * went off before ours came on, or as it came on, or when the page
 * cannot tell (our own record not RUNNING, the holder named on our CPU
 * or on one the page lacks), it blocks at once: that holder may wait
 * for our host CPU (at 4x, four vCPUs on one host CPU, it does).  A
 * park is a timer: its end wakes our vCPU at a moment that has nothing
 * to do with the lock, and if the host gives the woken vCPU the CPU
 * there and then, it takes it from whoever runs on it: at 4x the
 * holder, often in the middle of its section.  The waiter then finds
 * the holder preempted once more, by itself, and parks again: a park
 * can make a fresh lock-holder preemption (not counted directly; the
 * full parks and the throughput below are what was measured).  A
 * blocked waiter is woken by the holder's unlock instead, the moment
 * the lock is free; that wake costs the unlocker the hand-over above,
 * which at 4x the park had saved.  Measured in one guest per
 * configuration, interleaved, medians of 4 paired ratios to glibc's
 * mutex (2 s runs), parking there before, blocking now (bench/RESULTS.md,
 * "Block, not park"): sysbench threads 1.63x -> 1.77x at 2x and
 * 1.21x -> 1.49x on 8 vCPUs over 2 host CPUs, micro 2.30x -> 2.52x
 * and 1.57x -> 1.91x;
 * sysbench mutex, whose sections are a few instructions and rarely
 * preempted, within its spread (1.30x -> 1.26x, 1.42x -> 1.27x); 1x
 * level.  Every park there had slept its full PVL_PARK_NS
 * (pvl_parks_full), the mark of a sleep that ended by its timer, not by
 * the lock.
 */
#define PVL_PARK_MAX	8

/* The holder record's TID half: what a parked waiter sleeps on. */
static inline uint32_t *holder_tid_word(pvlock_mutex_t *m)
{
	return (uint32_t *)&m->holder + (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__);
}

/* Park on the holder record's TID half as it was when @seen was read. */
static void park(pvlock_mutex_t *m, uint64_t seen)
{
	pvl_futex_park(holder_tid_word(m), (uint32_t)seen, PVL_PARK_NS);
}

/* glibc's lll_lock_wait: the futex level, no spinning. */
static int futex_lock(pvlock_mutex_t *m, clockid_t clock, const struct timespec *abstime)
{
	while (XCHG_ACQ(&m->word, 2) != 0) {
		PVL_STAT(blocks);
		if (pvl_futex_wait(&m->word, 2, clock, abstime) == -ETIMEDOUT)
			return ETIMEDOUT;
	}
	took(m);
	return 0;
}

int pvl_mutex_lock_slow(pvlock_mutex_t *m, clockid_t clock, const struct timespec *abstime)
{
	const struct pvl_lockref ref = { .word = &m->word, .holder = &m->holder };
	struct pvl_node **tail = (struct pvl_node **)&m->tail;
	enum pvlock_level lvl = pvl_level_now();
	struct pvl_node *n = pvl_node_get();
	uint32_t take_as = 1;		/* 2 once this thread slept */
	int ret;
	unsigned int spins = 0, unnamed, parks = 0;
	uint64_t seen;			/* the holder record @why is about */
	struct pvl_away away = { 0 };	/* watch of a host-preempted holder */

	PVL_STAT(slow);
	if (lvl == PVLOCK_LEVEL_FUTEX || !n)
		return futex_lock(m, clock, abstime);

	/*
	 * Most waits on a lock taken in a tight loop last a few
	 * instructions: poll a little before queueing, which costs two
	 * more read-modify-writes of the lock's line (the tail's).
	 */
	for (unsigned int i = 0; i < PVL_PRESPIN; i++) {
		pvl_pause();
		if (LOAD(&m->word) == 0 && CAS_ACQ(&m->word, 0, 1)) {
			took(m);
			return 0;
		}
	}

	for (;;) {
		enum pvl_run why = pvl_holder_off(&ref, lvl, &away, &seen);
		bool queued = false;

		unnamed = 0;
		if (why == PVL_RUNNING) {
			queued = true;
			pvl_queue_enter(tail, n, &ref, lvl, &away);
		}
		/* Compete for the word while the holder runs, polling with backoff. */
		for (unsigned int gap = 1;; gap = gap < PVL_POLL_MAX ? gap * 2 : gap) {
			uint32_t w = LOAD(&m->word);

			if (w == 0 && CAS_ACQ(&m->word, 0, take_as)) {
				if (queued)
					pvl_queue_leave(tail, n);
				took(m);
				return 0;
			}
			/* A short host preemption is spun out (PVL_PARK_DELAY_NS). */
			if (w == 0)
				away.since = 0;
			else if ((why = pvl_holder_off(&ref, lvl, &away, &seen)) != PVL_RUNNING)
				break;
			/*
			 * Taken but nobody named (holder 0): the holder is
			 * between its take and pvl_mutex_took(), or between
			 * its unlock's two stores, a few instructions either
			 * way, unless it was descheduled right there.  Look
			 * PVL_UNNAMED_MAX times, then block: the unlock
			 * wakes us, as for a holder known to be off.
			 */
			if (w != 0 && !LOAD(&m->holder)) {
				if (++unnamed > PVL_UNNAMED_MAX) {
					why = PVL_OFF_GUEST;
					break;
				}
			} else {
				unnamed = 0;
			}
			if (abstime && (spins += gap) >= 256) {
				spins = 0;
				if (pvl_deadline_passed(clock, abstime)) {
					if (queued)
						pvl_queue_leave(tail, n);
					return ETIMEDOUT;
				}
			}
			pvl_pause_n(gap);
			lvl = pvl_level_now();
		}
		if (queued)
			pvl_queue_leave(tail, n);
		pvl_count_off(why);
		/*
		 * The host took the holder's vCPU while ours ran: park (see
		 * PVL_PARK_NS and PVL_PARK_MAX).
		 */
		if (why == PVL_OFF_HOST && parks < PVL_PARK_MAX && away.elsewhere) {
			parks++;
			park(m, seen);
			if (abstime && pvl_deadline_passed(clock, abstime))
				return ETIMEDOUT;
			lvl = pvl_level_now();
			continue;
		}
		/* The holder is off: block until an unlock wakes us. */
		take_as = 2;
		if (XCHG_ACQ(&m->word, 2) == 0)
			break;
		PVL_STAT(blocks);
		ret = pvl_futex_wait(&m->word, 2, clock, abstime);
		if (ret == -ETIMEDOUT)
			return ETIMEDOUT;
		if (XCHG_ACQ(&m->word, 2) == 0)
			break;
		/*
		 * Woken (not a signal, not a changed word): an unlock came
		 * between, so whoever holds the lock now took it anew, even
		 * with the same holder record.
		 */
		if (ret == 0)
			away.since = 0;
		lvl = pvl_level_now();
	}
	took(m);
	return 0;
}

int pvlock_mutex_init(pvlock_mutex_t *m)
{
	m->word = 0;
	m->holder = 0;
	m->tail = NULL;
	return 0;
}

int pvlock_mutex_lock(pvlock_mutex_t *m)
{
	return pvl_mutex_lock_inline(m);
}

int pvlock_mutex_trylock(pvlock_mutex_t *m)
{
	return pvl_mutex_trylock_inline(m);
}

int pvlock_mutex_timedlock(pvlock_mutex_t *m, clockid_t clock, const struct timespec *abstime)
{
	if (likely(CAS_ACQ(&m->word, 0, 1))) {
		took(m);
		return 0;
	}
	if (!pvl_timespec_valid(abstime))
		return EINVAL;
	if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC)
		return EINVAL;
	return pvl_mutex_lock_slow(m, clock, abstime);
}

int pvlock_mutex_unlock(pvlock_mutex_t *m)
{
	return pvl_mutex_unlock_inline(m);
}
