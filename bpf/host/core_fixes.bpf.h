/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * CO-RE shims for scheduler fields renamed across host kernels.  Each
 * names the kernel commit that renamed the field.
 */
#ifndef __PVLI_CORE_FIXES_BPF_H
#define __PVLI_CORE_FIXES_BPF_H

#include <vmlinux.h>
#include <bpf/bpf_core_read.h>

/*
 * 736c55a02c47 ("sched/fair: Rename cfs_rq.nr_running into nr_queued"),
 * v6.14: entities queued on this cfs_rq, the current one included.
 */
struct cfs_rq___pre_6_14 {
	unsigned int nr_running;
} __attribute__((preserve_access_index));

static __always_inline unsigned int cfs_rq_nr_queued(struct cfs_rq *cfs_rq)
{
	if (bpf_core_field_exists(cfs_rq->nr_queued))
		return BPF_CORE_READ(cfs_rq, nr_queued);
	return BPF_CORE_READ((struct cfs_rq___pre_6_14 *)cfs_rq, nr_running);
}

#endif /* __PVLI_CORE_FIXES_BPF_H */
