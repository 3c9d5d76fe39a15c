/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pvlockd's event loop: one io_uring with one-shot polls on the control
 * socket, a signalfd (SIGINT, SIGTERM), a 100 ms timerfd (deadlines,
 * expiries, the pages' clock line), each client's socket, each QEMU's
 * pidfd and each QMP socket of an attach in progress.
 *
 * A poll's tag says what it was for: its kind, an index (slot or client)
 * and the generation of that slot or client when it was armed, so that a
 * completion for something removed or reused meanwhile is dropped.
 */
#ifndef __PVLOCKD_LOOP_H
#define __PVLOCKD_LOOP_H

#include <stdint.h>

struct pvlockd;

enum pvlockd_tag_kind {
	PVLOCKD_TAG_NONE,	/* a poll_remove's own completion */
	PVLOCKD_TAG_LISTEN,
	PVLOCKD_TAG_SIGNAL,
	PVLOCKD_TAG_TIMER,
	PVLOCKD_TAG_CLIENT,	/* index: client */
	PVLOCKD_TAG_QEMU,	/* index: slot; QEMU's pidfd */
	PVLOCKD_TAG_QMP,	/* index: slot; the QMP socket of an attach */
};

static inline uint64_t pvlockd_tag(enum pvlockd_tag_kind kind, unsigned idx, uint32_t gen)
{
	return (uint64_t)kind << 56 | (uint64_t)gen << 16 | (idx & 0xffff);
}

/*
 * Set up the ring, block SIGINT and SIGTERM into a signalfd and start
 * the tick.  0 or -errno (logged).
 */
int pvlockd_loop_init(void);

/* Close what pvlockd_loop_init() made (also after it failed half-way). */
void pvlockd_loop_exit(void);

/*
 * Arm one poll of @fd for @events, completing with @tag.  0, or -errno
 * when the ring cannot take it (logged; the caller gives up on what the
 * poll was for).
 */
int pvlockd_loop_poll(int fd, unsigned events, uint64_t tag);

/* Cancel the poll armed with @tag, if any; call before its fd is closed. */
void pvlockd_loop_cancel(uint64_t tag);

/*
 * Serve until SIGINT or SIGTERM, or until the ring fails (logged).
 * Records in @d how long each step (one completion's handling) took.
 * Returns 0, or -errno when it stopped on a failure.
 */
int pvlockd_loop_run(struct pvlockd *d, int lfd);

#endif /* __PVLOCKD_LOOP_H */
