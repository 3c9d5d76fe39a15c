// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockd's control socket (pvlockd_ctl.h): accept, read the request line,
 * parse it (pvlockd_req.c), carry it out against the VM table, reply.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "pvlockd.h"
#include "pvlockd_ctl.h"
#include "pvlockd_log.h"
#include "pvlockd_loop.h"
#include "pvlockd_proto.h"
#include "pvlockd_req.h"
#include "qmp.h"

static __attribute__((format(printf, 2, 3)))
void reply_error(FILE *out, const char *fmt, ...)
{
	va_list ap;

	fputs(PVLOCKD_REPLY_ERROR, out);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
}

static void req_register(struct pvlockd *d, FILE *out, const struct pvlockd_req *req)
{
	struct pvlockd_vm *vm = NULL;
	char err[256], pin[256];

	if (pvlockd_vm_find(d, req->name)) {
		reply_error(out, "VM '%s' is already registered", req->name);
		return;
	}
	for (int i = 0; i < PVLI_MAX_VMS && !vm; i++)
		if (!d->vms[i].used)
			vm = &d->vms[i];
	if (!vm) {
		reply_error(out, "all %d VM slots are in use", PVLI_MAX_VMS);
		return;
	}
	memset(vm, 0, sizeof(*vm));
	vm->page_fd = vm->qmp_fd = -1;
	snprintf(vm->meta.name, sizeof(vm->meta.name), "%s", req->name);
	vm->meta.slot = vm - d->vms;
	vm->meta.nr_vcpus = req->nr_vcpus;
	vm->meta.accel = req->accel;
	if (vm_page_create(vm, &d->maps, d->generation, err, sizeof(err))) {
		reply_error(out, "%s", err);
		memset(vm, 0, sizeof(*vm));
		return;
	}
	vm->used = true;
	if (vm_meta_save(&vm->meta))
		log_warn("VM %s: cannot save its state for a restart: %s", req->name,
			 strerror(errno));
	snprintf(pin, sizeof(pin), PVLOCKD_PIN_VMS "/%s/page", req->name);
	log_info("VM %s: registered in slot %u, %u vCPUs, %s, page %s (%zu bytes)",
		 req->name, vm->meta.slot, req->nr_vcpus, accel_name(req->accel), pin,
		 vm->page_bytes);
	fprintf(out, "ok %s %zu\n", pin, vm->page_bytes);
}

static void req_attach(struct pvlockd *d, FILE *out, const struct pvlockd_req *req)
{
	struct pvlockd_vm *vm = req->name ? pvlockd_vm_find(d, req->name) : NULL;
	uint32_t tids[QMP_MAX_VCPUS];
	char err[256];
	int fd, n;

	if (!vm || !req->qmp) {
		reply_error(out, "%s", vm ? "usage: attach NAME QMP-SOCKET" :
			    "no such VM registered");
		return;
	}
	if (vm->qmp_fd >= 0) {
		reply_error(out, "VM '%s' is already attached", req->name);
		return;
	}
	fd = qmp_connect(req->qmp, err, sizeof(err));
	if (fd < 0) {
		reply_error(out, "%s", err);
		return;
	}
	n = qmp_vcpu_tids(fd, tids, QMP_MAX_VCPUS, err, sizeof(err));
	if (n < 0 || vm_attach_tids(vm, &d->maps, tids, n, err, sizeof(err))) {
		close(fd);
		reply_error(out, "%s", err);
		return;
	}
	vm->qmp_fd = fd;
	snprintf(vm->meta.qmp_path, sizeof(vm->meta.qmp_path), "%s", req->qmp);
	vm_meta_save(&vm->meta);
	pvlockd_loop_watch_qmp(vm);
	log_info("VM %s: attached over %s, %d vCPU threads", req->name, req->qmp, n);
	fprintf(out, "ok %d\n", n);
}

static void req_unregister(struct pvlockd *d, FILE *out, const struct pvlockd_req *req)
{
	struct pvlockd_vm *vm = req->name ? pvlockd_vm_find(d, req->name) : NULL;

	if (!vm) {
		reply_error(out, "no such VM registered");
		return;
	}
	pvlockd_vm_remove(d, vm, "unregistered");
	fprintf(out, "ok\n");
}

static void req_status(struct pvlockd *d, FILE *out, bool json)
{
	bool first = true;

	if (json)
		fprintf(out, "{\"pvlockd\":\"%s\",\"generation\":%u,\"vms\":[",
			PVLOCKD_VERSION, d->generation);
	for (int i = 0; i < PVLI_MAX_VMS; i++) {
		if (!d->vms[i].used)
			continue;
		vm_status(out, &d->vms[i], &d->maps, json, first);
		first = false;
	}
	if (json)
		fprintf(out, "]}\n");
	else if (first)
		fprintf(out, "no VMs registered\n");
}

void pvlockd_ctl_handle(struct pvlockd *d, char *line, FILE *out)
{
	struct pvlockd_req req;
	char err[256];
	int r;

	r = pvlockd_req_parse(line, &req, err, sizeof(err));
	log_debug("request: %s %s %s %s", req.word[0] ?: "", req.word[1] ?: "",
		  req.word[2] ?: "", req.word[3] ?: "");
	if (r) {
		reply_error(out, "%s", err);
		return;
	}
	switch (req.op) {
	case PVLOCKD_REQ_REGISTER:
		req_register(d, out, &req);
		break;
	case PVLOCKD_REQ_ATTACH:
		req_attach(d, out, &req);
		break;
	case PVLOCKD_REQ_UNREGISTER:
		req_unregister(d, out, &req);
		break;
	case PVLOCKD_REQ_STATUS:
		req_status(d, out, req.json);
		break;
	}
}

void pvlockd_ctl_serve(struct pvlockd *d, int lfd)
{
	struct timeval tv = { .tv_sec = 2 };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char line[PVLOCKD_REQUEST_MAX];
	ssize_t n;
	FILE *out;
	int fd;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) || cred.uid != 0) {
		dprintf(fd, PVLOCKD_REPLY_ERROR "only root may control pvlockd\n");
		close(fd);
		return;
	}
	n = recv(fd, line, sizeof(line) - 1, 0);
	if (n <= 0) {
		close(fd);
		return;
	}
	line[n] = '\0';
	out = fdopen(fd, "w");
	if (!out) {
		close(fd);
		return;
	}
	pvlockd_ctl_handle(d, line, out);
	fclose(out);
}

int pvlockd_ctl_listen(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	mode_t old;
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		log_err("socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	old = umask(077);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) || listen(fd, 16)) {
		int err = -errno;

		umask(old);
		log_err("cannot listen on %s: %s", path, strerror(-err));
		close(fd);
		return err;
	}
	umask(old);
	return fd;
}
