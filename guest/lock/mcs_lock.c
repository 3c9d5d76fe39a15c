// SPDX-License-Identifier: GPL-2.0-only
/*
 * Plain MCS queue lock (Mellor-Crummey and Scott, 1991): the `mcs'
 * baseline.  Strict FIFO, no stealing, no halting: ownership passes from
 * node to node, so a preempted waiter stalls everyone behind it.
 *
 *   tail --> [holder] --next--> [w1] --next--> [w2]
 *            locked=1           spins on own ->locked
 */
#include "shfl_lock.h"

void mcs_lock_init(struct mcs_lock *lock)
{
	lock->tail = NULL;
}
SHFL_EXPORT(mcs_lock_init);

void mcs_lock(struct mcs_lock *lock, struct mcs_node *node)
{
	struct mcs_node *prev;

	shfl_preempt_disable();
	node->next = NULL;
	node->locked = 0;
	/* Full barrier: the node is initialised before it is reachable. */
	prev = xchg(&lock->tail, node);
	if (prev) {
		shfl_publish_wait(lock);
		WRITE_ONCE(prev->next, node);
		/* Acquire: pairs with the release in mcs_unlock(). */
		while (!smp_load_acquire(&node->locked))
			cpu_relax();
		shfl_publish_wait(NULL);
		shfl_stat_inc(SHFL_STATS_LOCKS, queued);
	} else {
		shfl_stat_inc(SHFL_STATS_LOCKS, stolen);
	}
	shfl_stat_inc(SHFL_STATS_LOCKS, acquired);
}
SHFL_EXPORT(mcs_lock);

/* tail: NULL -> @node, or fail.  On success as mcs_lock(). */
bool mcs_trylock(struct mcs_lock *lock, struct mcs_node *node)
{
	shfl_preempt_disable();
	node->next = NULL;
	node->locked = 0;
	/* Acquire: pairs with the release in mcs_unlock()'s tail reset. */
	if (cmpxchg_acquire(&lock->tail, NULL, node) == NULL) {
		shfl_stat_inc(SHFL_STATS_LOCKS, stolen);
		shfl_stat_inc(SHFL_STATS_LOCKS, acquired);
		return true;
	}
	shfl_preempt_enable();
	return false;
}
SHFL_EXPORT(mcs_trylock);

void mcs_unlock(struct mcs_lock *lock, struct mcs_node *node)
{
	struct mcs_node *next = READ_ONCE(node->next);

	if (!next) {
		/* Release: tail node -> empty publishes the critical section. */
		if (cmpxchg_release(&lock->tail, node, NULL) == node)
			goto out;
		while (!(next = READ_ONCE(node->next)))
			cpu_relax();
	}
	/* Release: the critical section; pairs with the acquire above. */
	smp_store_release(&next->locked, 1);
out:
	shfl_preempt_enable();
}
SHFL_EXPORT(mcs_unlock);
