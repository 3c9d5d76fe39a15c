// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libpvlock: the spinlock, in one 32-bit word.
 *
 *   word: 0 free; else the holder's (cpu << 22 | tid)
 *         (cpu PVL_SPIN_CPU_NONE: a CPU the word cannot name, read as running)
 *
 * pthread_spinlock_t is an int, so the lock keeps its holder in the word
 * and its queue outside: waiters queue (pvlock_queue.c) in a table of
 * tails hashed by the lock's address, one table per process.  Two locks
 * that hash alike share a queue, which costs them order, never
 * exclusion (the word decides).  Because the queue is per process and the
 * word names the holder by global TID, the lock also works between
 * processes (pthread's PTHREAD_PROCESS_SHARED spinlocks).
 *
 * Nobody is ever woken (an unlock is a plain store): while the holder is
 * not running, waiters leave the queue and get out of its way, by the
 * level that took it off:
 *   - the guest descheduled the holder thread: yield the CPU, so that
 *     the guest scheduler can run it (it may be waiting on this vCPU);
 *   - the host preempted the holder's vCPU (if that began while this
 *     waiter's vCPU ran, once it has stayed off PVL_PARK_DELAY_NS;
 *     pvl_holder_off()): park, a timed futex sleep on the word
 *     (PVL_PARK_NS) that a changed word skips.  A yield
 *     would not do here: with nothing else runnable in the guest it
 *     returns at once, this vCPU never idles, and the host keeps
 *     running it instead of the holder's vCPU (at 4x, four vCPUs on one
 *     host CPU, that is the rest of the host slice, every time).  The
 *     park lets this vCPU halt and the host CPU go to the holder's.
 *     A park that outlives the release costs up to PVL_PARK_NS (plus
 *     timer slack and this vCPU's wake-up); parks are not capped, and
 *     like a yielding waiter a parked one has left the queue, so running
 *     waiters may take the lock first.
 */
#include <sched.h>

#include "pvlock_queue.h"

#define SPIN_QUEUES	256

static struct {
	struct pvl_node *tail;
} __attribute__((aligned(64))) spin_queues[SPIN_QUEUES];

static inline uint32_t self_word(void)
{
	uint32_t cpu = pvl_cpu();

	if (cpu >= PVL_SPIN_CPU_NONE)
		cpu = PVL_SPIN_CPU_NONE;
	return cpu << PVL_SPIN_TID_BITS | (pvl_tid() & ((1u << PVL_SPIN_TID_BITS) - 1));
}

static struct pvl_node **queue_of(const pvlock_spin_t *s)
{
	uintptr_t a = (uintptr_t)s >> 2;

	return &spin_queues[(a ^ (a >> 8) ^ (a >> 16)) % SPIN_QUEUES].tail;
}

static void spin_slow(pvlock_spin_t *s, uint32_t me)
{
	const struct pvl_lockref ref = { .word = &s->word };
	struct pvl_node **tail = queue_of(s);
	enum pvlock_level lvl = pvl_level_now();
	struct pvl_node *self = pvl_node_get();		/* also where PVL_STAT counts */
	struct pvl_node *n = lvl == PVLOCK_LEVEL_FUTEX ? NULL : self;
	struct pvl_away away = { 0 };

	PVL_STAT(slow);
	for (;;) {
		uint64_t seen;		/* the word whose holder @why is about */
		enum pvl_run why = pvl_holder_off(&ref, lvl, &away, &seen);
		bool queued = false;

		if (n && why == PVL_RUNNING) {
			queued = true;
			pvl_queue_enter(tail, n, &ref, lvl, &away);
		}
		for (;;) {
			uint32_t w = LOAD(&s->word);

			if (w == 0 && CAS_ACQ(&s->word, 0, me)) {
				if (queued)
					pvl_queue_leave(tail, n);
				return;
			}
			/* A short host preemption is spun out (PVL_PARK_DELAY_NS). */
			if (w == 0 || !n)
				away.since = 0;
			else if ((why = pvl_holder_off(&ref, lvl, &away, &seen)) != PVL_RUNNING)
				break;
			pvl_pause();
		}
		if (queued)
			pvl_queue_leave(tail, n);
		pvl_count_off(why);
		PVL_STAT(blocks);
		/*
		 * The park sleeps on @seen, the word whose holder was found
		 * preempted: a release or a new holder since skips it.  Nobody
		 * wakes it, so the futex may be private even for a lock shared
		 * between processes.
		 */
		if (why == PVL_OFF_HOST)
			pvl_futex_park(&s->word, (uint32_t)seen, PVL_PARK_NS);
		else
			sched_yield();
		lvl = pvl_level_now();
	}
}

int pvlock_spin_init(pvlock_spin_t *s)
{
	s->word = 0;
	return 0;
}

int pvlock_spin_lock(pvlock_spin_t *s)
{
	uint32_t me = self_word();

	if (unlikely(!CAS_ACQ(&s->word, 0, me)))
		spin_slow(s, me);
	return 0;
}

int pvlock_spin_trylock(pvlock_spin_t *s)
{
	if (LOAD(&s->word) == 0 && CAS_ACQ(&s->word, 0, self_word()))
		return 0;
	return EBUSY;
}

int pvlock_spin_unlock(pvlock_spin_t *s)
{
	/* Orders the critical section before the release; pairs with CAS_ACQ. */
	STORE_REL(&s->word, 0);
	return 0;
}
