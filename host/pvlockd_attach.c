// SPDX-License-Identifier: GPL-2.0-only
/*
 * Attaching a VM (pvlockd_attach.h).
 *
 * Each event on the QMP socket reads what is there (at most READ_BUDGET
 * bytes per event, so a QEMU flooding events shares the loop with
 * everybody else), feeds the session and sends what it asks.  A failure
 * on the way leaves the VM registered and not attached, as before the
 * request, unless QEMU is gone and nobody asked (a resumed attach): then
 * the VM is removed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "errbuf.h"
#include "pvlockd.h"
#include "pvlockd_attach.h"
#include "pvlockd_fault.h"
#include "pvlockd_log.h"
#include "pvlockd_loop.h"
#include "qemu_proc.h"
#include "qmp.h"
#include "qmp_session.h"

/* Bytes read from QEMU per loop event. */
#define READ_BUDGET	65536

struct pvlockd_attach {
	int fd;				/* the QMP socket */
	pid_t pid;			/* QEMU, from SO_PEERCRED */
	uint64_t start;			/* its start time */
	int pidfd;
	uint64_t deadline_ns;
	int client;			/* -1: none waits */
	uint32_t client_gen;
	pvlockd_answer_fn answer;	/* how @client gets the answer */
	char qmp[VM_META_QMP_PATH_MAX];
	struct qmp_session s;
};

static uint64_t qmp_tag(const struct pvlockd_vm *vm)
{
	return pvlockd_tag(PVLOCKD_TAG_QMP, vm->meta.slot, vm->gen);
}

