/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The takeover's wait split (pvli_tk_lock.c): per CPU, how long its
 * contended spin_lock*() calls waited and which part of that its own vCPU
 * was preempted (steal) or on a host CPU (run).  Plain C with no kernel
 * dependency beyond barriers, so that tests/unit/test_tk_split.c drives
 * the same code with real threads.
 *
 * Invariant the readers rely on: a reader sees whole waits.  For each
 * wait, steal + run <= wait; a sum of whole waits keeps that, and so does
 * the difference of two snapshots (pvlock-sweep's c1 - c0), because each
 * record only grows.  A reader that saw a wait's total but not yet its
 * steal (or the other way round) breaks both, and bench output with a
 * "waiting split that does not add up" is what that looked like when the
 * four counts were separate per-CPU counters read one file at a time.
 *
 * So each record has a sequence count, odd while a wait is being added.
 * One writer at a time per record, the caller's job: the module keeps a
 * record per CPU and nesting context (task, softirq, hardirq, each depth
 * of NMI-class entries), since an interrupt or NMI may arrive between any
 * two of the stores and wait for a lock itself.  Readers on any CPU retry
 * until they read the same even count on both sides of the values.  A
 * reader can spin only while the writer's vCPU is off its host CPU in the
 * middle of those stores.
 */
#ifndef __PVLI_TK_SPLIT_H
#define __PVLI_TK_SPLIT_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/compiler.h>
#include <asm/barrier.h>
#include <asm/processor.h>
#else
#include <stdbool.h>
#include <stdint.h>
typedef uint64_t u64;
typedef int64_t s64;
#ifndef READ_ONCE
#define READ_ONCE(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#endif
#define smp_wmb()		__atomic_thread_fence(__ATOMIC_RELEASE)
#define smp_rmb()		__atomic_thread_fence(__ATOMIC_ACQUIRE)
#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax()		__builtin_ia32_pause()
#else
#define cpu_relax()		__asm__ __volatile__("" ::: "memory")
#endif
#endif

struct pvli_tk_split {
	unsigned long seq;	/* odd: a wait is being added */
	u64 wait_ns;		/* all waits (guest clock) */
	u64 steal_ns;		/* of wait_ns: own vCPU preempted */
	u64 run_ns;		/* of wait_ns: own vCPU on a host CPU */
	u64 no_clocks;		/* waits whose own clocks were unknown: in wait_ns only */
};

/*
 * Add a wait of @ns.  @ok: the waiter's own steal and run clocks were
 * known at both ends, @s0/@r0 at its start and @s1/@r1 at its end.  The
 * two parts are capped jointly at the wait (the clocks are the host's,
 * the wait the guest's; they need not agree to the ns).  The run clock is
 * a sum of host and guest times that may wrap (pvli_own_clocks_atomic()):
 * its difference is taken as signed.
 */
static inline void pvli_tk_split_add(struct pvli_tk_split *s, u64 ns, bool ok,
				     u64 s0, u64 r0, u64 s1, u64 r1)
{
	u64 steal = 0, run = 0;

	if (ok) {
		steal = s1 > s0 ? s1 - s0 : 0;
		if (steal > ns)
			steal = ns;
		run = (s64)(r1 - r0) > 0 ? r1 - r0 : 0;
		if (run > ns - steal)
			run = ns - steal;
	}
	WRITE_ONCE(s->seq, s->seq + 1);
	smp_wmb();		/* the odd count before any value */
	WRITE_ONCE(s->wait_ns, s->wait_ns + ns);
	WRITE_ONCE(s->steal_ns, s->steal_ns + steal);
	WRITE_ONCE(s->run_ns, s->run_ns + run);
	WRITE_ONCE(s->no_clocks, s->no_clocks + !ok);
	smp_wmb();		/* every value before the even count */
	WRITE_ONCE(s->seq, s->seq + 1);
}

/* Add @s's whole waits to @sum (whose seq is unused). */
static inline void pvli_tk_split_read(const struct pvli_tk_split *s, struct pvli_tk_split *sum)
{
	struct pvli_tk_split v;
	unsigned long seq;

	do {
		while ((seq = READ_ONCE(s->seq)) & 1)
			cpu_relax();
		smp_rmb();	/* pairs with the writer's second smp_wmb() */
		v.wait_ns = READ_ONCE(s->wait_ns);
		v.steal_ns = READ_ONCE(s->steal_ns);
		v.run_ns = READ_ONCE(s->run_ns);
		v.no_clocks = READ_ONCE(s->no_clocks);
		smp_rmb();	/* pairs with the writer's first smp_wmb() */
	} while (READ_ONCE(s->seq) != seq);
	sum->wait_ns += v.wait_ns;
	sum->steal_ns += v.steal_ns;
	sum->run_ns += v.run_ns;
	sum->no_clocks += v.no_clocks;
}

#endif /* __PVLI_TK_SPLIT_H */
