/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A pvlockd starting where another one left (stopped, crashed, killed
 * -9): re-adopt every VM that still runs, and reconcile what it finds.
 * Four sources can disagree after a crash: the .meta records, the page
 * pins, the pages map's slots and the vcpus map's thread registrations.
 * Afterwards they agree:
 *  - a VM is adopted from its record if its page pin is a page map of the
 *    right size; its slot is made to hold that page; a record whose QEMU
 *    (pid and start time) is gone is removed, one that was attaching
 *    resumes its attach, one never attached gets a new attach timeout;
 *  - a page pin without a record whose slot's registrations all belong to
 *    one live process is adopted from those (the record is written
 *    again); any other pin without a record is removed;
 *  - a slot no adopted VM owns is emptied;
 *  - a registration is kept only if it is an adopted VM's own vCPU
 *    thread, a thread of that VM's QEMU: any other would make a thread
 *    write into a page that is not its VM's.
 * No QMP exchange is needed: the records name the QEMU by pid and start
 * time, and a stopped QEMU is as alive as a running one.
 */
#ifndef __PVLOCKD_ADOPT_H
#define __PVLOCKD_ADOPT_H

struct pvlockd;
struct pvlockd_vm;

/* At start-up, before the loop serves anyone (the ring must be up). */
void pvlockd_adopt(struct pvlockd *d);

/*
 * A VM adopted from a record older than the QEMU identity line: learn its
 * QEMU from the QMP socket's SO_PEERCRED, check that every recorded vCPU
 * thread is one of its threads and register them again.  Retried from the
 * tick until it works or QEMU is found gone (then the VM is removed).
 */
void pvlockd_adopt_learn_qemu(struct pvlockd *d, struct pvlockd_vm *vm);

#endif /* __PVLOCKD_ADOPT_H */
