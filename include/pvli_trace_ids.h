/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the pvlockinfo tracepoints (guest/module/pvli_trace.h) pass as
 * numbers, shared with the tools that read them (bpf/guest/pvlocktrace.bpf.c,
 * guest/tools/pvlocktrace.c, bpftrace one-liners).  Append only.
 */
#ifndef __PVLI_TRACE_IDS_H
#define __PVLI_TRACE_IDS_H

/* A lock's policy, the "policy" argument of the pvli_lock_* events. */
enum pvli_trace_policy {
	PVLI_TP_NATIVE = 0,	/* spinlock_t (the harness's "native") */
	PVLI_TP_MCS = 1,
	PVLI_TP_SHFL = 2,
	PVLI_TP_SHFL_PV = 3,
	PVLI_TP_SHFL_QUOTA = 4,
	PVLI_TP_PVSPIN = 5,
	PVLI_TP_OTHER = 6,	/* a policy this list does not know yet */
	PVLI_TP_TAS_PV = 7,
	PVLI_TP_NR = 8,
};

/* "steal" arguments: ns a vCPU was runnable but not running, host clock. */
#define PVLI_TP_STEAL_UNKNOWN	(~0ULL)	/* no live channel page */
#define PVLI_TP_NO_CPU		(-1)	/* holder not known */

#define PVLI_TP_POLICY_NAMES \
	{ "native", "mcs", "shfl", "shfl-pv", "shfl-quota", "pvspin", "other", "tas-pv" }

#endif /* __PVLI_TRACE_IDS_H */
