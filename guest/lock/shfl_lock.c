// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockinfo lock core: a test-and-set word whose queue grants the right
 * to compete for it, not ownership.
 *
 * Anchors: ShflLock (Kashyap et al., SOSP'19, aqs.c: a TAS word, an MCS
 * queue whose head spins on the word, a shuffler that reorders waiters),
 * FlexGuard (Laforet et al., SOSP'25: a TAS word plus an MCS queue that
 * only decides who spins), Linux's pv qspinlock (qspinlock_paravirt.h:
 * newcomers may take a free word while the head is not spinning; the
 * head halts and is kicked by the release), and preemptable ticket locks
 * (Ouyang and Lange, VEE'13: waiters whose vCPU is not running are
 * passed over).  The host's page (pvlockinfo.h) says which vCPUs run.
 *
 * Why not ownership: a lock that hands the word to a named successor pays
 * a host wake-up (IPI -> QEMU -> futex -> host scheduler, far longer than
 * a critical section) whenever that successor is not on a pCPU, and the
 * word sits idle meanwhile.  Here ownership is a cmpxchg on the word by
 * whoever is running; the queue only says who may not be passed over for
 * ever.
 *
 *        word: holder | SLOW | head | URGENT | tail --------------------.
 *                                                                      v
 *   holder   head --next--> w1 --next--> w2 --next--> ... --next--> wN
 *   (runs)   spins on the   spin on their own node->status, then halt
 *            word (or halts (the token holder among them shuffles)
 *            while the
 *            holder is     newcomers: spin on the word and take it while
 *            preempted)    nobody is urgent; queue when their budget
 *                          (spins, halts) is spent
 *
 * The word (shfl_lock.h) is the kernel's qspinlock word, so the kernel's
 * own spinlocks can use this lock (the takeover).  What the kernel's own
 * paths do to it, and why that is safe:
 *  - its fast path, trylock and virt_spin_lock() take the lock only by a
 *    cmpxchg of the whole word from 0, so never past a queue (the tail is
 *    in the word) and never past an urgent head (URGENT implies a tail);
 *  - its unlock stores 0 to the locked byte: that releases whoever held
 *    and clears SLOW without a kick.  Waiters halt only behind holders
 *    that named themselves (CPU + 2), and only callers whose release is
 *    shfl_word_unlock() name themselves.
 *
 * Invariants:
 *  1. The locked byte is nonzero exactly while the lock is held.  Every
 *     acquisition is a cmpxchg that finds it 0.
 *  2. The tail bits are changed only by a cmpxchg that swaps in a new
 *     tail (enqueue), by the head taking the lock while it is the tail
 *     (the queue empties: tail, head and URGENT go with it in the same
 *     cmpxchg, so a newcomer that swapped the tail first makes it fail),
 *     and by the shuffler moving a preferred tail up (a cmpxchg that
 *     fails if anyone queued behind it).
 *  3. URGENT is set only by the queue head, and cleared only by the
 *     cmpxchg with which the head takes the lock; so URGENT implies a
 *     queue (tail != 0).  While it is set nobody but the head takes a
 *     free word (NMIs excepted: see 6).  That is the bypass bound: a head
 *     loses at most its policy's urgent_bypass free words, or waits at
 *     most its urgent_ns as the head, before it is the next holder; a queued
 *     waiter is overtaken by the shuffler at most SHFL_MAX_BYPASS times.
 *     Every free word taken past a queue is counted against the head its
 *     head byte names (note_passed()), seen or not; only the head sets
 *     URGENT, so words taken while it does not run (preempted, halted)
 *     count, and it turns urgent as soon as it runs again.
 *  4. The head byte names the queue head while it waits (set by the
 *     predecessor before it makes the node the head, see pass_head(), or
 *     by an enqueue onto an empty queue); it is cleared when the head
 *     takes the lock.  A hint: newcomers read it to tell whether the head
 *     could take a free word now (policy channel: not if its vCPU is
 *     preempted or halted).
 *  5. A node is used by its CPU at nesting level count (as qspinlock's
 *     qnodes): an interrupt that waits for a lock on the same CPU uses
 *     the next one and returns before the interrupted level resumes.
 *     Beyond SHFL_LEVELS levels, or for CPU numbers the tail cannot hold,
 *     a waiter spins on the word without a node (no queue, no halt).
 *  6. In an NMI a waiter never queues and never halts (nothing can kick
 *     it, and the queue head it waits behind may be the context it
 *     interrupted); it takes any free word, URGENT or not.
 *
 * Halting: a waiter halts (shfl_halt(): sti; hlt under TCG, a vmexit
 * under KVM) only where a kick will end it: with interrupts on, or with
 * them off where the caller allows it (SHFL_WAIT_HALT_IRQSOFF) and the
 * shim can end it (shfl_halt_irqsoff(): the kick is an NMI); never in an
 * NMI, and only behind a holder that named itself.  It publishes what
 * it halts on in its own node (node->halted_on, per nesting level), makes
 * that visible (a full barrier), re-checks, then halts; the waker changes
 * the condition, makes that visible (a full barrier), then reads
 * halted_on.  Store buffering with full barriers on both sides: one of
 * them sees the other, so a kick is never lost.  Two conditions:
 *  - the word: the head, or a newcomer (of a queueing policy at most
 *    park_budget times, then it queues), halts while the holder it saw
 *    still holds, after setting SLOW; the release (an xchg of the locked
 *    byte) kicks every node halted on the word;
 *  - its node's status: a queued waiter halts until it is the head;
 *    pass_head() kicks it.
 * Every halt may end early (any interrupt); callers re-check.
 */
