/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The daemon's state, shared by its units: the table of registered VMs,
 * the control clients being served, and what every VM needs from pvlockd
 * (the BPF maps, the generation).  Daemon-internal: the CLIs include
 * pvlockd_proto.h (and vm_meta.h).
 *
 * Units: pvlockd.c (start-up, the VM table, the periodic tick),
 * pvlockd_adopt.c (re-adoption and reconciliation after a restart),
 * pvlockd_loop.c (the io_uring event loop), pvlockd_ctl.c (the control
 * socket's clients) with pvlockd_req.c (its parser), pvlockd_attach.c
 * (the QMP exchange at attach), pvlockd_bpf.c (BPF set-up and teardown),
 * pvlockd_vm.c (one VM's page and registrations), vm_meta.c (its record),
 * qmp.c, qmp_session.c and qmp_parse.c (QMP), qemu_proc.c (the QEMU
 * process in /proc), pvlockd_log.c.
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
#include "pvlockd_ctl.h"
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
	/* How long one event-loop step took at most (status --json "loop"). */
	uint64_t loop_max_busy_ns;
	uint64_t loop_steps, loop_slow_steps;	/* steps, and those over 100 ms */
};

/* CLOCK_MONOTONIC in ns. */
uint64_t pvlockd_now_ns(void);

/* The registered VM called @name, or NULL. */
struct pvlockd_vm *pvlockd_vm_find(struct pvlockd *d, const char *name);

/* Stop watching @vm, end its attach if one runs, undo all of it; @why goes to the log. */
void pvlockd_vm_remove(struct pvlockd *d, struct pvlockd_vm *vm, const char *why);

/* Watch @vm's QEMU (its pidfd): when QEMU exits, the VM is removed. */
void pvlockd_vm_watch(struct pvlockd *d, struct pvlockd_vm *vm);

/* The loop's 100 ms tick: deadlines, expiries, and each second the clocks. */
void pvlockd_tick(struct pvlockd *d);

/*
 * Test-only fault injection: if the environment's PVLOCKD_FAULT names
 * @point, pvlockd kills itself there with SIGKILL, as a crash would (the
 * fault tests use it to stop pvlockd in the middle of a request); if it
 * is "sleep:@point", pvlockd stalls 2 s there instead (a window in which
 * a test makes something happen between two steps).
 */
void pvlockd_fault_point(const char *point);

#endif /* __PVLOCKD_H */
