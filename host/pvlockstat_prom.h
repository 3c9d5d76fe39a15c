/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pvlockstat's figures in Prometheus' text exposition format (version
 * 0.0.4): one family per figure, labels vm and vcpu, counters named
 * *_total, times in seconds.  Pure (no BPF, no files), so a unit test
 * renders it from made-up figures.  What each family means for an
 * operator: README, "Prometheus metrics", and pvlockstat(8).
 */
#ifndef __PVLOCKSTAT_PROM_H
#define __PVLOCKSTAT_PROM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/types.h>

#include "host_sched.h"
#include "pvlockstat.h"

/* One vCPU: pvlockstat's own counters and the page's clocks. */
struct pvls_prom_vcpu {
	const struct pvls_vcpu *stats;	/* since pvlockstat started; NULL: none yet (zeros) */
	uint64_t run_ns;		/* the page: total time on a host CPU */
	uint64_t steal_ns;		/* the page: total time runnable, not running */
};

struct pvls_prom_vm {
	const char *name;
	uint32_t nr_vcpus;
	bool page;			/* the page was read: run/steal/heartbeat valid */
	double heartbeat_age_s;		/* since the BPF program last wrote the page; < 0: never */
	struct pvls_prom_vcpu vcpu[PVLI_MAX_VCPUS_PER_VM];
};

/*
 * The holder off-CPU histogram's upper bounds, in microseconds: every
 * second log2 slot of struct pvls_vcpu's lhp_hist (slot i counts
 * [2^i, 2^(i+1)) us), so le = 2^(i+1) us for odd i, from 16 us to 4.2 s.
 */
#define PVLS_PROM_FIRST_SLOT	3
#define PVLS_PROM_SLOT_STEP	2
#define PVLS_PROM_LAST_SLOT	21

/* Write the exposition of @n VMs to @out, families in a fixed order. */
void pvls_prom_write(FILE *out, const struct pvls_prom_vm *vms, int n);

#endif /* __PVLOCKSTAT_PROM_H */
