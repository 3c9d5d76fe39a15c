/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * User-space half of the lock-core shim (see shfl_shim.h), for the tests.
 *
 * A "vCPU" is a test thread: it says which one it is with
 * shfl_sim_set_cpu().  The host's page is simulated: a test marks vCPUs
 * preempted, gives them quota, or takes the whole channel away.  A vCPU
 * marked preempted really stops, at its next cpu_relax() or
 * shfl_sim_preempt_point(), until the test resumes it, so a "preempted
 * lock holder" in a test holds the lock for as long as the test says.
 * Halting is a futex wait on a per-vCPU kick counter: a kick sent after
 * the halt decided to sleep is never lost, like an IPI against sti;hlt.
 *
 * Test-only instrumentation, all off until a test turns it on, for
 * scripting races (tests/unit/test_lock_races.c) at points where the lock
 * code has no preemption point:
 *  - on_halt runs first in every shfl_halt(): an interrupt that arrives
 *    after the caller published its halt and before it halts;
 *  - halts[cpu] counts halts past their condition check, i.e. asleep or
 *    about to be: a kick from then on ends them;
 *  - halt_timeout_ns ends a halt that no kick ended.  If its condition was
 *    false by then the halt outlived the change it waited for: it waits
 *    SHFL_SIM_KICK_GRACE_NS more for a kick that is only late (the
 *    kicker's thread descheduled by the machine: late_kicks[cpu]), and
 *    without one counts a lost kick in stale_halts[cpu] and returns, as
 *    the guest's next interrupt would end it;
 *  - shfl_sim_preempt_after_access() stops a vCPU's thread right after
 *    its next instruction that touches a given word (a hardware
 *    watchpoint), as if the host preempted it there, until
 *    shfl_sim_preempt(cpu, false); the page says what the test set
 *    (preempted or not: a stop is only a point in time the test holds).
 */
#ifndef __SHFL_SHIM_USER_H
#define __SHFL_SHIM_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;
typedef int64_t s64;

#define SHFL_SIM_MAX_CPUS	64

#define READ_ONCE(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define smp_load_acquire(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define smp_store_release(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define smp_mb()		__atomic_thread_fence(__ATOMIC_SEQ_CST)
#define barrier()		__asm__ __volatile__("" ::: "memory")
#define xchg(p, v)		__atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)

#define __shfl_cmpxchg(p, o, n, mo) ({					\
	__typeof__(*(p)) __old = (o);					\
	__atomic_compare_exchange_n((p), &__old, (n), false, (mo),	\
				    __ATOMIC_RELAXED);			\
	__old;								\
})
#define cmpxchg_acquire(p, o, n)	__shfl_cmpxchg(p, o, n, __ATOMIC_ACQUIRE)
#define cmpxchg_release(p, o, n)	__shfl_cmpxchg(p, o, n, __ATOMIC_RELEASE)
#define cmpxchg_relaxed(p, o, n)	__shfl_cmpxchg(p, o, n, __ATOMIC_RELAXED)
#define cmpxchg(p, o, n)		__shfl_cmpxchg(p, o, n, __ATOMIC_SEQ_CST)

#define BUILD_BUG_ON(c)		_Static_assert(!(c), #c)
#define container_of(p, type, member) \
	((type *)((char *)(p) - offsetof(type, member)))
#define likely(x)		__builtin_expect(!!(x), 1)
#define unlikely(x)		__builtin_expect(!!(x), 0)

/* A broken invariant in a test build is a test failure: stop at once. */
#define WARN_ON_ONCE(c) ({						\
	bool __c = !!(c);						\
	if (__c) {							\
		fprintf(stderr, "%s:%d: WARN_ON_ONCE(%s)\n",		\
			__FILE__, __LINE__, #c);			\
		abort();						\
	}								\
	__c;								\
})

/* The simulated host page. */
struct shfl_sim {
	bool channel_ok;
	u32 preempted[SHFL_SIM_MAX_CPUS];	/* 1: runnable, not running */
	u64 quota_ns[SHFL_SIM_MAX_CPUS];	/* ~0: unknown */
	u32 kick_seq[SHFL_SIM_MAX_CPUS];	/* futex word per vCPU */
	u64 preempt_stops[SHFL_SIM_MAX_CPUS];	/* times a vCPU stopped */
	u64 halts[SHFL_SIM_MAX_CPUS];		/* halts past their check: asleep */
	/*
	 * Test hook: run at the start of every shfl_halt(), i.e. where an
	 * interrupt can arrive in the kernel between a waiter publishing
	 * its halt and halting (interrupts are still on there).
	 */
	void (*on_halt)(int cpu);
	/* Test-only: lost kicks (see the top of this file). */
	u64 halt_timeout_ns;			/* 0: a halt waits for its kick */
	u64 stale_halts[SHFL_SIM_MAX_CPUS];	/* no kick came: lost */
	u64 late_kicks[SHFL_SIM_MAX_CPUS];	/* a kick came, after the timeout */
	int tid[SHFL_SIM_MAX_CPUS];		/* the thread playing each vCPU */
	u32 watch_held[SHFL_SIM_MAX_CPUS];	/* 1: stopped at a watchpoint */
};

