// SPDX-License-Identifier: GPL-2.0-only
/* User-space half of the lock-core shim: see shim_user.h. */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "shfl_lock.h"

struct shfl_sim shfl_sim;
__thread int shfl_sim_cpu;

/* Returns 0, or -1 with errno (ETIMEDOUT once @timeout_ns has passed; 0: no timeout). */
static long futex_wait_for(u32 *addr, u32 val, u64 timeout_ns)
{
	struct timespec ts = {
		.tv_sec = timeout_ns / 1000000000ULL,
		.tv_nsec = timeout_ns % 1000000000ULL,
	};

	return syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, timeout_ns ? &ts : NULL,
		       NULL, 0);
}

static void futex_wait(u32 *addr, u32 val)
{
	futex_wait_for(addr, val, 0);
}

static void futex_wake(u32 *addr)
{
	syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static void watch_disarm(int cpu);

void shfl_sim_reset(void)
{
	for (int i = 0; i < SHFL_SIM_MAX_CPUS; i++) {
		watch_disarm(i);
		WRITE_ONCE(shfl_sim.preempted[i], 0);
		WRITE_ONCE(shfl_sim.quota_ns[i], SHFL_QUOTA_UNKNOWN);
		WRITE_ONCE(shfl_sim.preempt_stops[i], 0);
		WRITE_ONCE(shfl_sim.halts[i], 0);
		WRITE_ONCE(shfl_sim.stale_halts[i], 0);
		WRITE_ONCE(shfl_sim.late_kicks[i], 0);
		WRITE_ONCE(shfl_sim.watch_held[i], 0);
	}
	WRITE_ONCE(shfl_sim.channel_ok, true);
	WRITE_ONCE(shfl_sim.halt_timeout_ns, 0);
	shfl_sim.on_halt = NULL;
}

void shfl_sim_set_cpu(int cpu)
{
	shfl_sim_cpu = cpu;
	WRITE_ONCE(shfl_sim.tid[cpu], (int)syscall(SYS_gettid));
}

void shfl_sim_preempt(int cpu, bool preempted)
{
	__atomic_store_n(&shfl_sim.preempted[cpu], preempted, __ATOMIC_SEQ_CST);
	if (preempted)
		return;
	futex_wake(&shfl_sim.preempted[cpu]);
	/* ... and from a watchpoint (see watch_hit()). */
	__atomic_store_n(&shfl_sim.watch_held[cpu], 0, __ATOMIC_SEQ_CST);
	futex_wake(&shfl_sim.watch_held[cpu]);
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
 * Sleep until a kick after @seq.  With halt_timeout_ns, a halt that
 * outlives it on a condition that is false by then, with no kick, waits
 * for a late kick a while longer, then counts a lost one (shim_user.h).
 */
static void halt_sleep(int cpu, u32 seq, u32 *ptr, u32 mask, u32 val)
{
	u32 *kicks = &shfl_sim.kick_seq[cpu];
	u64 limit = READ_ONCE(shfl_sim.halt_timeout_ns);

	if (futex_wait_for(kicks, seq, limit) == 0 || errno != ETIMEDOUT)
		return;
	if (__atomic_load_n(kicks, __ATOMIC_SEQ_CST) != seq ||
	    (__atomic_load_n(ptr, __ATOMIC_SEQ_CST) & mask) == val)
		return;		/* kicked just now, or still waiting for its change */
	if (futex_wait_for(kicks, seq, SHFL_SIM_KICK_GRACE_NS) == 0 || errno != ETIMEDOUT)
		__atomic_fetch_add(&shfl_sim.late_kicks[cpu], 1, __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_add(&shfl_sim.stale_halts[cpu], 1, __ATOMIC_SEQ_CST);
}

/*
 * Like sti;hlt: read the kick count, check the condition, sleep unless a
 * kick came after the read.  Without halt_timeout_ns a lost kick hangs
 * the test.  Nothing orders the caller's stores before these loads: like
 * hlt, the halt is no barrier (the count of halts comes after both).
 */
void shfl_halt(int cpu, u32 *ptr, u32 mask, u32 val)
{
	void (*hook)(int) = READ_ONCE(shfl_sim.on_halt);
	u32 seq;

	if (hook)
		hook(cpu);
	seq = __atomic_load_n(&shfl_sim.kick_seq[cpu], __ATOMIC_SEQ_CST);
	if ((__atomic_load_n(ptr, __ATOMIC_SEQ_CST) & mask) == val) {
		__atomic_fetch_add(&shfl_sim.halts[cpu], 1, __ATOMIC_SEQ_CST);
		halt_sleep(cpu, seq, ptr, mask, val);
	}
	shfl_sim_preempt_point();
}

void shfl_kick(int cpu)
{
	__atomic_fetch_add(&shfl_sim.kick_seq[cpu], 1, __ATOMIC_SEQ_CST);
	futex_wake(&shfl_sim.kick_seq[cpu]);
}

/* ---- watchpoint preemption (test-only) ---------------------------------------- */

#ifndef TRAP_PERF
#define TRAP_PERF	6	/* si_code of a perf event's sigtrap (asm-generic/siginfo.h) */
#endif

static int watch_fd[SHFL_SIM_MAX_CPUS];	/* fd + 1 of the armed watchpoint; 0: none */

static void watch_disarm(int cpu)
{
	int fd = READ_ONCE(watch_fd[cpu]) - 1;

	WRITE_ONCE(watch_fd[cpu], 0);
	if (fd >= 0)
		close(fd);
}

/*
 * SIGTRAP in the thread that touched the word: stop it right there until
 * shfl_sim_preempt(cpu, false).  The page is left as the test set it: a
 * vCPU that is slow to reach its next step need not be preempted.
 */
static void watch_hit(int sig, siginfo_t *si, void *uc)
{
	int cpu = shfl_sim_cpu, fd = READ_ONCE(watch_fd[cpu]) - 1;

	(void)sig;
	(void)uc;
	if (si->si_code != TRAP_PERF || fd < 0)
		return;
	ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);	/* one shot */
	__atomic_store_n(&shfl_sim.watch_held[cpu], 1, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&shfl_sim.preempt_stops[cpu], 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&shfl_sim.watch_held[cpu], __ATOMIC_ACQUIRE))
		futex_wait(&shfl_sim.watch_held[cpu], 1);
}

int shfl_sim_preempt_after_access(int cpu, const void *addr, unsigned int len, bool writes)
{
	static bool handler_set;
	struct perf_event_attr a = {
		.type = PERF_TYPE_BREAKPOINT,
		.size = sizeof(a),
		.bp_type = writes ? HW_BREAKPOINT_W : HW_BREAKPOINT_RW,
		.bp_addr = (uintptr_t)addr,
		.bp_len = len,
		.sample_period = 1,
		.disabled = 1,		/* until watch_fd says which one it is */
		.sigtrap = 1,		/* to the thread that touched the word */
		.remove_on_exec = 1,	/* sigtrap requires it */
		.exclude_kernel = 1,
		.exclude_hv = 1,
	};
	int fd, err;

	if (!handler_set) {
		struct sigaction sa = { .sa_sigaction = watch_hit, .sa_flags = SA_SIGINFO };

		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGTRAP, &sa, NULL))
			return -errno;
		handler_set = true;
	}
	watch_disarm(cpu);
	fd = (int)syscall(SYS_perf_event_open, &a, READ_ONCE(shfl_sim.tid[cpu]), -1, -1,
			  PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -errno;
	WRITE_ONCE(watch_fd[cpu], fd + 1);
	if (ioctl(fd, PERF_EVENT_IOC_ENABLE, 0)) {
		err = -errno;
		watch_disarm(cpu);
		return err;
	}
	return 0;
}