static int pidfd_open(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

/* Free @vm's attach, answering its client with @reply (a line). */
static void attach_end(struct pvlockd *d, struct pvlockd_vm *vm, const char *reply)
{
	struct pvlockd_attach *a = vm->attach;

	pvlockd_loop_cancel(qmp_tag(vm));
	close(a->fd);
	if (a->pidfd >= 0)
		close(a->pidfd);
	qmp_session_free(&a->s);
	if (a->client >= 0)
		a->answer(d, a->client, a->client_gen, reply);
	vm->attach = NULL;
	free(a);
}

/* The attach failed with @err (-errno, for "gone") and reason @why. */
static void attach_fail(struct pvlockd *d, struct pvlockd_vm *vm, int err, const char *why)
{
	struct pvlockd_attach *a = vm->attach;
	bool resumed = a->client < 0;
	char reply[512];

	log_warn("VM %s: attach over %s failed: %s", vm->meta.name, a->qmp, why);
	snprintf(reply, sizeof(reply), PVLOCKD_REPLY_ERROR "%s\n", why);
	attach_end(d, vm, reply);
	/* Not attaching any more: the record says registered again. */
	vm->meta.qmp_path[0] = '\0';
	if (vm_meta_save(&vm->meta))
		log_warn("VM %s: cannot save its state: %s", vm->meta.name, strerror(errno));
	if (resumed && qmp_gone(err))
		pvlockd_vm_remove(d, vm, "QEMU is gone (found while resuming its attach)");
}

/* The exchange is done: check what QEMU said, register, save, answer. */
static void attach_finish(struct pvlockd *d, struct pvlockd_vm *vm)
{
	struct pvlockd_attach *a = vm->attach;
	struct qmp_session *s = &a->s;
	uint64_t cgroup;
	char err[256], reply[64];
	int r;

	/* The same process as at connect: not exited and replaced meanwhile. */
	if (qemu_proc_start_time("/proc", a->pid) != a->start) {
		attach_fail(d, vm, -ESRCH, "QEMU exited during the attach");
		return;
	}
	if (s->nr_backends == 0) {
		seterr(err, sizeof(err), "QEMU (pid %d) maps no memory-backend-bpf object: it "
		       "does not map VM '%s''s page", (int)a->pid, vm->meta.name);
		attach_fail(d, vm, -EINVAL, err);
		return;
	}
	for (int i = 0; i < s->nr_backends; i++) {
		if (s->map_ids[i] != vm->map_id) {
			seterr(err, sizeof(err), "QEMU (pid %d) maps BPF map %u with "
			       "memory-backend-bpf '%s', which is not VM '%s''s page (map %u)",
			       (int)a->pid, s->map_ids[i], s->backends[i], vm->meta.name,
			       vm->map_id);
			attach_fail(d, vm, -EPERM, err);
			return;
		}
	}
	if ((uint32_t)s->nr_vcpus != vm->meta.nr_vcpus) {
		seterr(err, sizeof(err), "QEMU reports %d vCPUs, the VM was registered with %u",
		       s->nr_vcpus, vm->meta.nr_vcpus);
		attach_fail(d, vm, -EINVAL, err);
		return;
	}
	r = qemu_proc_host_tids("/proc", a->pid, s->tids, s->nr_vcpus, err, sizeof(err));
	if (r) {
		attach_fail(d, vm, r, err);
		return;
	}
	pvlockd_fault_point("attach-checked");
	r = vm_attach_tids(vm, &d->maps, s->tids, s->nr_vcpus, err, sizeof(err));
	if (r) {
		attach_fail(d, vm, r, err);
		return;
	}
	/*
	 * A thread that exited between the check above and the insert left
	 * an entry that its exit (the BPF program deletes a thread's entry
	 * as it exits) came too early to delete; its id could then be reused
	 * by another VM's vCPU, whose records would land in this VM's page.
	 * Look again now that the entries are in: a thread still listed has
	 * not been released, so its exit deletes its own entry.
	 */
	r = qemu_proc_has_threads("/proc", a->pid, s->tids, s->nr_vcpus, err, sizeof(err));
	if (r) {
		vm_detach_tids(vm, &d->maps);
		attach_fail(d, vm, r, err);
		return;
	}
	pvlockd_fault_point("attach-registered");
	cgroup = qemu_proc_cpu_cgroup("/proc", "/proc/self/mountinfo", a->pid);
	if (vm_set_opts(vm, &d->maps, cgroup))
		log_warn("VM %s: cannot set its options: %s", vm->meta.name, strerror(errno));
	vm->meta.qemu_pid = a->pid;
	vm->meta.qemu_start = a->start;
	if (vm_meta_save(&vm->meta)) {
		r = -errno;
		seterr(err, sizeof(err), "cannot save VM '%s''s state in %s: %s", vm->meta.name,
		       PVLOCKD_META_DIR, strerror(-r));
		vm_detach_tids(vm, &d->maps);
		vm->meta.qemu_pid = 0;
		vm->meta.qemu_start = 0;
		attach_fail(d, vm, r, err);
		return;
	}
	/* The pidfd goes to the VM, which watches QEMU from now on. */
	vm->pidfd = a->pidfd;
	a->pidfd = -1;
	vm->expires_ns = 0;
	log_info("VM %s: attached to QEMU %d over %s, %d vCPU threads%s", vm->meta.name,
		 (int)a->pid, a->qmp, s->nr_vcpus, s->events ? " (events skipped)" : "");
	snprintf(reply, sizeof(reply), "ok %d\n", s->nr_vcpus);
	attach_end(d, vm, reply);
	pvlockd_vm_watch(d, vm);
}

/* Send what the session asks; 0 or -errno. */
static int attach_send(struct pvlockd_attach *a)
{
	ssize_t n;

	if (!a->s.cmd_len)
		return 0;
	/*
	 * A command is one short line and QEMU has read everything before it
	 * (it answered): the socket buffer takes it whole, or QEMU does not
	 * read its socket, which the exchange treats as a failure.
	 */
	n = send(a->fd, a->s.cmd, a->s.cmd_len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n != (ssize_t)a->s.cmd_len)
		return n < 0 ? -errno : -EAGAIN;
	a->s.cmd_len = 0;
	return 0;
}

void pvlockd_attach_event(struct pvlockd *d, struct pvlockd_vm *vm, int res)
{
	struct pvlockd_attach *a = vm->attach;
	char buf[4096], why[400];
	size_t budget = READ_BUDGET;
	int r = 0;

	if (!a)
		return;
	while (budget) {
		ssize_t n = recv(a->fd, buf, sizeof(buf) < budget ? sizeof(buf) : budget,
				 MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			snprintf(why, sizeof(why), "QEMU closed its QMP socket %s during the attach%s",
				 a->qmp, n < 0 ? "" : " (did it exit?)");
			attach_fail(d, vm, -ECONNRESET, why);
			return;
		}
		budget -= n;
		r = qmp_session_input(&a->s, buf, n);
		if (r == 0)
			r = attach_send(a);
		if (r)
			break;
	}
	if (r == 1) {
		attach_finish(d, vm);
		return;
	}
	if (r < 0) {
		snprintf(why, sizeof(why), "QMP on %s: %s", a->qmp,
			 a->s.step == QMP_STEP_FAILED ? a->s.err : strerror(-r));
		attach_fail(d, vm, r, why);
		return;
	}
	(void)res;
	if (pvlockd_loop_poll(a->fd, POLLIN | POLLRDHUP, qmp_tag(vm)))
		attach_fail(d, vm, -EBUSY, "pvlockd cannot watch the QMP socket");
}

void pvlockd_attach_tick(struct pvlockd *d, struct pvlockd_vm *vm, uint64_t now)
{
	struct pvlockd_attach *a = vm->attach;
	char why[320];

	if (!a || now < a->deadline_ns)
		return;
	snprintf(why, sizeof(why), "QEMU (pid %d) did not complete the QMP exchange on %s "
		 "within %d ms (stopped, hung or too slow?)", (int)a->pid, a->qmp,
		 PVLOCKD_ATTACH_TIMEOUT_MS);
	attach_fail(d, vm, -ETIMEDOUT, why);
}

void pvlockd_attach_cancel(struct pvlockd *d, struct pvlockd_vm *vm, const char *why)
{
	char reply[320];

	if (!vm->attach)
		return;
	snprintf(reply, sizeof(reply), PVLOCKD_REPLY_ERROR "%s\n", why);
	attach_end(d, vm, reply);
}

void pvlockd_vm_remove(struct pvlockd *d, struct pvlockd_vm *vm, const char *why)
{
	char reply[160];

	log_info("VM %s: %s; removing its page and vCPU registrations", vm->meta.name, why);
	snprintf(reply, sizeof(reply), "VM '%s' was removed: %s", vm->meta.name, why);
	pvlockd_attach_cancel(d, vm, reply);
	if (vm->watched)
		pvlockd_loop_cancel(pvlockd_vm_qemu_tag(vm));
	vm_teardown(vm, &d->maps);
}

int pvlockd_attach_start(struct pvlockd *d, struct pvlockd_vm *vm, const char *qmp,
			 int client, pvlockd_answer_fn answer, char *err, size_t errlen)
{
	struct pvlockd_attach *a;
	int r;

	if (strlen(qmp) >= VM_META_QMP_PATH_MAX) {
		seterr(err, errlen, "QMP socket path too long: %s", qmp);
		return -ENAMETOOLONG;
	}
	a = calloc(1, sizeof(*a));
	if (!a || qmp_session_init(&a->s)) {
		free(a);
		seterr(err, errlen, "out of memory");
		return -ENOMEM;
	}
	a->pidfd = -1;
	a->client = answer ? client : -1;
	a->client_gen = a->client >= 0 ? d->clients[client].gen : 0;
	a->answer = answer;
	snprintf(a->qmp, sizeof(a->qmp), "%s", qmp);
	a->fd = qmp_open(qmp, &a->pid, err, errlen);
	if (a->fd < 0) {
		r = a->fd;
		goto err_free;
	}
	/* Pin down who QEMU is now: pid, start time, and a pidfd to watch it by. */
	a->start = qemu_proc_start_time("/proc", a->pid);
	a->pidfd = pidfd_open(a->pid);
	if (!a->start || a->pidfd < 0) {
		r = -ESRCH;
		seterr(err, errlen, "the process listening on %s (pid %d) is gone", qmp,
		       (int)a->pid);
		goto err_close;
	}
	/* Saved first: a pvlockd that dies in the exchange resumes it on restart. */
	snprintf(vm->meta.qmp_path, sizeof(vm->meta.qmp_path), "%s", qmp);
	if (vm_meta_save(&vm->meta)) {
		r = -errno;
		seterr(err, errlen, "cannot save VM '%s''s state in %s: %s", vm->meta.name,
		       PVLOCKD_META_DIR, strerror(-r));
		vm->meta.qmp_path[0] = '\0';
		goto err_close;
	}
	a->deadline_ns = pvlockd_now_ns() + PVLOCKD_ATTACH_TIMEOUT_MS * 1000000ULL;
	vm->attach = a;
	if (pvlockd_loop_poll(a->fd, POLLIN | POLLRDHUP, qmp_tag(vm))) {
		vm->attach = NULL;
		vm->meta.qmp_path[0] = '\0';
		vm_meta_save(&vm->meta);
		r = -EBUSY;
		seterr(err, errlen, "pvlockd cannot watch the QMP socket");
		goto err_close;
	}
	log_debug("VM %s: attaching to QEMU %d over %s", vm->meta.name, (int)a->pid, qmp);
	return 0;

err_close:
	close(a->fd);
	if (a->pidfd >= 0)
		close(a->pidfd);
err_free:
	qmp_session_free(&a->s);
	free(a);
	return r;
}
