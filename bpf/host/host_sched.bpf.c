// SPDX-License-Identifier: GPL-2.0-only
/*
 * host_sched: publish every vCPU thread's scheduling state into its VM's
 * shared page, at the instant the host scheduler changes it.
 *
 * pvlockd registers vCPU threads (vcpus: tid -> {vm slot, vCPU}) and puts
 * each VM's page map into the pages map-in-map.  The page maps are
 * BPF_F_MMAPABLE arrays that QEMU maps into the guest (memory-backend-bpf),
 * so the stores below are what the guest reads: no copy, no daemon in the
 * data path.  Layout and field meanings: include/pvli_abi.h.
 *
 * Transitions written, per vCPU thread:
 *   sched_switch, prev is the vCPU:  RUNNING -> PREEMPTED (still runnable)
 *                                    RUNNING -> IDLE      (blocked: halt)
 *   sched_wakeup:                    IDLE    -> PREEMPTED (runnable, waiting)
 *   sched_switch, next is the vCPU:  *       -> RUNNING   (+ fresh quota)
 *   sched_process_exit:              *       -> UNKNOWN
 *   sched_exit_tp (end of __schedule, current = the task that runs now):
 *                                    *       -> RUNNING, if it was not
 *
 * The last one is a repair.  Measured on a 6.18 host (bpftrace on the raw
 * tracepoint agrees): about 1 in 250 times a thread resumes without a
 * sched_switch naming it as next, and its record would say PREEMPTED for
 * as long as it then runs.  sched_exit_tp fires on every return from
 * __schedule() with the running task as current, so the record is put
 * right before the thread runs.  Kernels without sched_exit_tp (before
 * 6.18) use sched_stat_runtime instead, which fires for the running task
 * at least every tick; the repairs are counted either way.
 *
 * Writers of one record can run on different CPUs at once: a wakeup
 * issued from another CPU races with the thread's own switch-in (measured:
 * without a writers' lock, a running thread found its record saying
 * PREEMPTED, written by a remote wakeup after its switch-in).  The
 * transitions themselves, and that lock, are pure functions in
 * vcpu_record.bpf.h, which the unit tests compile too; this file reads
 * the kernel (times, states, quotas) and calls them.
 *
 * What a VM learns beyond its own vCPUs' states is per VM (vm_opts, set
 * by pvlockd): the host CPU number only if it asked, and a run quota
 * bounded inside its own cgroup unless it asked for the ancestors'
 * bandwidth pools and sibling competition too, which other VMs share.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "pvli_abi.h"
#include "bits.bpf.h"
#include "host_sched.h"
#include "core_fixes.bpf.h"
#include "pvli_maps.bpf.h"
#include "preempt_kind.bpf.h"
#include "vcpu_record.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/*
 * Field reads from kernel pointers: tp_btf programs (@btf true) may load
 * them directly, which is cheaper than bpf_probe_read_kernel(); raw_tp
 * programs must use BPF_CORE_READ.  @btf is always a constant, so each
 * program keeps only its own kind of read.
 */
#define KREAD(btf, ptr, field)	((btf) ? (ptr)->field : BPF_CORE_READ(ptr, field))

/* scale_load(1024) on 64-bit: the weight at which vruntime is real time. */
#define NICE_0_LOAD	(1ULL << 20)
/* Deepest task-group nesting walked for the quota. */
#define MAX_GROUP_DEPTH	8

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PVLI_MAX_VMS * PVLI_MAX_VCPUS_PER_VM);
	__type(key, __u32);
	__type(value, struct pvli_vcpu_counters);
} counters SEC(".maps");

/* VM slot -> what it may be told (host_sched.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PVLI_MAX_VMS);
	__type(key, __u32);
	__type(value, struct pvli_vm_opts);
} vm_opts SEC(".maps");

static __always_inline const struct pvli_vm_opts *opts_of(const struct pvli_vcpu_ref *ref)
{
	__u32 slot = ref->vm_slot;

	return bpf_map_lookup_elem(&vm_opts, &slot);
}

static __always_inline struct pvli_vcpu_counters *vcpu_counters(const struct pvli_vcpu_ref *ref)
{
	__u32 key;

	if (ref->vcpu >= PVLI_MAX_VCPUS_PER_VM || ref->vm_slot >= PVLI_MAX_VMS)
		return NULL;
	key = ref->vm_slot * PVLI_MAX_VCPUS_PER_VM + ref->vcpu;
	return bpf_map_lookup_elem(&counters, &key);
}

/*
 * vCPU @ref's record in its VM's page, or NULL when the page is gone
 * (its VM is being torn down), which @c counts as missing_page.
 */
