/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The transitions of one vCPU's host record (include/pvli_abi.h), as pure
 * functions: host_sched.bpf.c calls them with what it read from the
 * kernel (the time, whether the thread stays runnable, the run quota, the
 * CPU), and tests/unit/test_vcpu_record.c calls the same code with made-up
 * inputs, concurrent writers and a record full of guest garbage.
 *
 * Writers of one record can run on different CPUs at once (a wakeup issued
 * from another CPU races with the thread's own switch-in), so the seqlock
 * is also the writers' lock: a writer enters by moving seq from even to
 * odd with a compare-and-swap, and every transition is decided inside it
 * from the current state, so the outcome does not depend on which CPU
 * gets there first:
 *   switch-in           -> RUNNING, always (the thread is about to run)
 *   switch-out          -> PREEMPTED (still runnable) or IDLE (blocked), always
 *   wakeup              -> PREEMPTED only if still IDLE
 *   repair              -> RUNNING, if it was not (a switch-in not reported)
 *   exit                -> UNKNOWN
 *
 * The record lives in the guest's BAR: the guest can write any value into
 * any field at any time, seq included.  Nothing here follows a field or
 * uses one as an index; a state out of range is just "not RUNNING"; a seq
 * the guest keeps odd makes every update give up after SEQ_SPIN_MAX tries
 * (counted as dropped), which hurts that guest's own channel only.  The
 * counters (struct pvli_vcpu_counters) are host-private and never read
 * back from the page.
 *
 * Include after vmlinux.h (in a unit test: <linux/types.h> and
 * <stdbool.h>), bits.bpf.h, pvli_abi.h, host_sched.h and
 * preempt_kind.bpf.h.
 */
#ifndef __PVLI_VCPU_RECORD_BPF_H
#define __PVLI_VCPU_RECORD_BPF_H

/* A writer spins this many times for a writer on another CPU to leave. */
#define SEQ_SPIN_MAX	64

/*
 * Seqlock writer side, multi-writer safe: enter by CAS of seq from even to
 * odd; leave by incrementing it back to even.  Both are lock-prefixed on
 * x86, hence full barriers: the field stores are ordered after the odd seq
 * (pairs with the reader's smp_rmb() after reading seq) and before the
 * even one (pairs with the reader's smp_rmb() before re-reading it).  The
 * other writer holds it for a few dozen instructions with IRQs off, so
 * the spin is short; if it ever runs out, the update is dropped and
 * counted rather than risking a stall inside the scheduler.
 *
 * The seqlock also covers the record's counters: every writer of a
 * vCPU's counters holds its record's seqlock, so they are plain
 * increments; only those counted when the lock could not be taken
 * (racing_writers, dropped) are atomic.  @c may be NULL.
 */
static __always_inline bool rec_seq_begin(struct pvli_vcpu_host *h,
					  struct pvli_vcpu_counters *c)
{
	for (int i = 0; i < SEQ_SPIN_MAX; i++) {
		__u32 seq = READ_ONCE(h->seq);

		if (!(seq & 1) && __sync_val_compare_and_swap(&h->seq, seq, seq + 1) == seq)
			return true;
		if (c && i == 0)
			__sync_fetch_and_add(&c->racing_writers, 1);
	}
	if (c)
		__sync_fetch_and_add(&c->dropped, 1);
	return false;
}

static __always_inline void rec_seq_end(struct pvli_vcpu_host *h)
{
	__sync_fetch_and_add(&h->seq, 1);
}

/* Make @h say RUNNING on @pcpu from @now with @quota left.  Seqlock held. */
static __always_inline void rec_write_running(struct pvli_vcpu_host *h, __u64 now,
					      __u64 quota, __u32 pcpu)
{
	if (h->state == PVLI_STATE_PREEMPTED && now > h->last_switch_ns)
		h->steal_ns += now - h->last_switch_ns;
	h->state = PVLI_STATE_RUNNING;
	h->last_switch_ns = now;
	h->quota_ns = quota;
	h->pcpu = pcpu;
}

/*
 * The vCPU's thread stops running at @now: it is still @runnable
 * (preempted) or blocked.  @kind is what the preemption hits in the guest
 * (read from the guest half before entering).  False if dropped.
 */
static __always_inline bool rec_switch_out(struct pvli_vcpu_host *h,
					   struct pvli_vcpu_counters *c, bool runnable,
					   enum pvli_preempt_kind kind, __u64 now)
{
	if (!rec_seq_begin(h, c))
		return false;
	if (c && h->state != PVLI_STATE_RUNNING && h->state != PVLI_STATE_UNKNOWN)
		c->out_not_running++;
	if (h->state == PVLI_STATE_RUNNING && now > h->last_switch_ns)
		h->run_ns += now - h->last_switch_ns;
	h->state = runnable ? PVLI_STATE_PREEMPTED : PVLI_STATE_IDLE;
	h->last_switch_ns = now;
	h->quota_ns = 0;
	if (runnable) {
		h->preempt_count++;
		if (kind == PVLI_PREEMPT_LHP)
			h->lhp_count++;
		else if (kind == PVLI_PREEMPT_LWP)
			h->lwp_count++;
	}
	if (c) {
		c->switch_out++;
		if (runnable) {
			c->preempted++;
			if (kind == PVLI_PREEMPT_LHP)
				c->lhp++;
			else if (kind == PVLI_PREEMPT_LWP)
				c->lwp++;
		}
	}
	rec_seq_end(h);
	return true;
}

/* The vCPU's thread runs from @now on @pcpu with @quota.  False if dropped. */
static __always_inline bool rec_switch_in(struct pvli_vcpu_host *h,
					  struct pvli_vcpu_counters *c, __u64 now,
					  __u64 quota, __u32 pcpu)
{
	if (!rec_seq_begin(h, c))
		return false;
	if (c) {
		c->switch_in++;
		if (h->state == PVLI_STATE_RUNNING)
			c->in_running++;
	}
	rec_write_running(h, now, quota, pcpu);
	rec_seq_end(h);
	return true;
}

/*
 * The vCPU's thread was woken at @now: runnable, waiting for a CPU, if it
 * was still blocked (a switch-in may have won the race).  True if the
 * record changed.
 */
static __always_inline bool rec_wakeup(struct pvli_vcpu_host *h,
				       struct pvli_vcpu_counters *c, __u64 now)
{
	bool woke = false;

	if (!rec_seq_begin(h, c))
		return false;
	if (h->state == PVLI_STATE_IDLE) {
		h->state = PVLI_STATE_PREEMPTED;
		h->last_switch_ns = now;
		woke = true;
		if (c)
			c->wakeups++;
	}
	rec_seq_end(h);
	return woke;
}

/*
 * The vCPU's thread is running now (it is current): if the record does
 * not say so, its switch-in was not reported; say so.  True if repaired.
 */
static __always_inline bool rec_repair(struct pvli_vcpu_host *h,
				       struct pvli_vcpu_counters *c, __u64 now,
				       __u64 quota, __u32 pcpu)
{
	bool fixed = false;

	if (!rec_seq_begin(h, c))
		return false;
	if (h->state != PVLI_STATE_RUNNING) {
		rec_write_running(h, now, quota, pcpu);
		fixed = true;
		if (c)
			c->repaired++;
	}
	rec_seq_end(h);
	return fixed;
}

/* The vCPU's thread exited at @now. */
static __always_inline void rec_exit(struct pvli_vcpu_host *h, struct pvli_vcpu_counters *c,
				     __u64 now)
{
	if (!rec_seq_begin(h, c))
		return;
	h->state = PVLI_STATE_UNKNOWN;
	h->last_switch_ns = now;
	rec_seq_end(h);
}

/* What the VM may see of its host CPU: @cpu if it opted in (PVLI_VM_PCPU). */
static __always_inline __u32 rec_pcpu(__u32 vm_flags, __u32 cpu)
{
	return vm_flags & PVLI_VM_PCPU ? cpu : PVLI_PCPU_UNKNOWN;
}

#endif /* __PVLI_VCPU_RECORD_BPF_H */
