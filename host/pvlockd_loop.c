// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockd's event loop (pvlockd_loop.h).
 *
 * Every watched fd has one POLL_ADD in flight at a time, re-armed after
 * its completion is handled.  A completion's user data (its tag) says what
 * it was for; a QMP socket's tag also carries the VM's slot and the fd, so
 * that a late completion for a VM removed in the meantime is dropped.
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

#include "pvlockd.h"
#include "pvlockd_ctl.h"
#include "pvlockd_log.h"
#include "pvlockd_loop.h"

#define TAG_LISTEN	1
#define TAG_SIGNAL	2
#define TAG_TIMER	3
#define TAG_QMP		0x100	/* + slot; fd in the upper 32 bits */

static struct io_uring ring;
static int sfd = -1, tfd = -1;

static int arm_poll(int fd, uint64_t tag)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_poll_add(sqe, fd, POLLIN | POLLRDHUP);
	io_uring_sqe_set_data64(sqe, tag);
	return io_uring_submit(&ring) < 0 ? -EIO : 0;
}

static uint64_t qmp_tag(const struct pvlockd_vm *vm)
{
	return ((uint64_t)vm->qmp_fd << 32) | (TAG_QMP + vm->meta.slot);
}

static void cancel_poll(uint64_t tag)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

	if (!sqe)
		return;
	io_uring_prep_poll_remove(sqe, tag);
	io_uring_sqe_set_data64(sqe, 0);
	io_uring_submit(&ring);
}

void pvlockd_loop_watch_qmp(const struct pvlockd_vm *vm)
{
	arm_poll(vm->qmp_fd, qmp_tag(vm));
}

void pvlockd_loop_unwatch_qmp(const struct pvlockd_vm *vm)
{
	cancel_poll(qmp_tag(vm));
}

static void on_qmp_event(struct pvlockd *d, uint64_t tag, int res)
{
	int slot = (tag & 0xffffffff) - TAG_QMP, fd = tag >> 32;
	struct pvlockd_vm *vm = &d->vms[slot];
	char buf[4096];
	ssize_t n;

	if (res == -ECANCELED || slot < 0 || slot >= PVLI_MAX_VMS || !vm->used ||
	    vm->qmp_fd != fd)
		return;
	if (res < 0 || (res & (POLLHUP | POLLRDHUP | POLLERR))) {
		pvlockd_vm_remove(d, vm, "QEMU exited (QMP socket hung up)");
		return;
	}
	n = read(fd, buf, sizeof(buf));	/* asynchronous QMP events: not needed */
	if (n <= 0) {
		pvlockd_vm_remove(d, vm, "QEMU exited (QMP socket closed)");
		return;
	}
	arm_poll(fd, tag);
}

int pvlockd_loop_init(void)
{
	struct itimerspec one_second = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	sigset_t mask;
	int err;

	err = io_uring_queue_init(64, &ring, 0);
	if (err) {
		log_err("io_uring_queue_init: %s", strerror(-err));
		return err;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0)
		return -errno;
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (tfd < 0)
		return -errno;
	timerfd_settime(tfd, 0, &one_second, NULL);
	return 0;
}

void pvlockd_loop_exit(void)
{
	if (sfd >= 0)
		close(sfd);
	if (tfd >= 0)
		close(tfd);
	sfd = tfd = -1;
	if (ring.ring_fd)
		io_uring_queue_exit(&ring);
}

void pvlockd_loop_run(struct pvlockd *d, int lfd)
{
	struct io_uring_cqe *cqe;
	bool stop = false;
	int err;

	arm_poll(lfd, TAG_LISTEN);
	arm_poll(sfd, TAG_SIGNAL);
	arm_poll(tfd, TAG_TIMER);
	log_info("ready on %s (generation %u)", d->socket, d->generation);

	while (!stop) {
		uint64_t tag, ticks;
		int res;

		err = io_uring_wait_cqe(&ring, &cqe);
		if (err == -EINTR)
			continue;
		if (err) {
			log_err("io_uring_wait_cqe: %s", strerror(-err));
			break;
		}
		tag = io_uring_cqe_get_data64(cqe);
		res = cqe->res;
		io_uring_cqe_seen(&ring, cqe);

		switch (tag) {
		case 0:		/* a poll_remove's own completion */
			break;
		case TAG_LISTEN:
			pvlockd_ctl_serve(d, lfd);
			arm_poll(lfd, TAG_LISTEN);
			break;
		case TAG_SIGNAL:
			stop = true;
			break;
		case TAG_TIMER:
			if (read(tfd, &ticks, sizeof(ticks)) < 0)
				break;
			for (int i = 0; i < PVLI_MAX_VMS; i++)
				if (d->vms[i].used)
					vm_clock_update(&d->vms[i]);
			arm_poll(tfd, TAG_TIMER);
			break;
		default:
			on_qmp_event(d, tag, res);
			break;
		}
	}
}
