// SPDX-License-Identifier: GPL-2.0-only
/* User-space half of the lock-core shim: see shim_user.h. */
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "shfl_lock.h"

struct shfl_sim shfl_sim;
__thread int shfl_sim_cpu;

static void futex_wait(u32 *addr, u32 val)
{
	syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(u32 *addr)
{
	syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

void shfl_sim_reset(void)
{
	for (int i = 0; i < SHFL_SIM_MAX_CPUS; i++) {
		WRITE_ONCE(shfl_sim.preempted[i], 0);
		WRITE_ONCE(shfl_sim.quota_ns[i], SHFL_QUOTA_UNKNOWN);
		WRITE_ONCE(shfl_sim.preempt_stops[i], 0);
		WRITE_ONCE(shfl_sim.halts[i], 0);
	}
	WRITE_ONCE(shfl_sim.channel_ok, true);
	shfl_sim.on_halt = NULL;
}

void shfl_sim_set_cpu(int cpu)
{
	shfl_sim_cpu = cpu;
}

void shfl_sim_preempt(int cpu, bool preempted)
{
	__atomic_store_n(&shfl_sim.preempted[cpu], preempted, __ATOMIC_SEQ_CST);
	if (!preempted)
		futex_wake(&shfl_sim.preempted[cpu]);
}

/* A "preempted" vCPU stops here until the test resumes it. */
void shfl_sim_preempt_point(void)
{
	int cpu = shfl_sim_cpu;

	if (likely(!READ_ONCE(shfl_sim.preempted[cpu])))
		return;
	__atomic_fetch_add(&shfl_sim.preempt_stops[cpu], 1, __ATOMIC_RELAXED);
	while (__atomic_load_n(&shfl_sim.preempted[cpu], __ATOMIC_ACQUIRE))
		futex_wait(&shfl_sim.preempted[cpu], 1);
}

u64 shfl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * Like sti;hlt: read the kick count, check the condition, sleep unless a
 * kick came after the read.  No timeout: a lost kick hangs the test.
 */
void shfl_halt(int cpu, u32 *ptr, u32 mask, u32 val)
{
	void (*hook)(int) = READ_ONCE(shfl_sim.on_halt);
	u32 seq;

	if (hook)
		hook(cpu);
	seq = __atomic_load_n(&shfl_sim.kick_seq[cpu], __ATOMIC_SEQ_CST);
	if ((__atomic_load_n(ptr, __ATOMIC_SEQ_CST) & mask) == val) {
		__atomic_fetch_add(&shfl_sim.halts[cpu], 1, __ATOMIC_RELAXED);
		futex_wait(&shfl_sim.kick_seq[cpu], seq);
	}
	shfl_sim_preempt_point();
}

void shfl_kick(int cpu)
{
	__atomic_fetch_add(&shfl_sim.kick_seq[cpu], 1, __ATOMIC_SEQ_CST);
	futex_wake(&shfl_sim.kick_seq[cpu]);
}
