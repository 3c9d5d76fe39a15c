// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlocktrace: what a lock wait in the guest is made of.
 *
 * pvlockinfo.ko traces contention only (guest/module/pvli_trace_hooks.h):
 * pvli_lock_wait when a CPU starts to wait, and pvli_lock_acquired /
 * pvli_lock_release for every acquisition and release while somebody
 * waits.  Acquired and release fire inside the critical section, so for
 * one lock they arrive in the lock's own order.  From them this program
 * keeps, per lock, a timeline: held by a CPU since t (with that vCPU's
 * steal clock at t), or free since t; and clocks that only move forward:
 *
 *   pre   time held while the holder's vCPU was preempted (its steal)
 *   gap   time between a release and the next acquisition (hand-over)
 *   (run  time held while the holder's vCPU ran: the rest of the time)
 *
 *   acq(A)      rel(A)  acq(B)          rel(B)
 *   |--run--|pre|--run--|--gap--|--run--|--pre--|...
 *
 * A waiter reads the clocks at pvli_lock_wait, projecting the interval in
 * progress with the holder and holder's steal clock its event carries,
 * and again at its own pvli_lock_acquired: the differences are its wait
 * split into holder-running, holder-preempted and hand-over time.
 *
 * The first waiter of a busy period usually finds the lock held by a
 * holder that took it uncontended, untraced: the timeline does not know
 * that hold.  Its release is traced (a waiter exists by then), and the
 * release, finding a hold it did not see start, leaves an "orphan"
 * record: who, when it ended, the holder's steal clock then, and the
 * clocks then.  The waiter, which saw that holder's steal clock at its
 * start, splits [start, orphan end] itself and takes the clocks from
 * there.  If that release escaped tracing too (it raced the first
 * waiter's count), the wait is split as far as the clocks go and the
 * rest is counted as holder running, and holder_unknown says how often.
 *
 * Holders write a lock's timeline, serialised by the lock; waiters only
 * read it, from other CPUs, so it has a sequence count (odd while
 * written), bumped with atomic adds (full barriers); x86 keeps loads in
 * order, which is all a reader needs (the guest is x86-64).
 *
 * Lock events carry their own time stamp (the clock of bpf_ktime_get_ns(),
 * taken before the event read the steal clocks).
 *
 * The kernel's own spinlocks: fentry/fexit on the qspinlock slow path,
 * the total wait, and the waiter's own steal during it when pvlockinfo.ko
 * is loaded (its kfunc pvli_own_steal_ns(), weak here); qspinlock does
 * not record its holder, so no more split than that.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "bits.bpf.h"
#include "pvlocktrace.h"

char LICENSE[] SEC("license") = "GPL";

#define MAX_LOCKS	16384
#define READ_TRIES	4
#define KERNEL_NEST	4

struct timeline {
	__u32 seq;		/* odd while a holder writes */
	__u32 held;
	__s32 holder_cpu;
	__u32 policy;
	__u64 since;		/* acquisition (held) or release (free); 0: never */
	__u64 steal_at;		/* holder's steal clock at acquisition */
	__u64 pre, gap;		/* run is the rest: elapsed - pre - gap */
	/* The last release of a hold whose acquisition was not traced. */
	__s32 orphan_cpu;
	__u32 __pad;
	__u64 orphan_end;
	__u64 orphan_steal;
	__u64 orphan_pre, orphan_gap;	/* the clocks at orphan_end */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_LOCKS);
	__type(key, __u64);
	__type(value, struct timeline);
} timelines SEC(".maps");

/* This CPU's wait in progress (waits do not nest: preemption is off). */
struct wait {
	__u64 lock;		/* 0: none */
	__u64 start;
	__u64 pre, gap;		/* the lock's clocks at start */
	__u64 own_steal;
	__u32 policy;
	__u32 placed;		/* clocks valid */
	/* Started in a hold the timeline did not know (see the top). */
	__s32 orphan_cpu;	/* that holder; PVLI_TP_NO_CPU: none */
	__u64 orphan_steal;	/* its steal clock at our start */
	__u32 last_policy;	/* of this CPU's last lock event, for kicks */
	__u32 kernel_depth;
	__u64 kernel_lock[KERNEL_NEST];
	__u64 kernel_start[KERNEL_NEST];
	__u64 kernel_steal[KERNEL_NEST];	/* own steal clock at start */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct wait);
} waits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PVLT_NR);
	__type(key, __u32);
	__type(value, struct pvlt_stats);
} stats SEC(".maps");

