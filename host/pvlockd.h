/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The daemon's state, shared by its units: the table of registered VMs,
 * the control clients being served, and what every VM needs from pvlockd
 * (the BPF maps, the generation).  Daemon-internal: the CLIs include
 * pvlockd_proto.h (and vm_meta.h).
 *
 * Units, from the top: pvlockd_main.c (options, start-up, the periodic
 * tick, and the event loop's handlers), pvlockd_ctl.c (the control
 * socket's clients) with pvlockd_req.c (its parser), pvlockd_adopt.c
 * (re-adoption and reconciliation after a restart), pvlockd_attach.c
 * (the QMP exchange at attach, and removing a VM), pvlockd.c (the table
 * of VMs), pvlockd_vm.c (one VM's page and registrations), vm_meta.c
 * (its record), pvlockd_bpf.c (BPF set-up and teardown), pvlockd_loop.c
 * (the io_uring event loop and its clock), qmp.c, qmp_session.c and
 * qmp_parse.c (QMP), qemu_proc.c (the QEMU process in /proc),
 * pvlockd_fault.c (test fault points), pvlockd_log.c.  No unit calls one
 * above it: the loop reaches the handlers through pvlockd_loop_ops, an
 * attach answers its client through the function it was started with.
 *
 * Nothing in the event loop waits on a client or on QEMU: every socket is
 * non-blocking and watched by the loop, every exchange has a deadline the
 * tick enforces.
 */
#ifndef __PVLOCKD_H
#define __PVLOCKD_H

#include <stdint.h>

#include "pvli_abi.h"
#include "host_sched.h"
#include "pvlockd_bpf.h"
#include "pvlockd_client.h"
#include "pvlockd_loop.h"
#include "pvlockd_vm.h"

#define PVLOCKD_VERSION	"0.2"

/* A registered VM that does not attach within this long is dropped. */
#define PVLOCKD_ATTACH_TIMEOUT_S	120

struct pvlockd {
	const char *socket;		/* the control socket's path */
	uint32_t generation;		/* stamped into every page; new per start */
	unsigned attach_timeout_s;	/* registered, never attached: dropped after */
	struct pvlockd_maps maps;
	struct pvlockd_vm vms[PVLI_MAX_VMS];	/* index: the VM's slot */
	struct pvlockd_client clients[PVLOCKD_MAX_CLIENTS];
	struct pvlockd_loop_stats loop;		/* status --json "loop" */
};

/* The registered VM called @name, or NULL. */
struct pvlockd_vm *pvlockd_vm_find(struct pvlockd *d, const char *name);

/* Watch @vm's QEMU (its pidfd): when QEMU exits, the VM is removed. */
void pvlockd_vm_watch(struct pvlockd *d, struct pvlockd_vm *vm);

/* The poll tag of @vm's QEMU watch (its pidfd). */
static inline uint64_t pvlockd_vm_qemu_tag(const struct pvlockd_vm *vm)
{
	return pvlockd_tag(PVLOCKD_TAG_QEMU, vm->meta.slot, vm->gen);
}

#endif /* __PVLOCKD_H */