static __always_inline struct pvli_vcpu *vcpu_record(const struct pvli_vcpu_ref *ref,
						     struct pvli_vcpu_counters *c)
{
	struct pvli_vcpu *rec = page_elem(ref->vm_slot, ref->vcpu + 1);

	if (!rec && c)
		__sync_fetch_and_add(&c->missing_page, 1);
	return rec;
}

static __always_inline void heartbeat(__u32 slot, __u64 now)
{
	struct pvli_page_hdr *hdr = page_elem(slot, 0);

	if (hdr)
		WRITE_ONCE(hdr->heartbeat_ns, now);
}

/* Real ns an entity may still run before its EEVDF deadline. */
static __always_inline __u64 slice_left_ns(struct sched_entity *se, bool btf)
{
	__s64 vleft = (__s64)(KREAD(btf, se, deadline) - KREAD(btf, se, vruntime));
	__u64 weight = KREAD(btf, se, load.weight);

	if (vleft <= 0)
		return 0;
	/* vruntime advances by delta * NICE_0_LOAD / weight. */
	return (__u64)vleft * weight / NICE_0_LOAD;
}

/* The cgroup id (kernfs node id) of the task group that owns @cfs_rq. */
static __always_inline __u64 cfs_rq_cgroup_id(struct cfs_rq *cfs_rq, bool btf)
{
	struct task_group *tg = KREAD(btf, cfs_rq, tg);

	if (!tg)
		return 0;
	return btf ? tg->css.cgroup->kn->id : BPF_CORE_READ(tg, css.cgroup, kn, id);
}

/*
 * Run time @p has before the host takes its CPU away: the smallest of the
 * EEVDF slice left at every level where it competes with a sibling, and
 * the CFS bandwidth runtime left (local pool + group's global pool) at
 * every capped level.  PVLI_QUOTA_UNKNOWN when nothing bounds it.
 *
 * The levels walked are the VM's own: from the thread's group up to and
 * including the VM's cgroup (@o->quota_top_cgroup; without it, the
 * thread's group only).  Above it, pools and siblings belong to other
 * VMs too: their bandwidth left and their competition would tell this
 * guest how busy its neighbours are.  PVLI_VM_QUOTA_ANCESTORS walks on.
 */
static __always_inline __u64 run_quota_ns(struct task_struct *p,
					  const struct pvli_vm_opts *o, bool btf)
{
	struct sched_entity *se = &p->se;
	__u64 quota = PVLI_QUOTA_UNKNOWN;
	bool all = o && (o->flags & PVLI_VM_QUOTA_ANCESTORS);
	__u64 top = o ? o->quota_top_cgroup : 0;

	for (int i = 0; i < MAX_GROUP_DEPTH && se; i++) {
		struct cfs_rq *cfs_rq = KREAD(btf, se, cfs_rq);
		bool last;

		if (!cfs_rq)
			break;
		last = !all && (!top || cfs_rq_cgroup_id(cfs_rq, btf) == top);
		if (cfs_rq_nr_queued(cfs_rq) > 1) {
			__u64 left = slice_left_ns(se, btf);

			if (left < quota)
				quota = left;
		}
		if (bpf_core_field_exists(cfs_rq->runtime_enabled) &&
		    KREAD(btf, cfs_rq, runtime_enabled)) {
			struct task_group *tg = KREAD(btf, cfs_rq, tg);
			__s64 rem = KREAD(btf, cfs_rq, runtime_remaining) +
				    (__s64)KREAD(btf, tg, cfs_bandwidth.runtime);

			if (rem < 0)
				rem = 0;
			if ((__u64)rem < quota)
				quota = rem;
		}
		if (last)
			break;
		se = KREAD(btf, se, parent);
	}
	return quota;
}

/*
 * The host notices a used-up slice or bandwidth runtime only when the
 * scheduler next looks, which for a CPU-bound vCPU is its tick (no
 * HRTICK, the default): a slice that ends 1 ms after a tick runs on until
 * the next one.  Measured before this rounding (bench/quota_accuracy.sh,
 * HZ=250): preemptions came 0-4 ms after the predicted end, median 2.4 ms.
 * So the quota is rounded up to the first tick of this CPU at or after
 * its end.  Ticks are learnt from the tick hrtimer's expiries
 * (tick_nohz_handler, tick_sched_timer before v6.9: untyped ksyms, so
 * only their addresses are needed); HZ comes from the kernel config.
 * Without either, or with the tick stopped (NO_HZ), the quota stays as is.
 */