static __always_inline struct pvlt_stats *stats_of(__u32 policy)
{
	__u32 key = policy < PVLT_NR ? policy : PVLI_TP_OTHER;

	return bpf_map_lookup_elem(&stats, &key);
}

static __always_inline struct wait *this_wait(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&waits, &zero);
}

static __always_inline void hist_add(struct pvlt_stats *s, __u64 ns)
{
	s->hist[log2_slot(ns, PVLT_HIST_SLOTS)]++;
}

static __always_inline bool steal_known(__u64 steal)
{
	return steal != PVLI_TP_STEAL_UNKNOWN;
}

/* Holder's preempted part of a hold of @len ns: steal advance, capped. */
static __always_inline __u64 preempted_part(__u64 steal_from, __u64 steal_to, __u64 len)
{
	__u64 d;

	if (!steal_known(steal_from) || !steal_known(steal_to) || steal_to <= steal_from)
		return 0;
	d = steal_to - steal_from;
	return d < len ? d : len;
}

static __always_inline void write_begin(struct timeline *tl)
{
	__sync_fetch_and_add(&tl->seq, 1);
}

static __always_inline void write_end(struct timeline *tl)
{
	__sync_fetch_and_add(&tl->seq, 1);
}

/* A consistent copy of @tl, written by a holder on another CPU. */
static __always_inline bool timeline_read(struct timeline *tl, struct timeline *c)
{
	/* Bounded loop: the verifier proves READ_TRIES iterations at most. */
	for (int i = 0; i < READ_TRIES; i++) {
		__u32 seq = READ_ONCE(tl->seq);

		if (seq & 1)
			continue;
		barrier();
		c->held = READ_ONCE(tl->held);
		c->holder_cpu = READ_ONCE(tl->holder_cpu);
		c->since = READ_ONCE(tl->since);
		c->steal_at = READ_ONCE(tl->steal_at);
		c->pre = READ_ONCE(tl->pre);
		c->gap = READ_ONCE(tl->gap);
		barrier();
		if (READ_ONCE(tl->seq) == seq)
			return true;
	}
	return false;
}

static __always_inline struct timeline *timeline_of(__u64 lock, __u32 policy)
{
	struct timeline *tl = bpf_map_lookup_elem(&timelines, &lock);
	struct timeline fresh = {
		.holder_cpu = PVLI_TP_NO_CPU, .orphan_cpu = PVLI_TP_NO_CPU, .policy = policy,
	};

	if (tl)
		return tl;
	/* First sight of @lock (BPF_NOEXIST: one creator wins, all use it). */
	bpf_map_update_elem(&timelines, &lock, &fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&timelines, &lock);
}

SEC("raw_tp/pvli_lock_wait")
int BPF_PROG(on_wait, __u64 lock, __u32 policy, __s32 holder_cpu, __u64 holder_steal,
	     __u64 own_steal, __u64 now)
{
	struct wait *w = this_wait();
	struct timeline *tl, c = {};
	struct pvlt_stats *s;

	if (!w)
		return 0;
	w->lock = lock;
	w->start = now;
	w->policy = policy;
	w->own_steal = own_steal;
	w->placed = 0;
	w->orphan_cpu = PVLI_TP_NO_CPU;
	w->last_policy = policy;

	/* A lock first seen at a wait: its holder's release will say (orphan). */
	tl = timeline_of(lock, policy);
	if (!tl)
		return 0;	/* map full: the wait stays unplaced */
	if (!timeline_read(tl, &c)) {
		/*
		 * A holder is writing it, stalled (its vCPU preempted) in
		 * the middle: its write is about a time before ours, so the
		 * clocks as they stand are the right base give or take that
		 * write.  Take them; the total stays exact, the split is
		 * approximate, and torn_starts says how often.
		 */
		if ((s = stats_of(policy)))
			s->torn_starts++;
		w->pre = READ_ONCE(tl->pre);
		w->gap = READ_ONCE(tl->gap);
		w->placed = 1;
		return 0;
	}
	w->pre = c.pre;
	w->gap = c.gap;
	w->placed = 1;
	if (c.held && c.holder_cpu == holder_cpu && c.since && now > c.since) {
		/* In a hold the timeline knows: project it to now. */
		__u64 len = now - c.since;
		__u64 p = preempted_part(c.steal_at, holder_steal, len);

		w->pre += p;
	} else if (holder_cpu != PVLI_TP_NO_CPU) {
		/* In a hold it does not know: its release will say. */
		w->orphan_cpu = holder_cpu;
		w->orphan_steal = holder_steal;
	} else if (!c.held && c.since && now > c.since) {
		/* Between holders. */
		w->gap += now - c.since;
	} else if ((s = stats_of(policy))) {
		s->holder_unknown++;
	}
	return 0;
}

