// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockstat: what double scheduling costs each vCPU, measured on the host.
 *
 * pvlockd already knows which host threads are vCPUs and where each VM's
 * shared page is; this program reuses its pinned maps (vcpus, pages) rather
 * than keeping a registry of its own, so it sees VMs come and go with
 * pvlockd.  At every switch-out of a vCPU thread that is still runnable
 * (a preemption) it reads the guest-written half of that vCPU's record,
 * as the guest left it a moment ago, and classifies the preemption as a
 * lock-holder preemption (LHP), a lock-waiter preemption (LWP) or
 * harmless, by the rule host_sched.bpf.c counts with too
 * (preempt_kind.bpf.h); those a guest kernel spinlock caused (takeover
 * mode) are also counted as lhp_kernel / lwp_kernel.  It starts a clock
 * that the thread's next switch-in stops: that is its run-queue wait
 * (steal, seen from the guest), and for an LHP the off-CPU time of a
 * preempted lock holder, the delay every waiter of that lock suffers.
 *
 * A vCPU thread can also lose its pCPU while blocked: under TCG it blocks
 * on QEMU's own locks (the BQL, exclusive sections) many times a second,
 * and if another task takes the pCPU meanwhile, the wakeup finds it busy.
 * For the guest that is the same harm as a preemption, so a wait that
 * starts at a wakeup is classified the same way (guest half read at the
 * wakeup, when the vCPU is not running) and counted as LHP/LWP when it
 * ends, if another task ran on the pCPU in between (the switch-in's prev
 * is not the idle task).  A wakeup onto an idle pCPU is no contention and
 * counts as a plain run-queue wait.
 *
 * The guest half is untrusted: it is only loaded, bounded and tested for
 * zero, never followed or used as an index.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "pvli_abi.h"
#include "bits.bpf.h"
#include "host_sched.h"
#include "pvlockstat.h"
#include "pvli_maps.bpf.h"
#include "preempt_kind.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Only count vCPUs of this pvlockd slot; -1: all VMs. */
const volatile int targ_vm_slot = -1;

/* Ours: per vCPU thread statistics, and the wait in progress. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PVLI_MAX_VCPU_THREADS);
	__type(key, __u32);
	__type(value, struct pvls_vcpu);
} stats SEC(".maps");

struct wait {
	__u64 since;
	__u32 kind;		/* enum pvli_preempt_kind, from the guest half at the start */
	__u32 woken;		/* started at a wakeup, not at a preemption */
	__u32 kernel;		/* the kind came from a kernel spinlock */
	__u32 __pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PVLI_MAX_VCPU_THREADS);
	__type(key, __u32);
	__type(value, struct wait);
} waits SEC(".maps");

static const struct pvls_vcpu zero;

/* The registration of thread @tid if it is a vCPU we count, else NULL. */
static __always_inline struct pvli_vcpu_ref *vcpu_ref(__u32 tid)
{
	struct pvli_vcpu_ref *ref = bpf_map_lookup_elem(&vcpus, &tid);

	if (!ref || (targ_vm_slot >= 0 && ref->vm_slot != (__u32)targ_vm_slot))
		return NULL;
	return ref;
}

static __always_inline struct pvls_vcpu *vcpu_stats(__u32 tid, const struct pvli_vcpu_ref *ref)
{
	struct pvls_vcpu *s = bpf_map_lookup_elem(&stats, &tid);

	if (s)
		return s;
	bpf_map_update_elem(&stats, &tid, &zero, BPF_NOEXIST);
	s = bpf_map_lookup_elem(&stats, &tid);
	if (s) {
		/* Identity of the thread; set before any counter moves. */
		s->vm_slot = ref->vm_slot;
		s->vcpu = ref->vcpu;
	}
	return s;
}

/* One more wait of @ns in @hist, by microseconds. */
static __always_inline void hist_add(__u32 *hist, __u64 ns)
{
	__sync_fetch_and_add(&hist[log2_slot(ns / 1000, PVLS_HIST_SLOTS)], 1);
}

/* The guest half of vCPU @ref's record, or NULL when its page is gone. */
static __always_inline struct pvli_vcpu_guest *guest_half(const struct pvli_vcpu_ref *ref)
{
	struct pvli_vcpu *rec = page_elem(ref->vm_slot, ref->vcpu + 1);

	return rec ? &rec->guest : NULL;
}

/* @w's kind: what losing its pCPU now hits in @ref's guest, as the record says. */
static __always_inline void wait_kind(const struct pvli_vcpu_ref *ref, struct wait *w)
{
	struct pvli_vcpu_guest *g = guest_half(ref);
	bool kernel = false;

	w->kind = g ? pvli_preempt_kind(g, &kernel) : PVLI_PREEMPT_HARMLESS;
	w->kernel = kernel;
}

