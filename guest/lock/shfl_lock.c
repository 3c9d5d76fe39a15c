// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockinfo lock core: a ShflLock (Kashyap et al., "Scalable and
 * Practical Locking with Shuffling", SOSP'19) whose shuffler and waiting
 * are policy hooks (in the spirit of SynCord, OSDI'22), so that the
 * host's view of our vCPUs can steer both.
 *
 * The lock is a word plus an MCS queue of waiters, as in qspinlock:
 *
 *        word: LOCKED | SLOW | NO_STEAL        tail ------------------.
 *                                                                     v
 *   holder    head --next--> w1 --next--> w2 --next--> ... --next--> wN
 *   (runs)    spins on       spin on their own node->status
 *             the word       (the token holder among them shuffles)
 *
 * - A newcomer takes a free word with one cmpxchg unless NO_STEAL is set,
 *   i.e. unless the queue has a head (ShflLock's bounded stealing: none
 *   once someone queues).  shfl-pv and shfl-quota let a newcomer take a
 *   free word past a queue whose head's vCPU is preempted: that head
 *   could not take it before the host runs it again.
 * - Otherwise it appends itself (xchg on tail) and spins on its node
 *   until its predecessor makes it the head (status = READY).
 * - The head spins on the word, takes LOCKED, then makes its successor
 *   the head.  Unlock clears LOCKED (and SLOW, kicking a halted head).
 * - One waiter at a time holds the shuffler token.  It walks the queue
 *   behind itself and moves the waiters the policy prefers up, right
 *   behind the batch it has built so far; the last member of the batch
 *   gets the token.  The shuffler only rewires nodes that are behind it
 *   and never the tail, so neither enqueuers (which only write the old
 *   tail's next) nor the head (which only reads its own next) race with
 *   it.
 *
 * The policies (shfl_policy.c) fill in what to prefer and when to halt:
 *   shfl        no hooks: in one NUMA node every waiter is alike
 *   shfl-pv     prefer waiters whose vCPU runs; halt while the holder's
 *               vCPU is preempted
 *   shfl-quota  shfl-pv, and a waiter with less run quota than the
 *               lock's typical hold time is not preferred, and gives up
 *               the head of the queue rather than take the lock
 *   pvspin      no shuffling; spin SHFL_SPIN_THRESHOLD times, then halt;
 *               halt early when the predecessor is halted or preempted;
 *               a halted successor is kicked by the unlock, not at
 *               hand-over (Linux's pv qspinlock)
 *
 * Starvation bound: a waiter is overtaken by the shuffler at most
 * SHFL_MAX_BYPASS times (after that the shuffler stops at it) and gives up
 * the head at most SHFL_MAX_YIELDS times, so it waits at most
 * (queue length + SHFL_MAX_BYPASS) hold times per queue pass and
 * SHFL_MAX_YIELDS + 1 passes.
 *
 * Halting (shfl_halt) takes the vCPU off its pCPU until a kick or an
 * interrupt.  A halter first publishes what it halts on in
 * shfl_halted_on(cpu), then re-checks its condition: the waker changes
 * the condition, then reads shfl_halted_on().  With a full barrier on
 * each side one of them sees the other, so a kick is never lost.
 */
#include "shfl_lock.h"

/* ---- the word ------------------------------------------------------------ */

/* word: v -> (v & ~clear) | set, whatever else changes meanwhile. */
static u32 word_update(struct shfl_lock *lock, u32 clear, u32 set)
{
	u32 v = READ_ONCE(lock->word), old;

	for (;;) {
		old = cmpxchg(&lock->word, v, (v & ~clear) | set);
		if (old == v)
			return v;
		v = old;
	}
}

/* word: LOCKED clear -> LOCKED set.  Acquire: pairs with shfl_unlock(). */
static bool word_trylock(struct shfl_lock *lock)
{
	u32 v = READ_ONCE(lock->word);

	return !(v & SHFL_LOCKED) &&
	       cmpxchg_acquire(&lock->word, v, v | SHFL_LOCKED) == v;
}

static void note_acquired(struct shfl_lock *lock)
{
	WRITE_ONCE(lock->holder_cpu, shfl_cpu());
	if (lock->policy->track_hold)
		WRITE_ONCE(lock->acquired_ns, shfl_now_ns());
	shfl_stat_inc(acquired);
}

/* ---- halting and kicking --------------------------------------------------- */

/* Halt this vCPU while (*ptr & mask) == val; see "Halting" above. */
static void park(u16 cpu, u32 *ptr, u32 mask, u32 val)
{
	WRITE_ONCE(shfl_halted_on(cpu), ptr);
	smp_mb();	/* pairs with smp_mb() in wake_if_halted() / word_update() */
	if ((READ_ONCE(*ptr) & mask) == val) {
		shfl_stat_inc(halts);
		shfl_halt(cpu, ptr, mask, val);
	}
	WRITE_ONCE(shfl_halted_on(cpu), NULL);
}

/* The condition @cpu may halt on (@ptr) has changed: kick it if it halts. */
static void wake_if_halted(u16 cpu, u32 *ptr)
{
	smp_mb();	/* pairs with smp_mb() in park() */
	if (READ_ONCE(shfl_halted_on(cpu)) == ptr) {
		shfl_stat_inc(kicks);
		shfl_kick(cpu);
	}
}

/*
 * Queue head: halt until the unlock kicks us.  word: LOCKED -> LOCKED|SLOW.
 * If the word is free we return at once to take it instead.
 */
static void park_head(struct shfl_lock *lock, struct shfl_node *node)
{
	u32 v = READ_ONCE(lock->word), old;

	WRITE_ONCE(lock->kick_cpu, node->cpu);
	while (v & SHFL_LOCKED) {
		/* Full barrier: kick_cpu is visible before SLOW is. */
		old = cmpxchg(&lock->word, v, v | SHFL_SLOW);
		if (old == v) {
			park(node->cpu, &lock->word, SHFL_SLOW, SHFL_SLOW);
			return;
		}
		v = old;
	}
}

/* ---- the shuffler -------------------------------------------------------- */

/*
 * One pass of the shuffler, run by @node, which holds the token (or is a
 * head outside any batch, which ShflLock lets start one).  Moves each
 * waiter @q->prefer() picks up behind the batch.  Stops at the tail, at
 * (or right after overtaking) a waiter that has been overtaken
 * SHFL_MAX_BYPASS times, or, once it has grouped someone, when @node's
 * own wait is over (@q->wait_over()).  Passes the token to the last
 * member of the batch.  Returns the number of waiters moved.
 *
 * Only the queue's links are touched, so any lock whose waiters are
 * shfl_nodes can be shuffled: shfl_lock's, and the kernel-spinlock
 * takeover's queue in a qspinlock word (qword_lock.c).
 */
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

/* shfl_lock's side of a walk: its tail pointer, word and policy. */
struct lock_walk {
	struct shfl_queue_ops ops;
	struct shfl_lock *lock;
	bool head;
};

static bool lock_is_tail(const struct shfl_queue_ops *q, const struct shfl_node *curr)
{
	const struct lock_walk *w = container_of(q, struct lock_walk, ops);

	return curr == READ_ONCE(w->lock->tail);
}

static bool lock_prefer(const struct shfl_queue_ops *q, const struct shfl_node *shuffler,
			const struct shfl_node *curr)
{
	const struct lock_walk *w = container_of(q, struct lock_walk, ops);

	return w->lock->policy->prefer(w->lock, shuffler, curr);
}

/* @head: the word is free; else: @node became the head. */
static bool lock_wait_over(const struct shfl_queue_ops *q, const struct shfl_node *node)
{
	const struct lock_walk *w = container_of(q, struct lock_walk, ops);

	return w->head ? !(READ_ONCE(w->lock->word) & SHFL_LOCKED)
		       : READ_ONCE(node->status) != SHFL_WAITING;
}

/* One shuffler pass over @lock's queue by @node (@head: the queue head). */
u32 shfl_shuffle(struct shfl_lock *lock, struct shfl_node *node, bool head)
{
	struct lock_walk w = {
		.ops = {
			.is_tail = lock_is_tail,
			.prefer = lock_prefer,
			.wait_over = lock_wait_over,
		},
		.lock = lock,
		.head = head,
	};
	u32 moved;

	shfl_stat_inc(shuffle_walks);
	moved = shfl_walk_queue(node, &w.ops);
	if (moved) {
		shfl_stat_add(shuffles, moved);
		shfl_trace_shuffle(lock, moved);
	}
	return moved;
}

static bool may_shuffle(const struct shfl_lock *lock, const struct shfl_node *node,
			bool head)
{
	return lock->policy->prefer && shfl_may_walk(node, head);
}

/* ---- waiting ----------------------------------------------------------------- */

static bool time_to_check(const struct shfl_lock *lock, u32 spins)
{
	return (spins & SHFL_CHECK_MASK) == 0 && lock->policy->should_park;
}

/* Not the head yet: spin on our own node until the predecessor says READY. */
static void wait_in_queue(struct shfl_lock *lock, struct shfl_node *node)
{
	const struct shfl_policy *pol = lock->policy;
	u32 spins = 0;

	/* Acquire: pairs with the release in pass_head(). */
	while (smp_load_acquire(&node->status) == SHFL_WAITING) {
		if (may_shuffle(lock, node, false))
			shfl_shuffle(lock, node, false);
		if (time_to_check(lock, ++spins) && pol->should_park(lock, node, false, spins)) {
			park(node->cpu, &node->status, ~0U, SHFL_WAITING);
			spins = 0;
		}
		cpu_relax();
	}
}

/*
 * The head: spin on the word until LOCKED is ours.  Returns false if the
 * policy wants us to give up the head instead (we have a successor then).
 */
static bool wait_for_word(struct shfl_lock *lock, struct shfl_node *node)
{
	const struct shfl_policy *pol = lock->policy;
	u32 spins = 0;

	for (;;) {
		if (word_trylock(lock))
			return true;
		if (may_shuffle(lock, node, true))
			shfl_shuffle(lock, node, true);
		if (time_to_check(lock, ++spins)) {
			if (pol->should_yield && node->yields < SHFL_MAX_YIELDS &&
			    READ_ONCE(node->next) && pol->should_yield(lock, node))
				return false;
			if (pol->should_park(lock, node, true, spins)) {
				park_head(lock, node);
				spins = 0;
			}
		}
		cpu_relax();
	}
}

/*
 * Make @next (our successor) the head.  We are the head, holding the
 * word or giving up our place; either way nobody else writes @next's
 * status, and after the release below nobody reads @node again.
 */
static void pass_head(struct shfl_lock *lock, struct shfl_node *node,
		      struct shfl_node *next)
{
	u16 cpu = next->cpu;	/* read before READY: @next may then return */

	/* The shuffler token must outlive us: it goes with the queue head. */
	if (READ_ONCE(node->shuffler))
		WRITE_ONCE(next->shuffler, 1);
	/*
	 * Name the new head here, not when it notices: it may be preempted
	 * before it does, and that is when waiters need to know who it is.
	 */
	WRITE_ONCE(lock->head_cpu, cpu);

	/*
	 * pvspin: a halted successor is left halted and becomes the vCPU the
	 * unlock kicks (we hold LOCKED, so SLOW is ours to set).  It would
	 * only spin on the word until then.
	 */
	if (lock->policy->lazy_kick && (READ_ONCE(lock->word) & SHFL_LOCKED) &&
	    READ_ONCE(shfl_halted_on(cpu)) == &next->status) {
		WRITE_ONCE(lock->kick_cpu, cpu);
		word_update(lock, 0, SHFL_SLOW);	/* full barrier */
		smp_store_release(&next->status, SHFL_READY);
		return;
	}
	/* Release: our shuffles and the lock's data; pairs with wait_in_queue(). */
	smp_store_release(&next->status, SHFL_READY);
	wake_if_halted(cpu, &next->status);
}

/* The head after taking the word: leave the queue. */
static void leave_queue(struct shfl_lock *lock, struct shfl_node *node)
{
	struct shfl_node *next = READ_ONCE(node->next);

	if (!next) {
		/* Last one out: tail us -> empty, and newcomers may steal again. */
		if (cmpxchg_release(&lock->tail, node, NULL) == node) {
			word_update(lock, SHFL_NO_STEAL, 0);
			return;
		}
		/* Someone swapped the tail: wait for them to link in. */
		while (!(next = READ_ONCE(node->next)))
			cpu_relax();
	}
	pass_head(lock, node, next);
}

static void shfl_lock_slowpath(struct shfl_lock *lock)
{
	struct shfl_node node = {
		.cpu = shfl_cpu(),
		.prev_cpu = SHFL_NO_CPU,
	};
	struct shfl_node *prev;

	shfl_stat_inc(queued);
	shfl_publish_wait(lock);
	if (lock->policy->should_yield)
		node.wait_start = shfl_now_ns();
	for (;;) {
		node.next = NULL;
		node.status = SHFL_WAITING;
		node.batch = 0;
		node.shuffler = 0;
		/* Full barrier: the node is initialised before it is reachable. */
		prev = xchg(&lock->tail, &node);
		if (prev) {
			/* prev stays queued until it sees our link: safe to read. */
			node.prev_cpu = prev->cpu;
			WRITE_ONCE(prev->next, &node);
			wait_in_queue(lock, &node);
		} else {
			word_update(lock, 0, SHFL_NO_STEAL);
			WRITE_ONCE(lock->head_cpu, node.cpu);
		}
		if (wait_for_word(lock, &node))
			break;
		/* Give the head to our successor and queue again at the tail. */
		node.yields++;
		shfl_stat_inc(yields);
		pass_head(lock, &node, READ_ONCE(node.next));
	}
	/* No head until the hand-over names the next one (or the queue empties). */
	WRITE_ONCE(lock->head_cpu, SHFL_NO_CPU);
	note_acquired(lock);
	shfl_publish_wait(NULL);
	leave_queue(lock, &node);
}

/* ---- the API ------------------------------------------------------------ */

void shfl_lock_init(struct shfl_lock *lock, const struct shfl_policy *policy)
{
	lock->word = 0;
	lock->holder_cpu = SHFL_NO_CPU;
	lock->kick_cpu = SHFL_NO_CPU;
	lock->head_cpu = SHFL_NO_CPU;
	lock->tail = NULL;
	lock->hold_ns = 0;
	lock->acquired_ns = 0;
	lock->policy = policy;
}
SHFL_EXPORT(shfl_lock_init);

/*
 * word: 0 -> LOCKED, or NO_STEAL -> NO_STEAL|LOCKED when the policy lets
 * us past a preempted queue head.  Fails when held or queued for.
 */
static bool fast_trylock(struct shfl_lock *lock)
{
	u32 v = READ_ONCE(lock->word);
	u16 head;

	if (v & SHFL_LOCKED)
		return false;
	if (v & SHFL_NO_STEAL) {
		if (!lock->policy->steal_past_preempted_head)
			return false;
		head = READ_ONCE(lock->head_cpu);
		if (head == SHFL_NO_CPU || !shfl_vcpu_preempted(head))
			return false;
	}
	if (cmpxchg_acquire(&lock->word, v, v | SHFL_LOCKED) != v)
		return false;
	shfl_stat_inc(stolen);
	note_acquired(lock);
	return true;
}

bool shfl_trylock(struct shfl_lock *lock)
{
	shfl_preempt_disable();
	if (fast_trylock(lock))
		return true;
	shfl_preempt_enable();
	return false;
}

void shfl_lock(struct shfl_lock *lock)
{
	shfl_preempt_disable();
	if (!fast_trylock(lock))
		shfl_lock_slowpath(lock);
}

/* word: LOCKED[|SLOW] -> 0 (NO_STEAL kept); kick the head if SLOW was set. */
void shfl_unlock(struct shfl_lock *lock)
{
	u32 v, old;
	u16 kick = SHFL_NO_CPU;

	if (lock->policy->track_hold) {
		u64 held = shfl_now_ns() - READ_ONCE(lock->acquired_ns);
		u64 est = READ_ONCE(lock->hold_ns);

		/* Moving average, weight 1/8; only the holder writes it. */
		WRITE_ONCE(lock->hold_ns, est ? est - est / 8 + held / 8 : held);
	}
	WRITE_ONCE(lock->holder_cpu, SHFL_NO_CPU);

	/* Acquire: the kick_cpu we read belongs to the SLOW we clear. */
	v = smp_load_acquire(&lock->word);
	for (;;) {
		WARN_ON_ONCE(!(v & SHFL_LOCKED));
		if (v & SHFL_SLOW)
			kick = READ_ONCE(lock->kick_cpu);
		/* Release: the critical section; pairs with word_trylock(). */
		old = cmpxchg_release(&lock->word, v, v & ~(SHFL_LOCKED | SHFL_SLOW));
		if (old == v)
			break;
		v = old;
	}
	if (v & SHFL_SLOW) {
		shfl_stat_inc(kicks);
		shfl_kick(kick);
	}
	shfl_preempt_enable();
}
