// SPDX-License-Identifier: GPL-2.0-only
/*
 * The scheduler view as a guest BPF program would keep it (the seed's
 * and FlexGuard's approach): tp_btf/sched_switch stores the next thread's
 * TID in this CPU's record of an mmapable array (.bss).  Exactly the work
 * pvlockinfo.ko's probe does (guest/module/pvli_sched_view.c), so that
 * guest/tools/schedview_cost.c can compare what each costs per switch.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "schedview_cost.h"

struct schedview_cpu view[SCHEDVIEW_MAX_CPUS];

SEC("tp_btf/sched_switch")
int BPF_PROG(schedview_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 cpu = bpf_get_smp_processor_id();

	if (cpu >= SCHEDVIEW_MAX_CPUS)
		return 0;
	view[cpu].tid = next->pid;
	view[cpu].switches++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
