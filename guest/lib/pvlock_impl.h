/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * libpvlock internals: the channel (who runs where), per-thread identity,
 * the waiters' queue, futex and atomics helpers.
 *
 * "Running" means, for a thread that recorded (cpu, tid):
 *   guest level: the scheduler view of that CPU names tid;
 *   host level:  and the host's record of that vCPU is not PREEMPTED or
 *                IDLE (UNKNOWN counts as running: no news is no reason
 *                to block).
 * A CPU the view does not cover counts as running too.
 */
#ifndef __PVLOCK_IMPL_H
#define __PVLOCK_IMPL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "pvlock.h"
#include "pvli_abi.h"
#include "pvli_uapi.h"

#define PVL_HIDDEN __attribute__((visibility("hidden")))
#define PVL_TLS __attribute__((tls_model("initial-exec")))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* ---- atomics: every racy access says its ordering ---------------------- */
#define LOAD(p)			__atomic_load_n((p), __ATOMIC_RELAXED)
#define LOAD_ACQ(p)		__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v)		__atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define STORE_REL(p, v)		__atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define XCHG_ACQ(p, v)		__atomic_exchange_n((p), (v), __ATOMIC_ACQUIRE)
#define XCHG_REL(p, v)		__atomic_exchange_n((p), (v), __ATOMIC_RELEASE)
#define XCHG_ACQREL(p, v)	__atomic_exchange_n((p), (v), __ATOMIC_ACQ_REL)
/* Compare-and-swap that acquires on success (a lock taken). */
#define CAS_ACQ(p, old, new) ({ __typeof__(*(p)) __o = (old); \
	__atomic_compare_exchange_n((p), &__o, (new), false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED); })
#define CAS_REL(p, old, new) ({ __typeof__(*(p)) __o = (old); \
	__atomic_compare_exchange_n((p), &__o, (new), false, __ATOMIC_RELEASE, __ATOMIC_RELAXED); })

static inline void pvl_pause(void)
{
	__builtin_ia32_pause();
}

static inline void pvl_pause_n(unsigned int n)
{
	while (n--)
		__builtin_ia32_pause();
}

/*
 * The longest gap between two looks at a lock's cache line by a
 * spinning waiter, in pauses (a pause is 10 to 60 ns, more in a nested
 * guest): short against the time a holder may be descheduled, long
 * against a tight lock/unlock loop's iteration.
 */
#define PVL_POLL_MAX	16

/* ---- futex ------------------------------------------------------------------ */
/* 0, or -errno (-EAGAIN: *word != val; -ETIMEDOUT; -EINTR). */
int pvl_futex_wait(uint32_t *word, uint32_t val, clockid_t clock,
		   const struct timespec *abstime) PVL_HIDDEN;
void pvl_futex_wake(uint32_t *word, int n) PVL_HIDDEN;
/*
 * Sleep up to @ns while *@word == @val, woken by nobody; counted in
 * pvl_parks, and in pvl_parks_full if it slept all of @ns.  Returns 0
 * or -errno (-EAGAIN: *@word was not @val, no sleep).
 */
int pvl_futex_park(uint32_t *word, uint32_t val, long ns) PVL_HIDDEN;
/*
 * How long a waiter whose holder's vCPU the host preempted sleeps per
 * park (the mutex's and the spinlock's reasons are at their park()):
 * far shorter than a host slice, far longer than a futex round trip.
 */
#define PVL_PARK_NS	300000L
/*
 * A waiter parks only once it has watched its holder's vCPU stay
 * preempted this long, counted from the first look that found it off,
 * if the host took that vCPU off while the waiter's own ran
 * (pvl_off_while_we_ran(); else it parks at once).  The kernel locks'
 * lock_park_delay_ns is the same delay, without that condition.  Most
 * host preemptions at 1x are a host thread's few tens of us (QEMU's own
 * threads, a kworker): a park then sleeps its whole PVL_PARK_NS past the
 * holder's return, where a spinning waiter would have had the lock.
 * Measured in one guest, variants interleaved, 1 s runs, median of the
 * per-repetition ratio against no delay (README, "Spinlocks"): 1x micro
 * and micro-spin 1.05 and 1.04, every one of 8 repetitions ahead; 2x
 * and 4x level (at 4x no watch ever begins).  A 1 ms delay, without the
 * condition, cost 2x and 4x up to 18%.
 */
#define PVL_PARK_DELAY_NS	50000
/* PVL_PARK_DELAY_NS; a variable so that tests can change it. */
extern int64_t pvl_park_delay_ns PVL_HIDDEN;
/* Watches begun: looks that found a holder's vCPU off and started the delay. */
extern uint64_t pvl_park_delays PVL_HIDDEN;

/*
 * One waiter's watch of its holder's host preemption.  The clock is read
 * when a watch begins and then every PVL_AWAY_CLOCK_EVERY looks: without
 * a vDSO clock a read is a system call.
 */
