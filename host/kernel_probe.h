/* SPDX-License-Identifier: GPL-2.0-only */
/* What the running host kernel offers, for the BPF loaders (pvlockd, pvlockstat). */
#ifndef __PVLI_KERNEL_PROBE_H
#define __PVLI_KERNEL_PROBE_H

#include <stdbool.h>
#include <bpf/btf.h>

/*
 * Does the running kernel have the bare tracepoint sched_exit_tp (6.18+),
 * which fires at the end of every __schedule() in the task that runs next?
 * Both loaders use it to catch switch-ins that sched_switch did not report.
 */
static inline bool have_sched_exit_tp(void)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	bool found;

	if (!vmlinux)
		return false;
	found = btf__find_by_name_kind(vmlinux, "btf_trace_sched_exit_tp", BTF_KIND_TYPEDEF) >= 0;
	btf__free(vmlinux);
	return found;
}

#endif /* __PVLI_KERNEL_PROBE_H */
