/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Types shared by bpf/guest/schedview_cost.bpf.c and guest/tools/schedview_cost.c.
 * Fixed-width types only.
 */
#ifndef __SCHEDVIEW_COST_H
#define __SCHEDVIEW_COST_H

#define SCHEDVIEW_MAX_CPUS	64

/* What the module's probe writes per CPU (struct pvli_ucpu), the BPF way. */
struct schedview_cpu {
	__u32 tid;
	__u32 switches;
	__u8 pad[56];
};

#endif /* __SCHEDVIEW_COST_H */