#define PVL_AWAY_CLOCK_EVERY	8
struct pvl_away {
	uint64_t holder;	/* the holder record (the spinlock's word) watched */
	uint64_t since;		/* CLOCK_MONOTONIC ns it was first seen off; 0 none */
	unsigned int looks;	/* since the last clock read */
	bool expired;		/* the delay has passed: park (until the watch ends) */
};

/* CLOCK_MONOTONIC in ns, or 0 if it cannot be read. */
static inline uint64_t pvl_now_ns(void)
{
	struct timespec t;

	if (clock_gettime(CLOCK_MONOTONIC, &t))
		return 0;
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/*
 * The host preempted the vCPU of @holder: has this waiter watched it
 * stay off for pvl_park_delay_ns?  A new holder starts a new watch; the
 * caller ends one (since = 0) when it sees the holder running or the
 * word free, and after a futex wake (an unlock came between: any holder
 * now is a new one).  Without a clock it parks at once, as with no
 * delay.
 */
static inline bool pvl_away_long(struct pvl_away *a, uint64_t holder)
{
	int64_t delay = LOAD(&pvl_park_delay_ns);
	uint64_t now;

	if (delay <= 0)
		return true;
	if (a->since && a->holder == holder) {
		if (a->expired)
			return true;
		if (++a->looks < PVL_AWAY_CLOCK_EVERY)
			return false;
	}
	a->looks = 0;
	now = pvl_now_ns();
	if (!now)
		return true;
	if (!a->since || a->holder != holder) {
		a->holder = holder;
		a->since = now;
		a->expired = false;
		__atomic_fetch_add(&pvl_park_delays, 1, __ATOMIC_RELAXED);
	}
	a->expired = now - a->since >= (uint64_t)delay;
	return a->expired;
}

/* Whether @abstime on @clock has passed; EINVAL-worthy times count as passed. */
bool pvl_deadline_passed(clockid_t clock, const struct timespec *abstime) PVL_HIDDEN;
static inline bool pvl_timespec_valid(const struct timespec *t)
{
	return t->tv_nsec >= 0 && t->tv_nsec < 1000000000L;
}

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

/* ---- the mutex's fast paths, inlined into the interposer too ------------------ */
/* Polls of a free word before a waiter queues (pvlock_mutex.c). */
#define PVL_PRESPIN	8

int pvl_mutex_lock_slow(pvlock_mutex_t *m, clockid_t clock,
			const struct timespec *abstime) PVL_HIDDEN;

/* The new holder names itself for waiters (pvlock_mutex.c). */
static inline void pvl_mutex_took(pvlock_mutex_t *m)
{
	STORE(&m->holder, (uint64_t)pvl_cpu() << 32 | pvl_tid());
}

static inline int pvl_mutex_lock_inline(pvlock_mutex_t *m)
{
	if (likely(CAS_ACQ(&m->word, 0, 1))) {
		pvl_mutex_took(m);
		return 0;
	}
	return pvl_mutex_lock_slow(m, CLOCK_REALTIME, NULL);
}

static inline int pvl_mutex_trylock_inline(pvlock_mutex_t *m)
{
	if (LOAD(&m->word) == 0 && CAS_ACQ(&m->word, 0, 1)) {
		pvl_mutex_took(m);
		return 0;
	}
	return EBUSY;
}

static inline int pvl_mutex_unlock_inline(pvlock_mutex_t *m)
{
	STORE(&m->holder, 0);
	/* Orders the critical section before the release; pairs with CAS_ACQ/XCHG_ACQ. */
	if (XCHG_REL(&m->word, 0) == 2)
		pvl_futex_wake(&m->word, 1);
	return 0;
}

/* ---- statistics ------------------------------------------------------------- */
/* Counts of threads without a node (the pool could not grow). */
extern struct pvlock_stats pvl_stats PVL_HIDDEN;
/* Parks of mutex and spinlock waiters (pvl_futex_park()); a syscall follows each. */
extern uint64_t pvl_parks PVL_HIDDEN;
/*
 * Of those, the ones that slept their whole term: the value matched when
 * the sleep began (nobody wakes a park, so a release during it does not
 * end it either).
 */
extern uint64_t pvl_parks_full PVL_HIDDEN;
#define PVL_STAT(field) do { \
	struct pvl_node *__n = pvl_self.node; \
	if (likely(__n)) \
		STORE(&__n->stats.field, __n->stats.field + 1); \
	else \
		__atomic_fetch_add(&pvl_stats.field, 1, __ATOMIC_RELAXED); \
} while (0)

/* ---- the waiters' queue (pvlock_queue.c) ------------------------------------ */
/*
 * Who holds a lock, for waiters: a mutex keeps (cpu << 32 | tid) beside
 * its word, a spinlock packs (cpu << 22 | tid) into its word.
 */
struct pvl_lockref {
	const uint32_t *word;
	const uint64_t *holder;		/* NULL: decode the word */
};

#define PVL_SPIN_TID_BITS	22	/* PID_MAX_LIMIT on 64-bit is 1 << 22 */
#define PVL_SPIN_CPU_NONE	((1u << (32 - PVL_SPIN_TID_BITS)) - 1)

