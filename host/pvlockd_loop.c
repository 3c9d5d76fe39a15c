// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockd's event loop (pvlockd_loop.h).
 *
 * Every watched fd has at most one POLL_ADD in flight, re-armed by its
 * handler.  Polls are submitted at once, so the submission queue holds at
 * most the one being prepared; when it is full anyway (submit failed
 * earlier) it is flushed and the poll prepared again.  A poll that cannot
 * be armed is reported to the caller, which drops what it was for (a
 * client) or retries on the next tick (a QEMU watch); the loop's own
 * polls failing ends the loop with an error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <liburing.h>

#include "pvlockd_log.h"
#include "pvlockd_loop.h"

/* The tick: deadlines are kept to within this. */
#define TICK_NS		100000000ULL
/* A step longer than this blocked the loop (counted in slow_steps). */
#define SLOW_STEP_NS	100000000ULL

static struct io_uring ring;
static bool ring_up;
static int sfd = -1, tfd = -1;

uint64_t pvlockd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static struct io_uring_sqe *get_sqe(void)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

	if (!sqe && io_uring_submit(&ring) >= 0)
		sqe = io_uring_get_sqe(&ring);
	return sqe;
}

int pvlockd_loop_poll(int fd, unsigned events, uint64_t tag)
{
	struct io_uring_sqe *sqe = get_sqe();
	int r;

	if (!sqe) {
		log_err("cannot arm a poll: the submission queue is full");
		return -EBUSY;
	}
	io_uring_prep_poll_add(sqe, fd, events);
	io_uring_sqe_set_data64(sqe, tag);
	r = io_uring_submit(&ring);
	if (r < 0) {
		log_err("cannot arm a poll: io_uring_submit: %s", strerror(-r));
		return r;
	}
	return 0;
}

void pvlockd_loop_cancel(uint64_t tag)
{
	struct io_uring_sqe *sqe = get_sqe();

	if (!sqe) {
		log_warn("cannot cancel a poll: the submission queue is full");
		return;
	}
	io_uring_prep_poll_remove(sqe, tag);
	io_uring_sqe_set_data64(sqe, pvlockd_tag(PVLOCKD_TAG_NONE, 0, 0));
	if (io_uring_submit(&ring) < 0)
		log_warn("cannot cancel a poll");
}

int pvlockd_loop_init(void)
{
	struct itimerspec tick = {
		.it_interval = { 0, TICK_NS }, .it_value = { 0, TICK_NS },
	};
	sigset_t mask;
	int err;

	/* Room for a poll per client, two per VM, and the loop's own. */
	err = io_uring_queue_init(256, &ring, 0);
	if (err) {
		log_err("io_uring_queue_init: %s", strerror(-err));
		return err;
	}
	ring_up = true;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0)
		return -errno;
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (tfd < 0)
		return -errno;
	if (timerfd_settime(tfd, 0, &tick, NULL))
		return -errno;
	return 0;
}

void pvlockd_loop_exit(void)
{
	if (sfd >= 0)
		close(sfd);
	if (tfd >= 0)
		close(tfd);
	sfd = tfd = -1;
	if (ring_up)
		io_uring_queue_exit(&ring);
	ring_up = false;
}

/* Handle one completion; false to stop the loop. */
static bool dispatch(const struct pvlockd_loop_ops *ops, void *ctx, int lfd, uint64_t tag,
		     int res, int *err)
{
	enum pvlockd_tag_kind kind = tag >> 56;
	unsigned idx = tag & 0xffff;
	uint32_t gen = (uint32_t)(tag >> 16);
	uint64_t ticks;

	switch (kind) {
	case PVLOCKD_TAG_NONE:
		return true;
	case PVLOCKD_TAG_LISTEN:
		ops->accept(ctx, lfd);
		*err = pvlockd_loop_poll(lfd, POLLIN, tag);
		return !*err;
	case PVLOCKD_TAG_SIGNAL:
		return false;
	case PVLOCKD_TAG_TIMER:
		if (read(tfd, &ticks, sizeof(ticks)) > 0)
			ops->tick(ctx);
		*err = pvlockd_loop_poll(tfd, POLLIN, tag);
		return !*err;
	case PVLOCKD_TAG_CLIENT:
		if (res != -ECANCELED)
			ops->client(ctx, idx, gen, res);
		return true;
	case PVLOCKD_TAG_QEMU:
		if (res != -ECANCELED)
			ops->qemu_exit(ctx, idx, gen);
		return true;
	case PVLOCKD_TAG_QMP:
		if (res != -ECANCELED)
			ops->qmp(ctx, idx, gen, res);
		return true;
	}
	return true;
}

int pvlockd_loop_run(const struct pvlockd_loop_ops *ops, void *ctx, int lfd,
		     struct pvlockd_loop_stats *st)
{
	struct io_uring_cqe *cqe;
	bool go = true;
	int err;

	err = pvlockd_loop_poll(lfd, POLLIN, pvlockd_tag(PVLOCKD_TAG_LISTEN, 0, 0));
	if (!err)
		err = pvlockd_loop_poll(sfd, POLLIN, pvlockd_tag(PVLOCKD_TAG_SIGNAL, 0, 0));
	if (!err)
		err = pvlockd_loop_poll(tfd, POLLIN, pvlockd_tag(PVLOCKD_TAG_TIMER, 0, 0));
	if (err)
		return err;
	ops->ready(ctx);

	while (go) {
		uint64_t tag, start, busy;
		int res;

		err = io_uring_wait_cqe(&ring, &cqe);
		if (err == -EINTR)
			continue;
		if (err) {
			log_err("io_uring_wait_cqe: %s", strerror(-err));
			return err;
		}
		start = pvlockd_now_ns();
		tag = io_uring_cqe_get_data64(cqe);
		res = cqe->res;
		io_uring_cqe_seen(&ring, cqe);

		go = dispatch(ops, ctx, lfd, tag, res, &err);

		busy = pvlockd_now_ns() - start;
		st->steps++;
		if (busy > st->max_busy_ns)
			st->max_busy_ns = busy;
		if (busy > SLOW_STEP_NS) {
			st->slow_steps++;
			log_warn("an event-loop step (kind %u) took %llu ms", (unsigned)(tag >> 56),
				 (unsigned long long)(busy / 1000000));
		}
	}
	if (err)
		log_err("the event loop cannot watch its own fds any more: %s", strerror(-err));
	return err;
}
