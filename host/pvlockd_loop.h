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
 * What the loop calls for each completion, with the @ctx given to
 * pvlockd_loop_run() (pvlockd_main.c).  A poll's tag carries the index
 * and generation it was armed with; the handler drops a completion
 * whose index is out of range or whose generation is not current.  A
 * cancelled poll (-ECANCELED) of a client, a QEMU or a QMP socket never
 * reaches a handler; the loop re-arms its own (listen, tick) itself.
 */
struct pvlockd_loop_ops {
	void (*ready)(void *ctx);		/* the loop's own polls are armed */
	void (*accept)(void *ctx, int lfd);	/* clients wait on the listening socket */
	void (*tick)(void *ctx);		/* every 100 ms */
	void (*client)(void *ctx, unsigned idx, uint32_t gen, int res);
	void (*qemu_exit)(void *ctx, unsigned slot, uint32_t gen);	/* its pidfd fired */
	void (*qmp)(void *ctx, unsigned slot, uint32_t gen, int res);	/* an attach's socket */
};

/* How long one event-loop step took at most, and how many there were. */
struct pvlockd_loop_stats {
	uint64_t max_busy_ns;
	uint64_t steps, slow_steps;	/* steps, and those over 100 ms */
};

/* CLOCK_MONOTONIC in ns: the clock of every deadline. */
uint64_t pvlockd_now_ns(void);

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
 * Serve @lfd and every armed poll through @ops until SIGINT or SIGTERM,
 * or until the ring fails (logged).  Records in @st how long each step
 * (one completion's handling) took.  Returns 0, or -errno when it
 * stopped on a failure.
 */
int pvlockd_loop_run(const struct pvlockd_loop_ops *ops, void *ctx, int lfd,
		     struct pvlockd_loop_stats *st);

#endif /* __PVLOCKD_LOOP_H */
