/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * libpvlock internals: waiting behind a holder (pvlock_queue.c): who
 * holds a lock and whether it runs, the watch of a host-preempted
 * holder, and the queue of spinning waiters.
 */
#ifndef __PVLOCK_QUEUE_H
#define __PVLOCK_QUEUE_H

#include "pvlock_channel.h"
#include "pvlock_futex.h"

/* ---- watching a host-preempted holder -------------------------------------- */
/*
 * A waiter parks only once it has watched its holder's vCPU stay
 * preempted this long, counted from the first look that found it off,
 * if the host took that vCPU off while the waiter's own ran
 * (pvl_off_while_we_ran(); else it stops spinning at once: the
 * spinlock's waiter parks, the mutex's blocks).  The kernel locks'
 * lock_park_delay_ns is the same delay, without that condition.  Most
 * host preemptions at 1x are a host thread's few tens of us (QEMU's own
 * threads, a kworker): a park then sleeps its whole PVL_PARK_NS past the
 * holder's return, where a spinning waiter would have had the lock.
 * Measured in one guest, variants interleaved, 1 s runs, median of the
 * per-repetition ratio against no delay (bench/RESULTS.md, "Spinlocks"):
 * 1x micro and micro-spin 1.05 and 1.04, every one of 8 repetitions
 * ahead; 2x and 4x level (at 4x no watch ever begins).  A 1 ms delay,
 * without the condition, cost 2x and 4x up to 18%.
 */
#define PVL_PARK_DELAY_NS	50000
/* PVL_PARK_DELAY_NS; a variable so that tests can change it. */
extern int64_t pvl_park_delay_ns PVL_HIDDEN;
/* Watches begun: looks that found a holder's vCPU off and started the delay. */
extern uint64_t pvl_park_delays PVL_HIDDEN;

/*
 * One waiter's watch of its holder's host preemption.  The clock is read
 * when a watch begins and then every PVL_AWAY_CLOCK_EVERY looks: without
 * a vDSO clock a read is a system call.
 */
#define PVL_AWAY_CLOCK_EVERY	8
struct pvl_away {
	uint64_t holder;	/* the holder record (the spinlock's word) watched */
	uint64_t since;		/* CLOCK_MONOTONIC ns it was first seen off; 0 none */
	unsigned int looks;	/* since the last clock read */
	bool expired;		/* the delay has passed: park (until the watch ends) */
	/*
	 * The last look that found the holder's vCPU preempted found it
	 * preempted while ours ran (pvl_off_while_we_ran()): the mutex
	 * parks only then.
	 */
	bool elsewhere;
};

/*
 * The host preempted the vCPU of @holder: has this waiter watched it
 * stay off for pvl_park_delay_ns?  A new holder starts a new watch; the
 * caller ends one (since = 0) when it sees the holder running or the
 * word free, and after a futex wake (an unlock came between: any holder
 * now is a new one).  Without a clock it parks at once, as with no
 * delay.
 */
static inline bool pvl_away_long(struct pvl_away *a, uint64_t holder)
{
	int64_t delay = LOAD(&pvl_park_delay_ns);
	uint64_t now;

	if (delay <= 0)
		return true;
	if (a->since && a->holder == holder) {
		if (a->expired)
			return true;
		if (++a->looks < PVL_AWAY_CLOCK_EVERY)
			return false;
	}
	a->looks = 0;
	now = pvl_now_ns();
	if (!now)
		return true;
	if (!a->since || a->holder != holder) {
		a->holder = holder;
		a->since = now;
		a->expired = false;
		__atomic_fetch_add(&pvl_park_delays, 1, __ATOMIC_RELAXED);
	}
	a->expired = now - a->since >= (uint64_t)delay;
	return a->expired;
}

/* ---- the waiters' queue (pvlock_queue.c) ------------------------------------ */
/*
 * Who holds a lock, for waiters: a mutex keeps (cpu << 32 | tid) beside
 * its word, a spinlock packs (cpu << 22 | tid) into its word.
 */
struct pvl_lockref {
	const uint32_t *word;
	const uint64_t *holder;		/* NULL: decode the word */
};

#define PVL_SPIN_TID_BITS	22	/* PID_MAX_LIMIT on 64-bit is 1 << 22 */
#define PVL_SPIN_CPU_NONE	((1u << (32 - PVL_SPIN_TID_BITS)) - 1)

/*
 * Whether the holder of @r runs (pvl_thread_state() of the CPU and
 * thread it names), and *@seen is the holder record it classified
 * (for a lock without one, the word; 0: none named): a mutex waiter
 * that parks sleeps on its TID half (a spinlock waiter on the word), so
 * that a release, or a take by another thread, after the look and
 * before the sleep cancels the park.  For the mutex, the same thread
 * taking the lock again (on another CPU, say) does not: the futex
 * compares 32 bits, and the CPU is in the other half.
 */
