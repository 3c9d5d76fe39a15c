/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Types shared by bpf/host/host_sched.bpf.c and pvlockd: the maps through
 * which pvlockd tells the BPF program which host threads are vCPUs and
 * where each VM's page is (pvlockstat.bpf.c reuses them), and the BPF
 * program's private counters.  Fixed-width types only.
 */
#ifndef __PVLI_HOST_SCHED_H
#define __PVLI_HOST_SCHED_H

/* VM slots in the outer map; a VM's slot indexes its page. */
#define PVLI_MAX_VMS		64
/* Registered vCPU threads across all VMs. */
#define PVLI_MAX_VCPU_THREADS	4096

/*
 * A page is an array of 128-byte elements: element 0 is the header,
 * element 1 + i is vCPU i.  32 elements = one 4 KiB page = 31 vCPUs;
 * pvlockd sizes each VM's map to a power of two (ivshmem BARs must be).
 */
#define PVLI_PAGE_ELEMS_MIN	32

/* Value of the vcpus map, keyed by host thread id. */
struct pvli_vcpu_ref {
	__u32 vm_slot;		/* index into the pages map */
	__u32 vcpu;		/* vCPU index within the VM */
};

/*
 * Per-vCPU counters private to the host (not in the guest-visible page),
 * keyed like the page records: vm_slot * PVLI_MAX_VCPUS_PER_VM + vcpu.
 * They let tests compare what the host counted with what the guest saw.
 */
#define PVLI_MAX_VCPUS_PER_VM	64
struct pvli_vcpu_counters {
	__u64 switch_out;	/* every switch-out (preempted or blocked) */
	__u64 switch_in;	/* every switch-in */
	__u64 preempted;	/* switch-outs while runnable */
	__u64 wakeups;		/* blocked -> runnable */
	__u64 lhp;		/* preemptions while the guest held a lock */
	__u64 lwp;		/* preemptions while the guest waited for one */
	__u64 missing_page;	/* events for a vCPU whose page was gone */
	__u64 racing_writers;	/* a writer found another one inside */
	__u64 dropped;		/* updates given up after spinning (should be 0) */
	__u64 out_not_running;	/* switch-out while the record said not running */
	__u64 in_running;	/* switch-in while the record said running */
	__u64 repaired;		/* running without a reported switch-in: fixed */
};

/*
 * What pvlockd tells the BPF program about each VM (vm_opts map, keyed by
 * slot).  The defaults (all zero) publish the least: a VM learns its own
 * vCPUs' states and what bounds their run time inside its own cgroup.
 */
struct pvli_vm_opts {
	/*
	 * cgroup id (kernfs inode) of the VM's own cgroup, QEMU's in the cpu
	 * controller's hierarchy: the quota walk up the task groups stops
	 * after this level.  0: after the vCPU thread's own group.
	 */
	__u64 quota_top_cgroup;
	__u32 flags;		/* PVLI_VM_* */
	__u32 __pad;
};

/* Publish the host CPU a vCPU runs on (else pcpu is PVLI_PCPU_UNKNOWN). */
#define PVLI_VM_PCPU			0x1
/*
 * Walk the quota past the VM's own cgroup: ancestors' bandwidth pools
 * and sibling competition, which other VMs share, then bound it too.
 */
#define PVLI_VM_QUOTA_ANCESTORS		0x2
#define PVLI_VM_OPTS_ALL		(PVLI_VM_PCPU | PVLI_VM_QUOTA_ANCESTORS)

#endif /* __PVLI_HOST_SCHED_H */