/* How long a halt past halt_timeout_ns waits for a late kick before it counts a lost one. */
#define SHFL_SIM_KICK_GRACE_NS	(500ULL * 1000 * 1000)
extern struct shfl_sim shfl_sim;
extern __thread int shfl_sim_cpu;

void shfl_sim_reset(void);
void shfl_sim_set_cpu(int cpu);
void shfl_sim_preempt(int cpu, bool preempted);
void shfl_sim_preempt_point(void);
/*
 * Test-only: stop vCPU @cpu's thread right after its next read or write
 * (@writes: next write) of the @len bytes at @addr, counting it in
 * preempt_stops[@cpu], until shfl_sim_preempt(@cpu, false); one shot.
 * The page is not changed.  @len 1, 2, 4 or 8, @addr aligned to it; the
 * thread has called shfl_sim_set_cpu(@cpu).  Returns 0, or -errno when
 * the machine gives us no hardware watchpoint.
 */
int shfl_sim_preempt_after_access(int cpu, const void *addr, unsigned int len, bool writes);

static inline void cpu_relax(void)
{
	__builtin_ia32_pause();
	shfl_sim_preempt_point();
}

#define shfl_cpu()			(shfl_sim_cpu)
#define shfl_cpu_node(cpu)		((void)(cpu), 0)
#define shfl_channel_ok()		READ_ONCE(shfl_sim.channel_ok)
#define shfl_vcpu_preempted(cpu)	(shfl_channel_ok() && READ_ONCE(shfl_sim.preempted[cpu]))
#define shfl_vcpu_quota_ns(cpu)		(shfl_channel_ok() ? READ_ONCE(shfl_sim.quota_ns[cpu]) : ~0ULL)
#define shfl_publish_wait(lock)		do { (void)(lock); } while (0)
#define shfl_trace_shuffle(lock, n)	do { (void)(lock); (void)(n); } while (0)
#define shfl_preempt_disable()		do { } while (0)
#define shfl_irq_disable()		do { } while (0)
#define shfl_irq_enable()		do { } while (0)
#define shfl_preempt_enable()		do { } while (0)

u64 shfl_now_ns(void);
void shfl_halt(int cpu, u32 *ptr, u32 mask, u32 val);
void shfl_kick(int cpu);
#define shfl_halt_untraced(ptr, mask, val)	shfl_halt(shfl_sim_cpu, (ptr), (mask), (val))
#define shfl_kick_untraced(cpu)			shfl_kick(cpu)
#define shfl_can_halt()				true
/* Tests have no interrupts to be off: shfl_can_halt() always holds. */
#define shfl_can_halt_irqsoff()			false
#define shfl_halt_irqsoff(ptr, mask, val)	shfl_halt(shfl_sim_cpu, (ptr), (mask), (val))
#define shfl_in_nmi()				false

#define SHFL_DEFINE_PER_CPU(type, name)	type name[SHFL_SIM_MAX_CPUS]
#define SHFL_DECLARE_PER_CPU(type, name)	extern type name[SHFL_SIM_MAX_CPUS]
#define shfl_per_cpu(name, cpu)		((name)[cpu])
/*
 * Like this_cpu_add(): one vCPU (thread) writes its own counter, others
 * may read it, and it orders nothing.  A locked add here (x86's only
 * atomic add) would be a full barrier that the kernel does not have, and
 * would hide a missing smp_mb() next to a counter in the lock core (e.g.
 * halt_here() counts between a waiter's park and its halt's re-check).
 */
#define shfl_pcpu_add(name, field, n)						\
	__atomic_store_n(&(name)[shfl_sim_cpu].field,				\
			 __atomic_load_n(&(name)[shfl_sim_cpu].field, __ATOMIC_RELAXED) + (n), \
			 __ATOMIC_RELAXED)
#define shfl_pcpu_inc(name, field)	shfl_pcpu_add(name, field, 1)
#define shfl_for_each_cpu(cpu)		for ((cpu) = 0; (cpu) < SHFL_SIM_MAX_CPUS; (cpu)++)
#define shfl_nr_cpu_ids()		SHFL_SIM_MAX_CPUS

#define SHFL_EXPORT(sym)		_Static_assert(1, #sym)
#define SHFL_EXPORT_PER_CPU(sym)	_Static_assert(1, #sym)

#endif /* __SHFL_SHIM_USER_H */
