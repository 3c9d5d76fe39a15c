/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pvlockd's event loop: one io_uring with a poll on the control socket,
 * on a signalfd (SIGINT, SIGTERM), on a 1 s timerfd (the pages' clock
 * line), and on each attached VM's QMP socket (its hang-up removes the VM).
 */
#ifndef __PVLOCKD_LOOP_H
#define __PVLOCKD_LOOP_H

struct pvlockd;
struct pvlockd_vm;

/*
 * Set up the ring, block SIGINT and SIGTERM into a signalfd and start
 * the 1 s timer.  0 or -errno (the ring's failure is logged).
 */
int pvlockd_loop_init(void);

/* Close what pvlockd_loop_init() made (also after it failed half-way). */
void pvlockd_loop_exit(void);

/* Watch @vm's QMP socket (vm->qmp_fd): when it hangs up, the VM is removed. */
void pvlockd_loop_watch_qmp(const struct pvlockd_vm *vm);

/* Stop watching @vm's QMP socket; call before its fd is closed. */
void pvlockd_loop_unwatch_qmp(const struct pvlockd_vm *vm);

/*
 * Serve the control socket @lfd, the timer and the QMP sockets until
 * SIGINT or SIGTERM, or until the ring fails (logged).
 */
void pvlockd_loop_run(struct pvlockd *d, int lfd);

#endif /* __PVLOCKD_LOOP_H */