extern const void tick_nohz_handler __ksym __weak;
extern const void tick_sched_timer __ksym __weak;
extern int CONFIG_HZ __kconfig __weak;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} last_tick SEC(".maps");

static __always_inline int on_hrtimer(struct hrtimer *t, bool btf)
{
	void *fn = KREAD(btf, t, function);
	__u32 zero = 0;
	__u64 *at;

	if (!fn || (fn != (void *)&tick_nohz_handler && fn != (void *)&tick_sched_timer))
		return 0;
	at = bpf_map_lookup_elem(&last_tick, &zero);
	if (at)
		*at = KREAD(btf, t, node.expires);
	return 0;
}

static __always_inline __u64 to_tick(__u64 quota, __u64 now)
{
	__u64 period, last, next, *at;
	__u32 zero = 0;

	if (quota == PVLI_QUOTA_UNKNOWN || CONFIG_HZ <= 0)
		return quota;
	at = bpf_map_lookup_elem(&last_tick, &zero);
	last = at ? *at : 0;
	period = 1000000000ULL / CONFIG_HZ;
	if (!last || now < last || now - last > 4 * period)
		return quota;	/* no tick seen lately: no grid to round to */
	next = last + ((now - last) / period + 1) * period;
	if (next - now >= quota)
		return next - now;
	return next - now + (quota - (next - now) + period - 1) / period * period;
}

static __always_inline void vcpu_switch_out(const struct pvli_vcpu_ref *ref,
					    bool runnable, __u64 now)
{
	struct pvli_vcpu_counters *c = vcpu_counters(ref);
	struct pvli_vcpu *rec = vcpu_record(ref, c);
	enum pvli_preempt_kind kind;

	if (!rec)
		return;
	/* The guest half is not under the seqlock: classify before entering. */
	kind = pvli_preempt_kind(&rec->guest, NULL);
	if (rec_switch_out(&rec->host, c, runnable, kind, now))
		heartbeat(ref->vm_slot, now);
}

/*
 * The page record of @p if it is a registered vCPU thread whose page
 * exists (@refp gets its registration), else NULL.
 */
static __always_inline struct pvli_vcpu *task_record(struct task_struct *p,
						     struct pvli_vcpu_ref **refp, bool btf)
{
	__u32 tid = KREAD(btf, p, pid);
	struct pvli_vcpu_ref *ref = bpf_map_lookup_elem(&vcpus, &tid);

	*refp = ref;
	return ref ? page_elem(ref->vm_slot, ref->vcpu + 1) : NULL;
}

/* The run quota and host CPU a switch-in of @p into @ref's VM publishes. */
static __always_inline void running_inputs(const struct pvli_vcpu_ref *ref,
					   struct task_struct *p, __u64 now, bool btf,
					   __u64 *quota, __u32 *pcpu)
{
	const struct pvli_vm_opts *o = opts_of(ref);

	*quota = to_tick(run_quota_ns(p, o, btf), now);
	*pcpu = rec_pcpu(o ? o->flags : 0, bpf_get_smp_processor_id());
}

static __always_inline void vcpu_switch_in(const struct pvli_vcpu_ref *ref,
					   struct task_struct *p, __u64 now, bool btf)
{
	struct pvli_vcpu_counters *c = vcpu_counters(ref);
	struct pvli_vcpu *rec = vcpu_record(ref, c);
	__u64 quota;
	__u32 pcpu;

	if (!rec)
		return;
	running_inputs(ref, p, now, btf, &quota, &pcpu);
	if (rec_switch_in(&rec->host, c, now, quota, pcpu))
		heartbeat(ref->vm_slot, now);
}

/*
 * The current task runs now: if it is a vCPU whose record does not say
 * so (its switch-in was not reported), say so.
 */
