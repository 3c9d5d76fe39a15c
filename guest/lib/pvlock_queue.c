// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libpvlock: the waiters' queue.
 *
 * An MCS queue (Mellor-Crummey and Scott, 1991) of the waiters that
 * spin, as in FlexGuard (Laforet et al., SOSP'25): the queue head spins
 * on the lock word, everybody behind it on its own node, so one waiter
 * at a time touches the lock's cache line.  As in the lock core
 * (guest/lock), the queue grants the right to compete for the word, not
 * ownership: the word is taken by compare-and-swap, so a newcomer may
 * take a free lock, and leaving the queue never hands the lock over.
 *
 *   tail ──────────────────────────────┐
 *                                      v
 *   [head: spins on word] -> [n: spins on n->waiting] -> [tail node]
 *
 * Because order carries no ownership, it can be relaxed where it costs:
 *   - a waiter whose predecessor is not running (thread descheduled by
 *     the guest, vCPU by the host, or a node of another process left in
 *     a queue that fork() copied) stops waiting for it and competes for
 *     the word as if it were the head (PVL_Q_BYPASS);
 *   - a waiter whose lock holder stops running (the host's preemption
 *     watched for the park delay, pvl_holder_off()) leaves to block or
 *     park (PVL_Q_HOLDER_OFF), as the head does.
 * A waiter that left early still leaves the queue properly later, so its
 * successor is passed on: every node is left exactly once.
 */
#include "pvlock_queue.h"

uint64_t pvl_queue_holder_off;
int64_t pvl_park_delay_ns = PVL_PARK_DELAY_NS;
uint64_t pvl_park_delays;

static bool node_running(const struct pvl_node *n, enum pvlock_level lvl)
{
	if (LOAD(&n->pid) != pvl_pid)
		return false;
	return pvl_thread_state(LOAD(&n->cpu), LOAD(&n->tid), lvl) == PVL_RUNNING;
}

/*
 * Queue @n behind *@tail and wait until it is the head or the wait
 * should end in another way (see above).  The caller must call
 * pvl_queue_leave() once, whatever this returned.
 */
enum pvl_queue_exit pvl_queue_enter(struct pvl_node **tail, struct pvl_node *n,
				    const struct pvl_lockref *r, enum pvlock_level lvl,
				    struct pvl_away *away)
{
	struct pvl_node *pred;
	uint64_t seen;

	STORE(&n->next, NULL);
	STORE(&n->waiting, 1);
	STORE(&n->tid, pvl_tid());
	STORE(&n->cpu, pvl_cpu());
	STORE(&n->pid, pvl_pid);
	/* Publishes the node's fields: pairs with the successor's acquire of pred. */
	pred = XCHG_ACQREL(tail, n);
	if (!pred)
		return PVL_Q_HEAD;
	/* Pairs with the acquire in pvl_queue_leave()'s read of ->next. */
	STORE_REL(&pred->next, n);

	/*
	 * Pairs with the release in pvl_queue_leave() that clears ->waiting.
	 * The lock's own line (word, holder) is read only every
	 * PVL_POLL_MAX turns: every read takes it from the holder.
	 */
	for (unsigned int turn = 1; LOAD_ACQ(&n->waiting); turn++) {
		uint32_t cpu = pvl_cpu();

		if (!node_running(pred, lvl)) {
			PVL_STAT(bypasses);
			return PVL_Q_BYPASS;
		}
		if (turn % PVL_POLL_MAX == 0 && LOAD(r->word) &&
		    pvl_holder_off(r, lvl, away, &seen) != PVL_RUNNING) {
			__atomic_fetch_add(&pvl_queue_holder_off, 1, __ATOMIC_RELAXED);
			return PVL_Q_HOLDER_OFF;
		}
		if (unlikely(LOAD(&n->cpu) != cpu))
			STORE(&n->cpu, cpu);	/* moved: successors look there */
		pvl_pause();
	}
	return PVL_Q_HEAD;
}

/*
 * Take @n out of the queue and let its successor compete.  If a
 * successor swapped itself into the tail but has not linked yet, wait
 * for the link: its next store, a few instructions away.
 */
void pvl_queue_leave(struct pvl_node **tail, struct pvl_node *n)
{
	struct pvl_node *next = LOAD_ACQ(&n->next);

	if (!next) {
		if (CAS_REL(tail, n, NULL))
			return;
		while (!(next = LOAD_ACQ(&n->next)))
			pvl_pause();
	}
	/* Pairs with the acquire loop on ->waiting in pvl_queue_enter(). */
	STORE_REL(&next->waiting, 0);
}
