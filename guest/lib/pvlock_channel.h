/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * libpvlock internals: the channel (who runs where, pvlock_channel.c),
 * this thread's identity and queue node, and the statistics.
 *
 * "Running" means, for a thread that recorded (cpu, tid):
 *   guest level: the scheduler view of that CPU names tid;
 *   host level:  and the host's record of that vCPU is not PREEMPTED or
 *                IDLE (UNKNOWN counts as running: no news is no reason
 *                to block).
 * A CPU the view does not cover counts as running too.
 */
#ifndef __PVLOCK_CHANNEL_H
#define __PVLOCK_CHANNEL_H

#include <stddef.h>

#include "pvlock.h"
#include "pvli_abi.h"
#include "pvli_uapi.h"
#include "pvlock_atomic.h"

/* ---- the channel (pvlock_channel.c) ---------------------------------------- */
struct pvl_channel {
	const struct pvli_uview_hdr *view;	/* NULL at PVLOCK_LEVEL_FUTEX */
	const struct pvli_ucpu *cpus;		/* view records */
	const struct pvli_vcpu *host;		/* host records, or NULL */
	uint32_t nr_cpus;
	enum pvlock_level level;		/* the best this process may use */
	const char *why;			/* why not better, for PVLOCK_DEBUG */
};

extern struct pvl_channel pvl_chan PVL_HIDDEN;
extern int pvl_chan_ready PVL_HIDDEN;		/* 2 once pvl_chan is set */
extern uint32_t pvl_pid PVL_HIDDEN;		/* getpid(), refreshed at fork */
void pvl_channel_setup(void) PVL_HIDDEN;
/* For tests: use these mappings instead of the device (NULL view: none). */
void pvl_channel_use(const void *view, size_t view_len, const void *host,
		     enum pvlock_level cap) PVL_HIDDEN;

/* The level usable now: BOTH drops to GUEST while the host page is not live. */
static inline enum pvlock_level pvl_level_now(void)
{
	enum pvlock_level lvl;

	if (unlikely(LOAD_ACQ(&pvl_chan_ready) != 2)) {
		pvl_channel_setup();
		if (LOAD_ACQ(&pvl_chan_ready) != 2)
			return PVLOCK_LEVEL_FUTEX;	/* another thread is setting up */
	}
	lvl = pvl_chan.level;
	if (lvl == PVLOCK_LEVEL_BOTH && !LOAD(&pvl_chan.view->host_live))
		lvl = PVLOCK_LEVEL_GUEST;
	return lvl;
}

/* Why a thread does not make progress, as far as the level can see. */
enum pvl_run {
	PVL_RUNNING = 0,
	PVL_OFF_GUEST,		/* the guest descheduled the thread (or it moved) */
	PVL_OFF_HOST,		/* the host descheduled its vCPU */
};

static inline enum pvl_run pvl_thread_state(uint32_t cpu, uint32_t tid, enum pvlock_level lvl)
{
	uint32_t hs;

	if (lvl == PVLOCK_LEVEL_FUTEX || cpu >= pvl_chan.nr_cpus)
		return PVL_RUNNING;
	if (LOAD(&pvl_chan.cpus[cpu].tid) != tid)
		return PVL_OFF_GUEST;
	if (lvl != PVLOCK_LEVEL_BOTH)
		return PVL_RUNNING;
	hs = LOAD(&pvl_chan.host[cpu].host.state);
	return hs == PVLI_STATE_PREEMPTED || hs == PVLI_STATE_IDLE ? PVL_OFF_HOST : PVL_RUNNING;
}

/* ---- this thread ------------------------------------------------------------ */
/*
 * A waiter's queue node.  Nodes live in a pool that is never unmapped
 * (pvlock_channel.c): a successor may still read its predecessor's
 * node after the predecessor left and its thread exited, so a node's
 * memory must outlive its thread.  Reads of a recycled node only give a
 * wrong "running" answer, never a fault.
 */
struct pvl_node {
	uint32_t waiting;	/* 1 until the predecessor passes the head on */
	uint32_t tid;		/* owner thread, its CPU, its process */
	uint32_t cpu;
	uint32_t pid;
	struct pvl_node *next;
	/*
	 * The slow paths' counts of the threads that owned this node, on
	 * a line of their own: written only by the owner, without atomic
	 * read-modify-writes (a process-wide counter bounced its cache line
	 * between every pair of contending CPUs), summed by
	 * pvlock_stats_get() over the pool, which never shrinks.
	 */
	struct pvlock_stats stats __attribute__((aligned(64)));
} __attribute__((aligned(64)));

struct pvl_self {
	uint32_t tid;		/* 0 until first needed, and after fork */
	struct pvl_node *node;	/* from the pool, on the first queued wait */
};
extern __thread struct pvl_self pvl_self PVL_TLS PVL_HIDDEN;

uint32_t pvl_gettid(void) PVL_HIDDEN;
uint32_t pvl_getcpu_slow(void) PVL_HIDDEN;
struct pvl_node *pvl_node_get(void) PVL_HIDDEN;
extern long pvl_rseq_cpu_offset PVL_HIDDEN;	/* from the thread pointer; 0: none */

static inline uint32_t pvl_tid(void)
{
	uint32_t t = pvl_self.tid;

	return likely(t) ? t : pvl_gettid();
}

/* The CPU this thread runs on: rseq's cpu_id when glibc registered it. */
static inline uint32_t pvl_cpu(void)
{
	if (likely(pvl_rseq_cpu_offset)) {
		int32_t c = LOAD((int32_t *)((char *)__builtin_thread_pointer() +
					       pvl_rseq_cpu_offset));
		if (likely(c >= 0))
			return c;
	}
	return pvl_getcpu_slow();
}

/* ---- statistics ------------------------------------------------------------- */
/* Counts of threads without a node (the pool could not grow). */
extern struct pvlock_stats pvl_stats PVL_HIDDEN;
#define PVL_STAT(field) do { \
	struct pvl_node *__n = pvl_self.node; \
	if (likely(__n)) \
		STORE(&__n->stats.field, __n->stats.field + 1); \
	else \
		__atomic_fetch_add(&pvl_stats.field, 1, __ATOMIC_RELAXED); \
} while (0)

#endif /* __PVLOCK_CHANNEL_H */