#include "shfl_lock.h"

struct shfl_cpu {
	struct shfl_node node[SHFL_LEVELS];
	u32 count;			/* nodes in use: the nesting level */
	/*
	 * Free words taken past a queue whose head byte named this CPU
	 * (added to by the takers, see note_passed()): the head's bypass
	 * count, also for the words it never saw free.  Per CPU, not per
	 * node: the head byte names no level, so a nested head on this CPU
	 * adds to an interrupted one's count (it turns urgent early, never
	 * late).
	 */
	u32 passed;
};
static SHFL_DEFINE_PER_CPU(struct shfl_cpu, shfl_cpus);

SHFL_DEFINE_PER_CPU(struct shfl_stats_cpu, shfl_stats_pcpu);
SHFL_EXPORT_PER_CPU(shfl_stats_pcpu);

#define stat_inc(pol, field)	shfl_stat_inc((pol)->stats_set, field)
#define stat_add(pol, field, n)	shfl_stat_add((pol)->stats_set, field, n)

void shfl_stats(unsigned int set, struct shfl_stats *sum)
{
	int cpu;

	memset(sum, 0, sizeof(*sum));
	shfl_for_each_cpu(cpu)
		shfl_stats_add(sum, &shfl_per_cpu(shfl_stats_pcpu, cpu).set[set]);
}
SHFL_EXPORT(shfl_stats);

/* ---- the word ------------------------------------------------------------ */

static u32 encode_tail(u32 cpu, u32 level)
{
	return ((cpu + 1) << 2 | level) << SHFL_TAIL_SHIFT;
}

static struct shfl_node *decode_tail(u32 v)
{
	u32 t = (v & SHFL_TAIL_MASK) >> SHFL_TAIL_SHIFT;

	return &shfl_per_cpu(shfl_cpus, (t >> 2) - 1).node[t & 3];
}

static u32 head_bits(u32 cpu)
{
	return cpu < SHFL_MAX_HEAD_CPU ? (cpu + 1) << SHFL_HEAD_SHIFT : 0;
}

static int head_of(u32 v)
{
	return (int)((v & SHFL_HEAD_MASK) >> SHFL_HEAD_SHIFT) - 1;
}

/* word: the @mask bits -> @bits, the rest kept (a full barrier).  Returns the old word. */
static u32 word_set_bits(struct shfl_word *w, u32 mask, u32 bits)
{
	u32 v = READ_ONCE(w->val), old;

	for (;;) {
		old = cmpxchg(&w->val, v, (v & ~mask) | bits);
		if (old == v)
			return v;
		v = old;
	}
}

/* word @v, locked byte 0 -> @me (holder bits); head, URGENT and tail stay. */
static bool take_free_word(struct shfl_word *w, u32 v, u32 me)
{
	return !(v & SHFL_LOCKED_MASK) && cmpxchg_acquire(&w->val, v, v | me) == v;
}

/* ---- what the host's page says ------------------------------------------------ */

bool shfl_cpu_preempted(int cpu)
{
	return cpu >= 0 && cpu != (int)shfl_cpu() && shfl_vcpu_preempted(cpu);
}
SHFL_EXPORT(shfl_cpu_preempted);

bool shfl_holder_preempted(u32 v)
{
	return shfl_cpu_preempted(shfl_holder_of(v));
}
SHFL_EXPORT(shfl_holder_preempted);

struct shfl_node *shfl_waiter_node(int cpu, int level)
{
	return &shfl_per_cpu(shfl_cpus, cpu).node[level];
}
SHFL_EXPORT(shfl_waiter_node);

