/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The lock core (shfl_lock.c, shfl_shuffle.c, shfl_policy.c, pvspin_lock.c,
 * mcs_lock.c) is built twice: into pvlockinfo.ko and into a user-space
 * library for the tests.  This header picks the half of the shim that
 * matches; both halves provide the same small vocabulary:
 *
 *   READ_ONCE, WRITE_ONCE, smp_load_acquire, smp_store_release, smp_mb, barrier,
 *   cmpxchg (full), cmpxchg_acquire, cmpxchg_release, cmpxchg_relaxed, xchg (full),
 *   cpu_relax, WARN_ON_ONCE, BUILD_BUG_ON, likely, unlikely, memset, u8..u64,
 *   shfl_cpu()                   the caller's (v)CPU, stable while locking
 *   shfl_cpu_node(cpu)           its NUMA node
 *   shfl_halt(cpu, ptr, mask, v) halt this vCPU while (*ptr & mask) == v,
 *                                until a kick; may return spuriously
 *   shfl_kick(cpu)               wake @cpu from shfl_halt(); any number of
 *                                CPUs may kick one target at once, from any
 *                                context (NMI included)
 *   shfl_halt_untraced(ptr, mask, v), shfl_kick_untraced(cpu)
 *                                the same, safe inside the kernel's spinlocks
 *   shfl_can_halt()              would a kick end a halt here?
 *   shfl_can_halt_irqsoff(), shfl_halt_irqsoff(ptr, mask, v)
 *                                the same for a caller whose interrupts
 *                                are off (the kernel's kick is then an NMI)
 *   shfl_in_nmi()                in an NMI (nothing may queue or halt)
 *   SHFL_DEFINE_PER_CPU(type, name), SHFL_DECLARE_PER_CPU(type, name),
 *   shfl_per_cpu(name, cpu),
 *   shfl_pcpu_inc(name, field), shfl_pcpu_add(name, field, n),
 *   shfl_for_each_cpu(cpu), shfl_nr_cpu_ids()
 *                                per-CPU data (per test thread in tests)
 *   shfl_channel_ok()            the host's page is live
 *   shfl_vcpu_preempted(cpu)     host says @cpu is runnable but not running
 *   shfl_vcpu_quota_ns(cpu)      run time @cpu has left (~0 = unknown)
 *   shfl_now_ns()                a monotonic clock
 *   SHFL_EXPORT(sym), SHFL_EXPORT_PER_CPU(sym)
 *                                export to other modules (nothing in tests)
 *   container_of(p, type, member)
 *   shfl_preempt_disable/enable  spinlock semantics around lock/unlock
 *   shfl_irq_disable/enable      local interrupts (no-ops in tests)
 *   shfl_publish_wait(lock)      tell the host this vCPU waits (NULL: done)
 *   shfl_trace_shuffle(lock, n)  a shuffler moved @n waiters (tracepoint)
 */
#ifndef __SHFL_SHIM_H
#define __SHFL_SHIM_H

#ifdef __KERNEL__
#include "shim_kernel.h"
#else
#include "shim_user.h"
#endif

#endif /* __SHFL_SHIM_H */