/* One more LHP or LWP of kind @w on @s. */
static __always_inline void count_kind(struct pvls_vcpu *s, const struct wait *w)
{
	if (w->kind == PVLI_PREEMPT_LHP) {
		__sync_fetch_and_add(&s->lhp, 1);
		if (w->kernel)
			__sync_fetch_and_add(&s->lhp_kernel, 1);
	} else if (w->kind == PVLI_PREEMPT_LWP) {
		__sync_fetch_and_add(&s->lwp, 1);
		if (w->kernel)
			__sync_fetch_and_add(&s->lwp_kernel, 1);
	}
}

static __always_inline void switch_out(__u32 tid, const struct pvli_vcpu_ref *ref, __u64 now)
{
	struct pvls_vcpu *s = vcpu_stats(tid, ref);
	struct wait w = { .since = now };

	if (!s)
		return;
	wait_kind(ref, &w);
	__sync_fetch_and_add(&s->preempted, 1);
	count_kind(s, &w);
	bpf_map_update_elem(&waits, &tid, &w, BPF_ANY);
}

/* @contended: another task ran on this pCPU since the wait began. */
static __always_inline void switch_in(__u32 tid, const struct pvli_vcpu_ref *ref, __u64 now,
				      bool contended)
{
	struct wait *w = bpf_map_lookup_elem(&waits, &tid);
	struct pvls_vcpu *s;
	__u32 kind;
	__u64 d;

	if (!w)
		return;
	d = now > w->since ? now - w->since : 0;
	kind = w->kind;
	if (w->woken && !contended)
		kind = PVLI_PREEMPT_HARMLESS;
	s = vcpu_stats(tid, ref);
	if (s) {
		__sync_fetch_and_add(&s->steal_ns, d);
		__sync_fetch_and_add(&s->rq_waits, 1);
		hist_add(s->rq_hist, d);
		if (w->woken && kind != PVLI_PREEMPT_HARMLESS)
			count_kind(s, w);
		if (kind == PVLI_PREEMPT_LHP) {
			__sync_fetch_and_add(&s->lhp_offcpu_ns, d);
			hist_add(s->lhp_hist, d);
		} else if (kind == PVLI_PREEMPT_LWP) {
			__sync_fetch_and_add(&s->lwp_offcpu_ns, d);
			hist_add(s->lwp_hist, d);
		}
	}
	bpf_map_delete_elem(&waits, &tid);
}

static __always_inline int on_switch(struct task_struct *prev, struct task_struct *next,
				     unsigned int prev_state)
{
	__u64 now = bpf_ktime_get_ns();
	struct pvli_vcpu_ref *ref;
	__u32 tid;

	tid = BPF_CORE_READ(prev, pid);
	ref = vcpu_ref(tid);
	if (ref) {
		if (prev_state == 0)	/* TASK_RUNNING: still runnable, preempted */
			switch_out(tid, ref, now);
		else			/* blocked (the guest halted it): no wait yet */
			bpf_map_delete_elem(&waits, &tid);
	}
	tid = BPF_CORE_READ(next, pid);
	ref = vcpu_ref(tid);
	if (ref)	/* pid 0: this CPU's idle task */
		switch_in(tid, ref, now, BPF_CORE_READ(prev, pid) != 0);
	return 0;
}

static __always_inline int on_wakeup(struct task_struct *p)
{
	__u32 tid = BPF_CORE_READ(p, pid);
	struct pvli_vcpu_ref *ref = vcpu_ref(tid);
	struct wait w = { .woken = 1 };

	/* A thread woken before it got off its CPU does not wait for one. */
	if (!ref || BPF_CORE_READ(p, on_cpu))
		return 0;
	w.since = bpf_ktime_get_ns();
	wait_kind(ref, &w);
	/* A preemption already waiting keeps its start and its kind. */
	bpf_map_update_elem(&waits, &tid, &w, BPF_NOEXIST);
	return 0;
}

/*
 * The current task runs now.  If it is a vCPU with a wait still open, its
 * switch-in was not reported (host_sched.bpf.c measured ~1 in 250): end
 * the wait here, counting it as contended since the previous task is not
 * known.
 */
static __always_inline int repair_switch_in(void)
{
	__u32 tid = bpf_get_current_pid_tgid();
	struct pvli_vcpu_ref *ref;

	if (!bpf_map_lookup_elem(&waits, &tid))
		return 0;
	ref = vcpu_ref(tid);
	if (ref)
		switch_in(tid, ref, bpf_ktime_get_ns(), true);
	return 0;
}

SEC("tp_btf/sched_exit_tp")
int BPF_PROG(pvls_sched_exit_btf, bool is_switch)
{
	return repair_switch_in();
}

SEC("tp_btf/sched_stat_runtime")
int BPF_PROG(pvls_runtime_btf, struct task_struct *p, __u64 runtime)
{
	return repair_switch_in();
}

/*
 * tp_btf only: pvlockstat refuses to start without kernel BTF (its CO-RE
 * reads need it anyway), so raw_tp twins would never be loaded.
 */
SEC("tp_btf/sched_switch")
int BPF_PROG(pvls_switch_btf, bool preempt, struct task_struct *prev,
	     struct task_struct *next, unsigned int prev_state)
{
	return on_switch(prev, next, prev_state);
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(pvls_wakeup_btf, struct task_struct *p)
{
	return on_wakeup(p);
}