bool shfl_cpu_halted_on(int cpu, const u32 *ptr)
{
	struct shfl_cpu *c;

	if (cpu < 0)
		return false;
	c = &shfl_per_cpu(shfl_cpus, cpu);
	for (int i = 0; i < SHFL_LEVELS; i++)
		if (READ_ONCE(c->node[i].halted_on) == ptr)
			return true;
	return false;
}
SHFL_EXPORT(shfl_cpu_halted_on);

bool shfl_quota_covers(int cpu, u64 hold_ns)
{
	u64 quota = shfl_vcpu_quota_ns(cpu);

	/*
	 * 0 is a quota used up without the host taking the pCPU (nobody else
	 * wanted it, so a new slice began): no bound, as unknown.
	 */
	return quota == SHFL_QUOTA_UNKNOWN || quota == 0 ||
	       quota >= (hold_ns ?: SHFL_DEFAULT_HOLD_NS);
}
SHFL_EXPORT(shfl_quota_covers);

/*
 * Could the queue head named in @v take a free word right now?  Not if
 * none is named (the hand-over is naming one, or its CPU number does not
 * fit), and by the channel not if its vCPU is preempted or halted, or
 * (shfl-quota) out of quota.
 */
static bool head_absent(const struct shfl_word *w, u32 v, const struct shfl_policy *pol,
			u64 hold_ns)
{
	int head = head_of(v);

	if (head < 0)
		return true;
	if (!pol->channel || head == (int)shfl_cpu())
		return false;
	return shfl_cpu_preempted(head) || shfl_cpu_halted_on(head, &w->val) ||
	       (pol->quota && !shfl_quota_covers(head, hold_ns));
}

/*
 * Does @pol run on the channel now?  Without a live page every policy is
 * its channel-free self (ShflLock, or plain test-and-set): no stealing
 * past a queue, no halting, no shuffling by vCPU state.
 */
static bool channel_on(const struct shfl_policy *pol)
{
	return pol->channel && shfl_channel_ok();
}

/*
 * May a newcomer (not queued) take the free word @v under @pol?
 * @quota_ok: shfl-quota, our own quota covers a typical hold (the caller
 * checks it now and then, not at every spin).
 */
static bool may_steal(const struct shfl_word *w, u32 v, const struct shfl_policy *pol,
		      u64 hold_ns, bool quota_ok)
{
	if (v & SHFL_LOCKED_MASK)
		return false;
	if (!(v & SHFL_TAIL_MASK))
		return true;
	if (v & SHFL_URGENT)
		return false;
	switch (pol->steal) {
	case SHFL_STEAL_NO_QUEUE:
		return false;
	case SHFL_STEAL_UNTIL_URGENT:
		if (!channel_on(pol))
			return false;
		break;
	case SHFL_STEAL_ALWAYS:
		break;
	}
	return quota_ok || head_absent(w, v, pol, hold_ns);
}

/*
 * We took the free word @v: if it had a queue, count it against the head
 * it named (the bound, invariant 3).  Without a head named (the hand-over)
 * nobody is passed over yet.
 */
static void note_passed(u32 v)
{
	int head = head_of(v);
	u32 *passed, cur, old;

	if (!(v & SHFL_TAIL_MASK) || head < 0)
		return;
	passed = &shfl_per_cpu(shfl_cpus, head).passed;
	cur = READ_ONCE(*passed);
	while ((old = cmpxchg_relaxed(passed, cur, cur + 1)) != cur)
		cur = old;
}

/* ---- halting and kicking --------------------------------------------------- */

/* How a waiter may halt here: not, as usual (sti;hlt), or with interrupts off. */
enum halt_mode { HALT_NONE, HALT_IRQS_ON, HALT_IRQS_OFF };

static enum halt_mode halt_mode(unsigned int flags)
{
	if (shfl_can_halt())
		return HALT_IRQS_ON;
	if ((flags & SHFL_WAIT_HALT_IRQSOFF) && shfl_can_halt_irqsoff())
		return HALT_IRQS_OFF;
	return HALT_NONE;
}

static void halt_here(const struct shfl_policy *pol, struct shfl_node *node, enum halt_mode mode,
		      u32 *ptr, u32 mask, u32 val)
{
	stat_inc(pol, halts);
	if (mode == HALT_IRQS_OFF)
		shfl_halt_irqsoff(ptr, mask, val);
	else if (pol->stats_set == SHFL_STATS_KERNEL)
		shfl_halt_untraced(ptr, mask, val);
	else
		shfl_halt(node->cpu, ptr, mask, val);
}

static void kick(const struct shfl_policy *pol, int cpu)
{
	stat_inc(pol, kicks);
	if (pol->stats_set == SHFL_STATS_KERNEL)
		shfl_kick_untraced(cpu);
	else
		shfl_kick(cpu);
}