/*
 * Whether the holder of @r runs (pvl_thread_state() of the CPU and
 * thread it names), and *@seen is the holder record it classified
 * (for a lock without one, the word; 0: none named): a mutex waiter
 * that parks sleeps on its TID half (a spinlock waiter on the word), so
 * that a release, or a take by another thread, after the look and
 * before the sleep cancels the park.  For the mutex, the same thread
 * taking the lock again (on another CPU, say) does not: the futex
 * compares 32 bits, and the CPU is in the other half.
 */
static inline enum pvl_run pvl_holder_state_seen(const struct pvl_lockref *r,
						 enum pvlock_level lvl, uint64_t *seen)
{
	uint32_t cpu, tid;

	if (r->holder) {
		uint64_t h = LOAD(r->holder);

		*seen = h;
		if (!h)
			return PVL_RUNNING;	/* between the take and its record */
		cpu = h >> 32;
		tid = (uint32_t)h;
	} else {
		uint32_t w = LOAD(r->word);

		*seen = w;
		if (!w)
			return PVL_RUNNING;
		cpu = w >> PVL_SPIN_TID_BITS;
		tid = w & ((1u << PVL_SPIN_TID_BITS) - 1);
		if (cpu == PVL_SPIN_CPU_NONE)
			return PVL_RUNNING;
	}
	/* Waiting for ourselves: sleep rather than spin the deadlock away. */
	if (tid == pvl_tid())
		return PVL_OFF_GUEST;
	return pvl_thread_state(cpu, tid, lvl);
}

/*
 * Did the host take the vCPU of the holder named in @seen off while
 * this waiter's own vCPU was running?  Then the holder waits for
 * another host CPU than ours (ours has run us all along), and spinning
 * here does not keep it off: that preemption may be spun out.  If it
 * went off before ours came on, or when the host switched from it to
 * ours (one time stamp for both), ours may well have its host CPU (at
 * 4x, four vCPUs on one host CPU, always): park at once.  So too when
 * our own record does not say RUNNING (an update the host dropped, a
 * thread it does not know): then its time is not when we came on.
 *
 * Both times are the host's (last_switch_ns), read without the records'
 * seqlock: state and time from different updates only move the choice
 * between two safe ones.  A holder the host woke from IDLE (halted with
 * the lock held, as in a kernel lock wait inside a system call) has
 * its wake-up time there, not when it went off: such a waiter may spin
 * the delay out where it should have parked.
 */
static inline bool pvl_off_while_we_ran(const struct pvl_lockref *r, uint64_t seen)
{
	uint32_t holder = r->holder ? seen >> 32 : (uint32_t)seen >> PVL_SPIN_TID_BITS;
	uint32_t self = pvl_cpu();
	const struct pvli_vcpu_host *me;

	if (holder >= pvl_chan.nr_cpus || self >= pvl_chan.nr_cpus || holder == self)
		return false;
	me = &pvl_chan.host[self].host;
	if (LOAD(&me->state) != PVLI_STATE_RUNNING)
		return false;
	return LOAD(&pvl_chan.host[holder].host.last_switch_ns) > LOAD(&me->last_switch_ns);
}

/*
 * Whether a waiter should stop spinning behind the holder of a taken
 * lock: PVL_OFF_GUEST or PVL_OFF_HOST if so, else PVL_RUNNING.  A host
 * preemption that began while this waiter's vCPU ran counts once the
 * waiter has watched it for the park delay (@a); until then the holder
 * reads as running.  *@seen: the record classified
 * (pvl_holder_state_seen()).
 */
static inline enum pvl_run pvl_holder_off(const struct pvl_lockref *r, enum pvlock_level lvl,
					  struct pvl_away *a, uint64_t *seen)
{
	enum pvl_run why = pvl_holder_state_seen(r, lvl, seen);

	if (why == PVL_RUNNING)
		a->since = 0;
	else if (why == PVL_OFF_HOST && pvl_off_while_we_ran(r, *seen) &&
		 !pvl_away_long(a, *seen))
		return PVL_RUNNING;
	return why;
}

static inline void pvl_count_off(enum pvl_run why)
{
	if (why == PVL_OFF_HOST)
		PVL_STAT(holder_off_host);
	else
		PVL_STAT(holder_off_guest);
}

enum pvl_queue_exit {
	PVL_Q_HEAD,		/* first in the queue: compete for the word */
	PVL_Q_BYPASS,		/* the predecessor is not running: compete anyway */
	PVL_Q_HOLDER_OFF,	/* the holder stopped running (pvl_holder_off()): stop spinning */
};

extern uint64_t pvl_queue_holder_off PVL_HIDDEN;	/* PVL_Q_HOLDER_OFF exits */
/* @away: the caller's watch of its holder, for PVL_Q_HOLDER_OFF. */
enum pvl_queue_exit pvl_queue_enter(struct pvl_node **tail, struct pvl_node *n,
				    const struct pvl_lockref *r, enum pvlock_level lvl,
				    struct pvl_away *away) PVL_HIDDEN;
void pvl_queue_leave(struct pvl_node **tail, struct pvl_node *n) PVL_HIDDEN;

#endif /* __PVLOCK_IMPL_H */