static inline enum pvl_run pvl_holder_state_seen(const struct pvl_lockref *r,
						 enum pvlock_level lvl, uint64_t *seen)
{
	uint32_t cpu, tid;

	if (r->holder) {
		uint64_t h = LOAD(r->holder);

		*seen = h;
		if (!h)
			return PVL_RUNNING;	/* between the take and its record */
		cpu = h >> 32;
		tid = (uint32_t)h;
	} else {
		uint32_t w = LOAD(r->word);

		*seen = w;
		if (!w)
			return PVL_RUNNING;
		cpu = w >> PVL_SPIN_TID_BITS;
		tid = w & ((1u << PVL_SPIN_TID_BITS) - 1);
		if (cpu == PVL_SPIN_CPU_NONE)
			return PVL_RUNNING;
	}
	/* Waiting for ourselves: sleep rather than spin the deadlock away. */
	if (tid == pvl_tid())
		return PVL_OFF_GUEST;
	return pvl_thread_state(cpu, tid, lvl);
}

/*
 * Did the host take the vCPU of the holder named in @seen off while
 * this waiter's own vCPU was running?  Then the holder waits for
 * another host CPU than ours (ours has run us all along), and spinning
 * here does not keep it off: that preemption may be spun out, and the
 * mutex may park behind it.  If it went off before ours came on, or
 * when the host switched from it to ours (one time stamp for both),
 * ours may well have its host CPU (at 4x, four vCPUs on one host CPU,
 * always): stop spinning at once, and the mutex blocks rather than
 * parks (pvlock_mutex.c, PVL_PARK_MAX, says why).  So too when our own
 * record does not say RUNNING (an update the host dropped, a thread it
 * does not know): then its time is not when we came on.
 *
 * Both times are the host's (last_switch_ns), read without the records'
 * seqlock: state and time from different updates only move the choice
 * between two safe ones.  A holder the host woke from IDLE (halted with
 * the lock held, as in a kernel lock wait inside a system call) has
 * its wake-up time there, not when it went off: such a waiter may spin
 * the delay out where it should have parked.
 */
static inline bool pvl_off_while_we_ran(const struct pvl_lockref *r, uint64_t seen)
{
	uint32_t holder = r->holder ? seen >> 32 : (uint32_t)seen >> PVL_SPIN_TID_BITS;
	uint32_t self = pvl_cpu();
	const struct pvli_vcpu_host *me;

	if (holder >= pvl_chan.nr_cpus || self >= pvl_chan.nr_cpus || holder == self)
		return false;
	me = &pvl_chan.host[self].host;
	if (LOAD(&me->state) != PVLI_STATE_RUNNING)
		return false;
	return LOAD(&pvl_chan.host[holder].host.last_switch_ns) > LOAD(&me->last_switch_ns);
}

/*
 * Whether a waiter should stop spinning behind the holder of a taken
 * lock: PVL_OFF_GUEST or PVL_OFF_HOST if so, else PVL_RUNNING.  A host
 * preemption that began while this waiter's vCPU ran counts once the
 * waiter has watched it for the park delay (@a); until then the holder
 * reads as running.  *@seen: the record classified
 * (pvl_holder_state_seen()); on PVL_OFF_HOST, @a->elsewhere says
 * whether that preemption began while this waiter's vCPU ran.
 */
static inline enum pvl_run pvl_holder_off(const struct pvl_lockref *r, enum pvlock_level lvl,
					  struct pvl_away *a, uint64_t *seen)
{
	enum pvl_run why = pvl_holder_state_seen(r, lvl, seen);

	if (why == PVL_RUNNING) {
		a->since = 0;
	} else if (why == PVL_OFF_HOST) {
		a->elsewhere = pvl_off_while_we_ran(r, *seen);
		if (a->elsewhere && !pvl_away_long(a, *seen))
			return PVL_RUNNING;
	}
	return why;
}

static inline void pvl_count_off(enum pvl_run why)
{
	if (why == PVL_OFF_HOST)
		PVL_STAT(holder_off_host);
	else
		PVL_STAT(holder_off_guest);
}

enum pvl_queue_exit {
	PVL_Q_HEAD,		/* first in the queue: compete for the word */
	PVL_Q_BYPASS,		/* the predecessor is not running: compete anyway */
	PVL_Q_HOLDER_OFF,	/* the holder stopped running (pvl_holder_off()): stop spinning */
};

extern uint64_t pvl_queue_holder_off PVL_HIDDEN;	/* PVL_Q_HOLDER_OFF exits */
/* @away: the caller's watch of its holder, for PVL_Q_HOLDER_OFF. */
enum pvl_queue_exit pvl_queue_enter(struct pvl_node **tail, struct pvl_node *n,
				    const struct pvl_lockref *r, enum pvlock_level lvl,
				    struct pvl_away *away) PVL_HIDDEN;
void pvl_queue_leave(struct pvl_node **tail, struct pvl_node *n) PVL_HIDDEN;

#endif /* __PVLOCK_QUEUE_H */
