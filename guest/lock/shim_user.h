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
	u64 halts[SHFL_SIM_MAX_CPUS];		/* halts that slept */
	/*
	 * Test hook: run at the start of every shfl_halt(), i.e. where an
	 * interrupt can arrive in the kernel between a waiter publishing
	 * its halt and halting (interrupts are still on there).
	 */
	void (*on_halt)(int cpu);
};
extern struct shfl_sim shfl_sim;
extern __thread int shfl_sim_cpu;

void shfl_sim_reset(void);
void shfl_sim_set_cpu(int cpu);
void shfl_sim_preempt(int cpu, bool preempted);
void shfl_sim_preempt_point(void);

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