/*
 * Halt while the holder named by word @v still holds: locked byte v ->
 * v | SLOW, so that its release kicks us.  Only behind a holder that named
 * itself (its release is shfl_word_unlock(), which kicks).
 */
static void park_on_word(struct shfl_word *w, struct shfl_node *node, u32 v,
			 const struct shfl_policy *pol, unsigned int flags)
{
	u8 holder = v & SHFL_HOLDER_MASK, cur, old;
	enum halt_mode mode = halt_mode(flags);

	if (holder < SHFL_CPU_BIAS || mode == HALT_NONE)
		return;
	WRITE_ONCE(node->halted_on, &w->val);
	/* Pairs with the xchg in shfl_word_unlock(): see "Halting". */
	smp_mb();
	cur = READ_ONCE(w->locked);
	while ((cur & SHFL_HOLDER_MASK) == holder && !(cur & SHFL_SLOW)) {
		old = cmpxchg(&w->locked, cur, cur | SHFL_SLOW);
		cur = old == cur ? cur | SHFL_SLOW : old;
	}
	if (cur == (holder | SHFL_SLOW))
		halt_here(pol, node, mode, &w->val, SHFL_LOCKED_MASK, cur);
	WRITE_ONCE(node->halted_on, NULL);
}

/* Kick every CPU with a node halted on @w (a release that cleared SLOW). */
static void kick_halted(struct shfl_word *w, const struct shfl_policy *pol)
{
	int cpu;

	shfl_for_each_cpu(cpu) {
		if (cpu != (int)shfl_cpu() && shfl_cpu_halted_on(cpu, &w->val))
			kick(pol, cpu);
	}
}

void shfl_kick_halted(struct shfl_word *w)
{
	kick_halted(w, &shfl_policy_kernel_shfl_pv);
}
SHFL_EXPORT(shfl_kick_halted);

/* A queued waiter, not the head: halt until made the head. */
static void park_in_queue(struct shfl_node *node, const struct shfl_policy *pol,
			  unsigned int flags)
{
	enum halt_mode mode = halt_mode(flags);

	if (mode == HALT_NONE)
		return;
	WRITE_ONCE(node->halted_on, &node->status);
	smp_mb();	/* pairs with the smp_mb() in wake_node() */
	if (READ_ONCE(node->status) == SHFL_WAITING)
		halt_here(pol, node, mode, &node->status, ~0U, SHFL_WAITING);
	WRITE_ONCE(node->halted_on, NULL);
}

/* @node's status changed (made the head): kick its CPU if it halts on it. */
static void wake_node(struct shfl_node *node, u16 cpu, const struct shfl_policy *pol)
{
	smp_mb();	/* pairs with the smp_mb() in park_in_queue() */
	if (READ_ONCE(node->halted_on) == &node->status)
		kick(pol, cpu);
}

/* ---- the shuffler's view of this lock ---------------------------------------- */

struct word_walk {
	struct shfl_queue_ops ops;
	struct shfl_word *w;
	const struct shfl_policy *pol;
	u64 hold_ns;
	bool head;
};

static bool walk_is_tail(const struct shfl_queue_ops *q, const struct shfl_node *curr)
{
	const struct word_walk *ww = container_of(q, struct word_walk, ops);
	u32 v = READ_ONCE(ww->w->val);

	return (v & SHFL_TAIL_MASK) == curr->tail;
}

/* tail: @old's bits -> @new's, if nobody queued behind @old (a full barrier). */
static bool walk_swap_tail(const struct shfl_queue_ops *q, struct shfl_node *old,
			   struct shfl_node *new)
{
	const struct word_walk *ww = container_of(q, struct word_walk, ops);
	u32 v = READ_ONCE(ww->w->val), prev;

	while ((v & SHFL_TAIL_MASK) == old->tail) {
		prev = cmpxchg(&ww->w->val, v, (v & ~SHFL_TAIL_MASK) | new->tail);
		if (prev == v)
			return true;
		v = prev;
	}
	return false;
}

static bool walk_prefer(const struct shfl_queue_ops *q, const struct shfl_node *shuffler,
			const struct shfl_node *curr)
{
	const struct word_walk *ww = container_of(q, struct word_walk, ops);

	return ww->pol->prefer(ww->pol, shuffler, curr, ww->hold_ns);
}

/* The head: the word is free; others: @node is the head now. */
static bool walk_wait_over(const struct shfl_queue_ops *q, const struct shfl_node *node)
{
	const struct word_walk *ww = container_of(q, struct word_walk, ops);

	return ww->head ? !(READ_ONCE(ww->w->locked))
			: READ_ONCE(node->status) != SHFL_WAITING;
}