/* Split @w's wait, ending @now with the lock's clocks in @tl, into @s. */
static __always_inline void account_wait(struct pvlt_stats *s, struct wait *w,
					 struct timeline *tl, __u64 now, __u64 own_steal)
{
	__u64 total = now > w->start ? now - w->start : 0;
	__u64 g = 0, p = 0, r, rest = total;
	__u64 base_pre = w->pre, base_gap = w->gap;

	if (!w->placed) {
		s->unplaced_waits++;
		s->unplaced_ns += total;
		rest = 0;
	} else if (w->orphan_cpu != PVLI_TP_NO_CPU) {
		if (tl->orphan_cpu == w->orphan_cpu && tl->orphan_end >= w->start &&
		    tl->orphan_end <= now) {
			/* [start, orphan_end] we split; after it, the clocks. */
			__u64 len = tl->orphan_end - w->start;

			p = preempted_part(w->orphan_steal, tl->orphan_steal, len);
			base_pre = tl->orphan_pre;
			base_gap = tl->orphan_gap;
		} else {
			s->holder_unknown++;
		}
	}
	/* Clamp: a projected steal clock can overshoot a little. */
	if (rest) {
		__u64 d;

		g = tl->gap > base_gap ? tl->gap - base_gap : 0;
		g = g < rest ? g : rest;
		rest -= g;
		d = tl->pre > base_pre ? tl->pre - base_pre : 0;
		p += d;
		p = p < rest ? p : rest;
	}
	r = rest - p;
	s->waits++;
	s->wait_ns += total;
	s->holder_running_ns += r;
	s->holder_preempted_ns += p;
	s->handoff_ns += g;
	if (steal_known(w->own_steal) && steal_known(own_steal)) {
		if (own_steal > w->own_steal)
			s->waiter_preempted_ns += own_steal - w->own_steal;
	} else {
		s->no_steal++;
	}
	hist_add(s, total);
}

SEC("raw_tp/pvli_lock_acquired")
int BPF_PROG(on_acquired, __u64 lock, __u32 policy, __u64 steal, __u64 now)
{
	struct wait *w = this_wait();
	struct pvlt_stats *s = stats_of(policy);
	struct timeline *tl = timeline_of(lock, policy);

	if (!w || !s || !tl)
		return 0;
	s->acquisitions++;
	w->last_policy = policy;

	write_begin(tl);
	/* Free since a release we saw: that was hand-over time. */
	if (!tl->held && tl->since && now > tl->since)
		tl->gap += now - tl->since;
	if (w->lock == lock)
		account_wait(s, w, tl, now, steal);
	else if (w->lock)
		s->missed_waits++;	/* took another lock than it waited for */
	w->lock = 0;
	tl->held = 1;
	tl->holder_cpu = bpf_get_smp_processor_id();
	tl->policy = policy;
	tl->since = now;
	tl->steal_at = steal;
	write_end(tl);
	return 0;
}

SEC("raw_tp/pvli_lock_release")
int BPF_PROG(on_release, __u64 lock, __u32 policy, __u64 steal, __u64 now)
{
	struct timeline *tl = timeline_of(lock, policy);
	struct wait *w = this_wait();
	__s32 cpu = bpf_get_smp_processor_id();

	if (!tl)
		return 0;
	if (w)
		w->last_policy = policy;
	write_begin(tl);
	if (tl->held && tl->holder_cpu == cpu && tl->since && now > tl->since) {
		__u64 len = now - tl->since;
		__u64 p = preempted_part(tl->steal_at, steal, len);

		tl->pre += p;
	} else {
		/* A hold we did not see start: leave it to its waiters. */
		tl->orphan_cpu = cpu;
		tl->orphan_end = now;
		tl->orphan_steal = steal;
		tl->orphan_pre = tl->pre;
		tl->orphan_gap = tl->gap;
	}
	tl->held = 0;
	tl->holder_cpu = PVLI_TP_NO_CPU;
	tl->since = now;
	write_end(tl);
	return 0;
}