static __always_inline int repair_running(void)
{
	struct task_struct *cur = (struct task_struct *)bpf_get_current_task();
	struct pvli_vcpu_ref *ref;
	/* bpf_get_current_task() is not a BTF pointer: probe reads. */
	struct pvli_vcpu *rec = task_record(cur, &ref, false);
	__u64 now, quota;
	__u32 pcpu;

	/* Unlocked peek: nearly always already RUNNING. */
	if (!rec || READ_ONCE(rec->host.state) == PVLI_STATE_RUNNING)
		return 0;
	now = bpf_ktime_get_ns();
	running_inputs(ref, cur, now, false, &quota, &pcpu);
	if (rec_repair(&rec->host, vcpu_counters(ref), now, quota, pcpu))
		heartbeat(ref->vm_slot, now);
	return 0;
}

static __always_inline int on_switch(struct task_struct *prev, struct task_struct *next,
				     unsigned int prev_state, bool btf)
{
	__u64 now = bpf_ktime_get_ns();
	struct pvli_vcpu_ref *ref;
	__u32 tid;

	tid = KREAD(btf, prev, pid);
	ref = bpf_map_lookup_elem(&vcpus, &tid);
	if (ref)	/* TASK_RUNNING (0): switched out while runnable */
		vcpu_switch_out(ref, prev_state == 0, now);

	tid = KREAD(btf, next, pid);
	ref = bpf_map_lookup_elem(&vcpus, &tid);
	if (ref)
		vcpu_switch_in(ref, next, now, btf);
	return 0;
}

static __always_inline int on_wakeup(struct task_struct *p, bool btf)
{
	struct pvli_vcpu_ref *ref;
	struct pvli_vcpu *rec = task_record(p, &ref, btf);
	__u64 now;

	/* Unlocked peek: most wakeups find the vCPU not idle and stop here. */
	if (!rec || READ_ONCE(rec->host.state) != PVLI_STATE_IDLE)
		return 0;
	now = bpf_ktime_get_ns();
	if (rec_wakeup(&rec->host, vcpu_counters(ref), now))
		heartbeat(ref->vm_slot, now);
	return 0;
}

static __always_inline int on_exit(struct task_struct *p)
{
	struct pvli_vcpu_ref *ref;
	struct pvli_vcpu *rec = task_record(p, &ref, false);
	__u32 tid;

	if (!ref)
		return 0;
	if (rec)
		rec_exit(&rec->host, vcpu_counters(ref), bpf_ktime_get_ns());
	tid = BPF_CORE_READ(p, pid);
	bpf_map_delete_elem(&vcpus, &tid);
	return 0;
}

/* tp_btf first; pvlockd falls back to raw_tp where BTF tracepoints are missing. */
SEC("tp_btf/sched_switch")
int BPF_PROG(pvli_switch_btf, bool preempt, struct task_struct *prev,
	     struct task_struct *next, unsigned int prev_state)
{
	return on_switch(prev, next, prev_state, true);
}

SEC("raw_tp/sched_switch")
int BPF_PROG(pvli_switch_raw, bool preempt, struct task_struct *prev,
	     struct task_struct *next, unsigned int prev_state)
{
	return on_switch(prev, next, prev_state, false);
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(pvli_wakeup_btf, struct task_struct *p)
{
	return on_wakeup(p, true);
}

SEC("raw_tp/sched_wakeup")
int BPF_PROG(pvli_wakeup_raw, struct task_struct *p)
{
	return on_wakeup(p, false);
}

SEC("tp_btf/hrtimer_expire_entry")
int BPF_PROG(pvli_tick_btf, struct hrtimer *t, ktime_t *now)
{
	return on_hrtimer(t, true);
}

SEC("raw_tp/hrtimer_expire_entry")
int BPF_PROG(pvli_tick_raw, struct hrtimer *t, ktime_t *now)
{
	return on_hrtimer(t, false);
}

SEC("tp_btf/sched_exit_tp")
int BPF_PROG(pvli_sched_exit_btf, bool is_switch)
{
	return repair_running();
}

SEC("raw_tp/sched_exit_tp")
int BPF_PROG(pvli_sched_exit_raw, bool is_switch)
{
	return repair_running();
}

SEC("tp_btf/sched_stat_runtime")
int BPF_PROG(pvli_runtime_btf, struct task_struct *p, __u64 runtime)
{
	return repair_running();
}

SEC("raw_tp/sched_stat_runtime")
int BPF_PROG(pvli_runtime_raw, struct task_struct *p, __u64 runtime)
{
	return repair_running();
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(pvli_exit_btf, struct task_struct *p)
{
	return on_exit(p);
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(pvli_exit_raw, struct task_struct *p)
{
	return on_exit(p);
}