/* Run a shuffler pass if @node holds the token (or heads outside any batch). */
static void maybe_shuffle(struct shfl_word *w, struct shfl_node *node,
			  const struct shfl_policy *pol, u64 hold_ns, bool head)
{
	struct word_walk ww = {
		.ops = {
			.is_tail = walk_is_tail,
			.prefer = walk_prefer,
			.wait_over = walk_wait_over,
			.swap_tail = walk_swap_tail,
		},
		.w = w,
		.pol = pol,
		.hold_ns = hold_ns,
		.head = head,
	};
	u32 moved;

	if (!pol->prefer || !shfl_may_walk(node, head))
		return;
	stat_inc(pol, shuffle_walks);
	moved = shfl_walk_queue(node, &ww.ops);
	if (moved) {
		stat_add(pol, shuffles, moved);
		if (pol->stats_set != SHFL_STATS_KERNEL)
			shfl_trace_shuffle(w, moved);
	}
}

/* ---- waiting ----------------------------------------------------------------- */

/* One slow-path call: what it waits for, how, and as whom. */
struct waiter {
	struct shfl_word *w;
	const struct shfl_policy *pol;
	struct shfl_node *node;
	u64 hold_ns;
	u32 me;			/* the holder bits it takes the word with */
	unsigned int flags;	/* SHFL_WAIT_* */
	u32 away_holder;	/* holder_away_long(): whom we saw preempted, */
	u64 away_since;		/* since when (0: not seen preempted) */
	u32 passed_base;	/* our CPU's passed count when we came */
};

/*
 * Take the free word @v.  SHFL_WAIT_IRQS_ON: the caller turned interrupts
 * off for this lock only; it waits with them on and takes the lock with
 * them off (an interrupt between taking and disabling could want it).
 */
static bool take(struct waiter *wt, u32 v)
{
	if (wt->flags & SHFL_WAIT_IRQS_ON)
		shfl_irq_disable();
	if (take_free_word(wt->w, v, wt->me)) {
		note_passed(v);
		return true;
	}
	if (wt->flags & SHFL_WAIT_IRQS_ON)
		shfl_irq_enable();
	return false;
}

static bool time_to_check(u32 spins)
{
	return (spins & SHFL_CHECK_MASK) == 0;
}

/* Channel policies: spinning behind a preempted holder only keeps it off its pCPU. */
static bool holder_away(u32 v, const struct shfl_policy *pol)
{
	return pol->channel && shfl_holder_preempted(v);
}

/*
 * Has the holder named in @v been preempted for at least the policy's
 * park_delay_ns, as far as this waiter has watched?  A preemption that
 * short is usually a host kworker or QEMU's own thread, over before a
 * halted waiter would even be woken; halting then only adds a wake-up.
 */
static bool holder_away_long(struct waiter *wt, u32 v)
{
	u32 holder = v & SHFL_HOLDER_MASK;
	u64 now;

	if (!holder_away(v, wt->pol)) {
		wt->away_since = 0;
		return false;
	}
	now = shfl_now_ns();
	if (!wt->away_since || holder != wt->away_holder) {
		wt->away_holder = holder;
		wt->away_since = now;
	}
	return now - wt->away_since >= wt->pol->park_delay_ns;
}

/*
 * A newcomer: compete for the free word while the policy lets us past the
 * queue, at most spin_budget times while the holder runs (forever for
 * test-and-set); halt on the word while it does not.  Returns true
 * holding the lock, false to queue.
 *
 * An urgent head (invariant 3) does not send us to the queue at once: we
 * spin on (taking nothing while URGENT is set) and compete again once it
 * has taken the word; queueing then would turn one urgent head into a
 * queue of halted waiters, each a later hand-over with a kick.  We queue
 * if the urgent head is preempted (no use spinning), when the budget is
 * spent, and, for a queueing policy, after park_budget halts on the word
 * behind preempted holders: a waiter woken that often and beaten to the
 * word each time is the one test-and-set starves, and the queue bounds
 * its wait (invariant 3) and halts it on its node, where only its own
 * turn wakes it.
 */
