// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ShflLock shuffler (Kashyap et al., SOSP'19, shuffle_waiters() in
 * aqs.c): one waiter at a time holds the shuffler token; it walks the
 * queue behind itself and moves the waiters its policy prefers up, right
 * behind the batch it has built so far; the last member of the batch gets
 * the token.
 *
 *   head/shuffler --> [batch ...] --> w --> x --> y (preferred) --> tail
 *                                      becomes
 *   head/shuffler --> [batch ... y] --> w --> x --> tail
 *
 * The shuffler only rewires nodes that are behind it, and never the tail
 * except through q->swap_tail(), so neither enqueuers (which only write
 * the old tail's next) nor the head (which only reads its own next) race
 * with it.
 *
 * Only the queue's links are touched, so any queue of shfl_nodes can be
 * shuffled: the lock core's (shfl_lock.c) and the unit tests' scripted
 * queues.
 */
#include "shfl_lock.h"

/*
 * The tail @curr is preferred, the waiters last->next .. @prev are not:
 * make @prev the tail and put @curr behind @last instead, so that in a
 * queue as short as a small VM's (holder, head, one preempted waiter,
 * the tail) the tail can still go first.  The tail's next is written by
 * whoever swaps the tail after it, so @curr is unlinked first and only
 * relinked once the tail swap (a full barrier) has proven that nobody
 * did; if somebody did, everything is put back as it was.  Nodes between
 * @last and the tail are behind the shuffler: only it writes their next.
 */
static bool move_tail_up(const struct shfl_queue_ops *q, struct shfl_node *last,
			 struct shfl_node *prev, struct shfl_node *curr)
{
	struct shfl_node *first = READ_ONCE(last->next), *n;

	WRITE_ONCE(prev->next, NULL);
	if (!q->swap_tail(q, curr, prev)) {
		WRITE_ONCE(prev->next, curr);
		return false;
	}
	for (n = first; ; n = READ_ONCE(n->next)) {
		n->bypassed++;
		if (n == prev)
			break;
	}
	WRITE_ONCE(curr->next, first);
	WRITE_ONCE(last->next, curr);
	curr->batch = 1;
	return true;
}

/*
 * One pass, run by @node, which holds the token (or is a head outside any
 * batch, which ShflLock lets start one).  Moves each waiter @q->prefer()
 * picks up behind the batch.  Stops at the tail, at (or right after
 * overtaking) a waiter that has been overtaken SHFL_MAX_BYPASS times, or,
 * once it has grouped someone, when @node's own wait is over
 * (@q->wait_over()).  Passes the token to the last member of the batch.
 * Returns the number of waiters moved.
 */
u32 shfl_walk_queue(struct shfl_node *node, const struct shfl_queue_ops *q)
{
	struct shfl_node *last = node, *prev = node, *curr, *next, *n;
	bool grouped = false, bound_hit = false;
	u32 moved = 0;

	WRITE_ONCE(node->shuffler, 0);
	node->batch = 1;

	while (!bound_hit) {
		curr = READ_ONCE(prev->next);
		if (!curr)
			break;
		/* The tail may be getting a successor right now: see move_tail_up(). */
		if (q->is_tail(q, curr)) {
			if (q->swap_tail && prev != last && q->prefer(q, node, curr) &&
			    move_tail_up(q, last, prev, curr)) {
				last = curr;
				moved++;
			}
			break;
		}
		if (q->prefer(q, node, curr)) {
			if (prev == last) {
				curr->batch = 1;
				last = prev = curr;
			} else {
				next = READ_ONCE(curr->next);
				if (!next)
					break;
				/* Everyone between last and curr is overtaken. */
				for (n = READ_ONCE(last->next); ; n = READ_ONCE(n->next)) {
					if (++n->bypassed >= SHFL_MAX_BYPASS)
						bound_hit = true;
					if (n == prev)
						break;
				}
				/* prev -> curr -> next  becomes  prev -> next */
				WRITE_ONCE(prev->next, next);
				/* last -> x  becomes  last -> curr -> x */
				WRITE_ONCE(curr->next, READ_ONCE(last->next));
				WRITE_ONCE(last->next, curr);
				curr->batch = 1;
				last = curr;
				moved++;
			}
			grouped = true;
		} else {
			if (curr->bypassed >= SHFL_MAX_BYPASS)
				break;
			prev = curr;
		}
		/* Our own wait is over: stop once this pass has done something. */
		if (grouped && q->wait_over(q, node))
			break;
	}
	/*
	 * Release: the next shuffler sees this pass's links and counters.
	 * Pairs with the acquire in shfl_may_walk().
	 */
	smp_store_release(&last->shuffler, 1);
	return moved;
}
SHFL_EXPORT(shfl_walk_queue);
