/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Attaching a VM: one QMP exchange with its QEMU (qmp_session.h), run by
 * the event loop without blocking it, within one deadline; then the
 * checks and the registration:
 *  - the QEMU is the process listening on the QMP socket (SO_PEERCRED),
 *    identified by pid and start time and watched through a pidfd;
 *  - every vCPU thread id it reports is one of its own threads (ids from
 *    another PID namespace are translated);
 *  - its memory-backend-bpf objects map this VM's page and no other map;
 *  - the threads are registered, the options set, the state saved, and
 *    only then the attach answered.
 * The QMP connection is closed once done: QEMU's exit is seen on its pidfd.
 * Also here: removing a VM, which ends its attach first.
 */
#ifndef __PVLOCKD_ATTACH_H
#define __PVLOCKD_ATTACH_H

#include <stddef.h>
#include <stdint.h>

struct pvlockd;
struct pvlockd_vm;

/* The whole exchange, connect to done, must end within this. */
#define PVLOCKD_ATTACH_TIMEOUT_MS	5000

/* How an attach answers the control client that asked for it (pvlockd_ctl_reply()). */
typedef void (*pvlockd_answer_fn)(struct pvlockd *d, int client, uint32_t gen, const char *reply);

/*
 * Start attaching @vm to the QEMU on QMP socket @qmp; client @client gets
 * the answer through @answer when it ends.  @answer NULL (and @client -1):
 * nobody waits, a restarted pvlockd resumes an attach; such an attach
 * that finds QEMU gone removes the VM.  0 if it runs, or -errno with @err
 * saying why it could not start.
 */
int pvlockd_attach_start(struct pvlockd *d, struct pvlockd_vm *vm, const char *qmp,
			 int client, pvlockd_answer_fn answer, char *err, size_t errlen);

/* The loop saw @res on @vm's QMP socket. */
void pvlockd_attach_event(struct pvlockd *d, struct pvlockd_vm *vm, int res);

/* Fail @vm's attach if its deadline passed. */
void pvlockd_attach_tick(struct pvlockd *d, struct pvlockd_vm *vm, uint64_t now);

/* End @vm's attach, if one runs, answering its client with @why. */
void pvlockd_attach_cancel(struct pvlockd *d, struct pvlockd_vm *vm, const char *why);

/*
 * Stop watching @vm, end its attach if one runs, undo all of it; @why
 * goes to the log (and to a client waiting for the attach).  Here, not
 * in the table (pvlockd.c): a removal ends an attach first.
 */
void pvlockd_vm_remove(struct pvlockd *d, struct pvlockd_vm *vm, const char *why);

#endif /* __PVLOCKD_ATTACH_H */