static bool spin_to_steal(struct waiter *wt)
{
	const struct shfl_policy *pol = wt->pol;
	bool tas = pol->steal == SHFL_STEAL_ALWAYS;
	bool quota_ok = !pol->quota || shfl_quota_covers(shfl_cpu(), wt->hold_ns);
	u32 spins = 0, parks = 0, v;

	for (;;) {
		v = READ_ONCE(wt->w->val);
		if (may_steal(wt->w, v, pol, wt->hold_ns, quota_ok)) {
			if (take(wt, v)) {
				stat_inc(pol, stolen);
				return true;
			}
			continue;
		}
		spins++;
		if (!tas && spins >= pol->spin_budget)
			return false;
		if (time_to_check(spins)) {
			if (pol->quota)
				quota_ok = shfl_quota_covers(shfl_cpu(), wt->hold_ns);
			if (!tas && (v & SHFL_URGENT) && shfl_cpu_preempted(head_of(v)))
				return false;
			if (holder_away_long(wt, v)) {
				if (!tas && pol->park_budget && parks >= pol->park_budget)
					return false;
				/* No use spinning; its release kicks us (as tas-pv). */
				stat_inc(pol, holder_preempted);
				park_on_word(wt->w, wt->node, v, pol, wt->flags);
				parks++;
				spins = 0;
			}
		}
		cpu_relax();
	}
}

/* Not the head yet: spin on our node until the predecessor makes us the head. */
static void wait_in_queue(struct waiter *wt)
{
	const struct shfl_policy *pol = wt->pol;
	struct shfl_node *node = wt->node;
	u32 spins = 0, v;

	/* Acquire: pairs with the release in pass_head(). */
	while (smp_load_acquire(&node->status) == SHFL_WAITING) {
		maybe_shuffle(wt->w, node, pol, wt->hold_ns, false);
		if (time_to_check(++spins) && channel_on(pol)) {
			v = READ_ONCE(wt->w->val);
			if (holder_away_long(wt, v) || shfl_cpu_preempted(head_of(v))) {
				/* Behind a preempted holder or head: no use spinning. */
				stat_inc(pol, holder_preempted);
				park_in_queue(node, pol, wt->flags);
				spins = 0;
			} else if (pol->node_spins && spins >= pol->node_spins) {
				/* Not next: our spinning only takes the pCPU from those who are. */
				park_in_queue(node, pol, wt->flags);
				spins = 0;
			}
		}
		cpu_relax();
	}
}

/*
 * The head: take the locked byte.  As the tail, the queue (tail, head,
 * URGENT) goes with us in the same cmpxchg; otherwise the tail stays and
 * head and URGENT are cleared.  Returns the word as it was taken.
 */
static u32 wait_as_head(struct waiter *wt)
{
	const struct shfl_policy *pol = wt->pol;
	struct shfl_node *node = wt->node;
	struct shfl_word *w = wt->w;
	u64 since = shfl_now_ns();
	u32 spins = 0, v, next, old;
	u32 *passed = &shfl_per_cpu(shfl_cpus, node->cpu).passed;
	bool urgent = false, gated = false;

	for (;;) {
		v = READ_ONCE(w->val);
		if (!(v & SHFL_LOCKED_MASK)) {
			if (pol->quota && !urgent && !shfl_quota_covers(node->cpu, wt->hold_ns)) {
				/* Others may take it meanwhile: head_absent() says so. */
				if (!gated)
					stat_inc(pol, quota_waits);
				gated = true;
			} else {
				next = (v & SHFL_TAIL_MASK) == node->tail ? 0 : v & SHFL_TAIL_MASK;
				old = cmpxchg_acquire(&w->val, v, next | wt->me);
				if (old == v)
					return v;
				continue;
			}
		}
		/*
		 * Only newcomers that may steal past a queue need the bound.
		 * Every word taken past us counts (note_passed()), also while
		 * we did not look (preempted, halted, or reading it held).
		 */
		if (!urgent && pol->steal == SHFL_STEAL_UNTIL_URGENT &&
		    (READ_ONCE(*passed) - wt->passed_base >= pol->urgent_bypass ||
		     (time_to_check(spins + 1) && shfl_now_ns() - since >= pol->urgent_ns))) {
			word_set_bits(w, SHFL_URGENT, SHFL_URGENT);
			stat_inc(pol, urgent);
			urgent = true;
		}
		maybe_shuffle(w, node, pol, wt->hold_ns, true);
		if (time_to_check(++spins) && holder_away_long(wt, v)) {
			stat_inc(pol, holder_preempted);
			park_on_word(w, node, v, pol, wt->flags);
		}
		cpu_relax();
	}
}

/* Make @next the head: we hold the lock; nobody else writes its status. */
static void pass_head(struct shfl_word *w, struct shfl_node *node, struct shfl_node *next,
		      const struct shfl_policy *pol)
{
	u16 cpu = next->cpu;	/* read before SHFL_HEAD: @next may then return */
	struct shfl_node *after = READ_ONCE(next->next);

	/* The shuffler token must outlive us: it goes with the queue head. */
	if (READ_ONCE(node->shuffler))
		WRITE_ONCE(next->shuffler, 1);
	/* Named now, not when it notices: it may be preempted before it does. */
	word_set_bits(w, SHFL_HEAD_MASK, head_bits(cpu));
	/* Release: our shuffles and the lock's data; pairs with wait_in_queue(). */
	smp_store_release(&next->status, SHFL_HEAD);
	wake_node(next, cpu, pol);
	/*
	 * Its successor is next in line: wake it now, so that it is on a pCPU
	 * by then.  @after stayed queued at least until the release above; a
	 * node reused since only gets a spurious kick.
	 */
	if (pol->pre_kick && after && READ_ONCE(after->halted_on) == &after->status)
		kick(pol, READ_ONCE(after->cpu));
}

