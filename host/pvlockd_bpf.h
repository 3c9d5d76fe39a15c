/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pvlockd's BPF side: host_sched.bpf.c, loaded once for all VMs, its
 * maps and links pinned under PVLOCKD_PIN_ROOT so that they outlive
 * pvlockd; a restarted pvlockd reuses them as they are.
 */
#ifndef __PVLOCKD_BPF_H
#define __PVLOCKD_BPF_H

#include <stdbool.h>

struct host_sched_bpf;

/* The maps pvlockd drives (fds from the skeleton, on the pinned maps). */
struct pvlockd_maps {
	int pages;		/* slot -> the VM's page map (map-in-map) */
	int vcpus;		/* host thread id -> struct pvli_vcpu_ref */
	int counters;		/* slot * PVLI_MAX_VCPUS_PER_VM + vcpu -> counters */
	int vm_opts;		/* slot -> struct pvli_vm_opts */
};

/* libbpf's messages go to stderr; its debug messages only if @verbose. */
void pvlockd_bpf_set_print(bool verbose);

/* Mount bpffs at /sys/fs/bpf unless it is there.  0 or -errno (logged). */
int pvlockd_bpf_mount(void);

/*
 * Open and load the programs, reusing the pinned maps if there are any,
 * and attach and pin each link that is not pinned yet.  A pinned link
 * whose program is the one just loaded (same tag) stays attached as it
 * is; one running another program (an older pvlockd's) is replaced: the
 * new link is attached first and its pin renamed over the old one, so
 * the tracepoint is never without a program.  Fills @maps; 0 or -errno
 * (logged).
 */
int pvlockd_bpf_load(struct host_sched_bpf **skel, struct pvlockd_maps *maps);

/* Close pvlockd's handles (NULL is fine).  The pins, and the channel, stay. */
void pvlockd_bpf_unload(struct host_sched_bpf *skel);

/*
 * pvlockd --teardown: detach the programs, remove every pin and the VMs'
 * .meta records (which name pins that are gone).
 */
int pvlockd_bpf_teardown(void);

#endif /* __PVLOCKD_BPF_H */
