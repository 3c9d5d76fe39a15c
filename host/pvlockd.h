/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The daemon's state, shared by its units: the table of registered VMs
 * and what every VM needs from pvlockd (the BPF maps, the generation).
 * Daemon-internal: the CLIs include pvlockd_proto.h (and vm_meta.h).
 *
 * Units: pvlockd.c (start-up, the VM table, re-adoption), pvlockd_loop.c
 * (the io_uring event loop), pvlockd_ctl.c (the control socket) with
 * pvlockd_req.c (its parser), pvlockd_bpf.c (BPF set-up and teardown),
 * pvlockd_vm.c (one VM's page), vm_meta.c (its record), qmp.c with
 * qmp_parse.c (QMP), pvlockd_log.c.
 */
#ifndef __PVLOCKD_H
#define __PVLOCKD_H

#include <stdint.h>

#include "host_sched.h"
#include "pvlockd_bpf.h"
#include "pvlockd_vm.h"

#define PVLOCKD_VERSION	"0.1"

struct pvlockd {
	const char *socket;		/* the control socket's path */
	uint32_t generation;		/* stamped into every page; new per start */
	struct pvlockd_maps maps;
	struct pvlockd_vm vms[PVLI_MAX_VMS];	/* index: the VM's slot */
};

/* The registered VM called @name, or NULL. */
struct pvlockd_vm *pvlockd_vm_find(struct pvlockd *d, const char *name);

/* Stop watching @vm's QMP socket and undo all of @vm; @why goes to the log. */
void pvlockd_vm_remove(struct pvlockd *d, struct pvlockd_vm *vm, const char *why);

#endif /* __PVLOCKD_H */