/*
 * Spin for a word we cannot queue on (invariants 5 and 6): any free word,
 * past an urgent head only in an NMI.
 */
static void spin_without_node(struct waiter *wt, bool nmi)
{
	for (;;) {
		u32 v = READ_ONCE(wt->w->val);

		if ((nmi || !(v & SHFL_URGENT)) && !(v & SHFL_LOCKED_MASK) && take(wt, v))
			break;
		cpu_relax();
	}
	stat_inc(wt->pol, stolen);
}

/*
 * A newcomer's first quick_spins looks at the word, before it sets up
 * anything (the waiter, nesting level, node, the channel): take the word
 * if it is wholly free, as any policy may (no queue: nobody is passed
 * over, invariant 3), and go the whole way at once if there is a queue.
 * Most waits at low overcommit end within one critical section, and every
 * access of the set-up lies between the release and the next acquisition
 * (under TCG each is a softmmu lookup).  Measured at 1x, two threads, 1 us
 * sections, ten interleaved 1 s runs each: tas-pv did 0.88 of the kernel's
 * test-and-set with the set-up first, 0.92 after a quick look through
 * may_steal(), 0.96 with a bare test-and-set loop in its place.  Nothing
 * halts here (there is no node to halt on): a waiter behind a preempted
 * holder halts quick_spins looks later.
 */
static __always_inline bool quick_steal(struct shfl_word *w, const struct shfl_policy *pol, u32 me)
{
	u32 n = READ_ONCE(pol->quick_spins);

	while (n--) {
		u32 v = READ_ONCE(w->val);

		if (!v) {
			if (take_free_word(w, v, me)) {
				stat_inc(pol, stolen);
				stat_inc(pol, acquired);
				return true;
			}
		} else if (v & SHFL_TAIL_MASK) {
			return false;
		}
		cpu_relax();
	}
	return false;
}

static void lock_slowpath(struct shfl_word *w, const struct shfl_policy *pol, u64 hold_ns,
			  unsigned int flags)
{
	u32 cpu = shfl_cpu(), level, v, old;
	struct shfl_cpu *c = &shfl_per_cpu(shfl_cpus, cpu);
	struct waiter wt = {
		.w = w,
		.pol = pol,
		.hold_ns = hold_ns,
		.me = flags & SHFL_WAIT_ANONYMOUS ? SHFL_UNKNOWN_HOLDER : shfl_me(),
		.flags = flags,
	};
	struct shfl_node *node, *prev, *next;

	/* Interrupts on while waiting: only test-and-set waiters (see take()). */
	WARN_ON_ONCE((flags & SHFL_WAIT_IRQS_ON) && pol->steal != SHFL_STEAL_ALWAYS);
	if (flags & SHFL_WAIT_IRQS_ON)
		shfl_irq_enable();
	level = c->count++;
	if (level >= SHFL_LEVELS || cpu > SHFL_MAX_QUEUE_CPU || shfl_in_nmi()) {
		spin_without_node(&wt, shfl_in_nmi());
		goto out;
	}
	/* The count is ours before the node is: an interrupt uses the next one. */
	barrier();
	node = &c->node[level];
	node->cpu = cpu;
	node->level = level;
	node->tail = encode_tail(cpu, level);
	node->next = NULL;
	node->status = SHFL_WAITING;
	node->batch = 0;
	node->shuffler = 0;
	node->bypassed = 0;
	node->halted_on = NULL;
	wt.node = node;
	wt.passed_base = READ_ONCE(c->passed);

	if (((pol->spin_budget && channel_on(pol)) || pol->steal == SHFL_STEAL_ALWAYS) &&
	    spin_to_steal(&wt))
		goto out;
	/* One more look, as the fast path took none (ShflLock's newcomer). */
	v = READ_ONCE(w->val);
	if (may_steal(w, v, pol, hold_ns, !pol->quota || shfl_quota_covers(cpu, hold_ns)) &&
	    take(&wt, v)) {
		stat_inc(pol, stolen);
		goto out;
	}

	/*
	 * word: tail -> us (and head -> us onto an empty queue).  Full
	 * barrier: the node is ready before it is reachable.
	 */
	v = READ_ONCE(w->val);
	for (;;) {
		u32 new = (v & ~SHFL_TAIL_MASK) | node->tail;

		if (!(v & SHFL_TAIL_MASK))
			new = (new & ~(SHFL_HEAD_MASK | SHFL_URGENT)) | head_bits(cpu);
		old = cmpxchg(&w->val, v, new);
		if (old == v)
			break;
		v = old;
	}
	stat_inc(pol, queued);
	if (v & SHFL_TAIL_MASK) {
		prev = decode_tail(v);
		/* prev stays queued until it sees our link: safe to write. */
		WRITE_ONCE(prev->next, node);
		wait_in_queue(&wt);
	}

	v = wait_as_head(&wt);
	if ((v & SHFL_TAIL_MASK) != node->tail) {
		/* Someone is behind us, or is linking in right now. */
		while (!(next = READ_ONCE(node->next)))
			cpu_relax();
		pass_head(w, node, next, pol);
	}
out:
	stat_inc(pol, acquired);
	/* Our node is free again once nobody can reach it: after the hand-over. */
	barrier();
	c->count--;
}