/* Halts happen while waiting: the wait's policy.  Kicks: the kicker's last lock. */
SEC("raw_tp/pvli_halt")
int BPF_PROG(on_halt, int cpu)
{
	struct wait *w = this_wait();
	struct pvlt_stats *s;

	if (w && (s = stats_of(w->lock ? w->policy : PVLI_TP_OTHER)))
		s->halts++;
	return 0;
}

SEC("raw_tp/pvli_kick")
int BPF_PROG(on_kick, int cpu)
{
	struct wait *w = this_wait();
	struct pvlt_stats *s;

	if (w && (s = stats_of(w->last_policy)))
		s->kicks++;
	return 0;
}

SEC("raw_tp/pvli_shuffle")
int BPF_PROG(on_shuffle, __u64 lock, __u32 moved)
{
	struct wait *w = this_wait();
	struct pvlt_stats *s;

	if (w && (s = stats_of(w->lock == lock ? w->policy : PVLI_TP_OTHER))) {
		s->shuffles++;
		s->shuffled += moved;
	}
	return 0;
}

/* ---- the kernel's own spinlocks ------------------------------------------ */

/* pvlockinfo.ko's (guest/module/pvli_kfunc.c); absent without the module. */
extern __u64 pvli_own_steal_ns(void) __ksym __weak;

static __always_inline __u64 own_steal(void)
{
	if (!bpf_ksym_exists(pvli_own_steal_ns))
		return PVLI_TP_STEAL_UNKNOWN;
	return pvli_own_steal_ns();
}

/*
 * The clocks are read first, outside the bookkeeping, in an order that
 * keeps the steal window inside the timed one (time then steal at the
 * start, steal then time at the end): a host preemption in the
 * trampoline is then never counted as the wait's own steal.  The nesting
 * stack is one per CPU for all contexts; an interrupt whose fentry was
 * skipped as recursion still runs its fexit, so the slot is claimed and
 * read back in as few statements as possible, and a mismatch is counted.
 */
static __always_inline void kernel_enter(__u64 lock)
{
	__u64 start = bpf_ktime_get_ns(), steal = own_steal();
	struct wait *w = this_wait();
	__u32 d;

	if (!w)
		return;
	d = w->kernel_depth;
	w->kernel_depth = d + 1;
	if (d < KERNEL_NEST) {
		w->kernel_lock[d] = lock;
		w->kernel_start[d] = start;
		w->kernel_steal[d] = steal;
	}
}

static __always_inline void kernel_exit(__u64 lock)
{
	__u64 steal = own_steal(), now = bpf_ktime_get_ns();
	struct wait *w = this_wait();
	struct pvlt_stats *s = stats_of(PVLT_KERNEL);
	__u64 len, start_steal, slot_lock;
	__u32 d;

	if (!w || !s || !w->kernel_depth)
		return;
	d = --w->kernel_depth;
	if (d >= KERNEL_NEST)
		return;
	slot_lock = w->kernel_lock[d];
	len = now - w->kernel_start[d];
	start_steal = w->kernel_steal[d];
	/* An entry skipped for recursion leaves the stack out of step. */
	if (slot_lock != lock) {
		s->missed_waits++;
		w->kernel_depth = 0;
		return;
	}
	s->acquisitions++;
	s->waits++;
	s->wait_ns += len;
	/*
	 * Our own steal during the wait: the part the host had this vCPU off
	 * its CPU (a halt would have given nothing back then).  Host ns
	 * against guest ns: capped at the wait.  Unknown at either end (no
	 * page, or a stale record): counted, not guessed.
	 */
	if (steal_known(start_steal) && steal_known(steal))
		s->waiter_preempted_ns += preempted_part(start_steal, steal, len);
	else
		s->no_steal++;
	hist_add(s, len);
}

SEC("fentry/native_queued_spin_lock_slowpath")
int BPF_PROG(on_native_slowpath, struct qspinlock *lock, u32 val)
{
	kernel_enter((__u64)lock);
	return 0;
}

SEC("fexit/native_queued_spin_lock_slowpath")
int BPF_PROG(on_native_slowpath_exit, struct qspinlock *lock, u32 val)
{
	kernel_exit((__u64)lock);
	return 0;
}

SEC("fentry/__pv_queued_spin_lock_slowpath")
int BPF_PROG(on_pv_slowpath, struct qspinlock *lock, u32 val)
{
	kernel_enter((__u64)lock);
	return 0;
}

SEC("fexit/__pv_queued_spin_lock_slowpath")
int BPF_PROG(on_pv_slowpath_exit, struct qspinlock *lock, u32 val)
{
	kernel_exit((__u64)lock);
	return 0;
}