void shfl_word_lock_slowpath(struct shfl_word *w, const struct shfl_policy *pol, u64 hold_ns,
			     unsigned int flags)
{
	/*
	 * SHFL_WAIT_IRQS_ON: the caller wants to wait with interrupts on, and
	 * they are still off here (lock_slowpath() turns them on): no quick
	 * looks with them off.
	 */
	if (!(flags & SHFL_WAIT_IRQS_ON) &&
	    quick_steal(w, pol, flags & SHFL_WAIT_ANONYMOUS ? SHFL_UNKNOWN_HOLDER : shfl_me()))
		return;
	lock_slowpath(w, pol, hold_ns, flags);
}
SHFL_EXPORT(shfl_word_lock_slowpath);

/* ---- pvlockinfo's own locks ---------------------------------------------------- */

void shfl_lock_init(struct shfl_lock *lock, const struct shfl_policy *policy)
{
	lock->w.val = 0;
	lock->policy = policy;
	lock->hold_ns = 0;
	lock->acquired_ns = 0;
	lock->acquisitions = 0;
}
SHFL_EXPORT(shfl_lock_init);

/* Quota policies: time every SHFL_HOLD_SAMPLE-th hold (see struct shfl_lock). */
static void note_acquired(struct shfl_lock *lock)
{
	if (!lock->policy->quota)
		return;
	lock->acquired_ns = lock->acquisitions++ % SHFL_HOLD_SAMPLE ? 0 : shfl_now_ns();
}

bool shfl_trylock(struct shfl_lock *lock)
{
	shfl_preempt_disable();
	if (shfl_word_trylock(&lock->w)) {
		stat_inc(lock->policy, acquired);
		stat_inc(lock->policy, stolen);
		note_acquired(lock);
		return true;
	}
	shfl_preempt_enable();
	return false;
}
SHFL_EXPORT(shfl_trylock);

void shfl_lock(struct shfl_lock *lock)
{
	shfl_preempt_disable();
	if (shfl_word_trylock(&lock->w)) {
		stat_inc(lock->policy, acquired);
		stat_inc(lock->policy, stolen);
	} else {
		/* The host classifies a preemption of this vCPU as LWP meanwhile. */
		shfl_publish_wait(lock);
		/* shfl_word_lock_slowpath(), inline: no call before the quick looks. */
		if (!quick_steal(&lock->w, lock->policy, shfl_me()))
			lock_slowpath(&lock->w, lock->policy, READ_ONCE(lock->hold_ns), 0);
		shfl_publish_wait(NULL);
	}
	note_acquired(lock);
}
SHFL_EXPORT(shfl_lock);

void shfl_unlock(struct shfl_lock *lock)
{
	const struct shfl_policy *pol = lock->policy;

	if (pol->quota && lock->acquired_ns) {
		u64 held = shfl_now_ns() - lock->acquired_ns;
		u64 est = READ_ONCE(lock->hold_ns);

		/* Moving average, weight 1/8; only the holder writes it. */
		WRITE_ONCE(lock->hold_ns, est ? est - est / 8 + held / 8 : held);
	}
	WARN_ON_ONCE(!(READ_ONCE(lock->w.locked) & SHFL_LOCKED_MASK));
	/* Release, and a full barrier: pairs with the one in park_on_word(). */
	if (xchg(&lock->w.locked, 0) & SHFL_SLOW)
		kick_halted(&lock->w, pol);
	shfl_preempt_enable();
}
SHFL_EXPORT(shfl_unlock);
