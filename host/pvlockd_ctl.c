// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockd's control socket (pvlockd_ctl.h): accept, read the request line,
 * parse it (pvlockd_req.c), carry it out against the VM table, reply.
 *
 * A client is a small state machine driven by the event loop: READING
 * until its line (or end of stream) arrives, WAITING while its attach
 * talks to QEMU, WRITING until the reply is out.  Reads and writes never
 * block (MSG_DONTWAIT on a non-blocking socket); the tick drops a client
 * whose request or reply takes too long, so one that connects and stays
 * silent, or asks for a large status and never reads it, costs a client
 * slot for a few seconds and nothing else.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "pvlockd.h"
#include "pvlockd_attach.h"
#include "pvlockd_ctl.h"
#include "pvlockd_fault.h"
#include "pvlockd_log.h"
#include "pvlockd_loop.h"
#include "pvlockd_proto.h"
#include "pvlockd_req.h"

static uint64_t client_tag(const struct pvlockd *d, const struct pvlockd_client *c)
{
	return pvlockd_tag(PVLOCKD_TAG_CLIENT, c - d->clients, c->gen);
}

static void client_close(struct pvlockd *d, struct pvlockd_client *c)
{
	if (c->state == PVLOCKD_CLIENT_FREE)
		return;
	if (c->state != PVLOCKD_CLIENT_WAITING)
		pvlockd_loop_cancel(client_tag(d, c));
	close(c->fd);
	free(c->out);
	c->out = NULL;
	c->fd = -1;
	c->state = PVLOCKD_CLIENT_FREE;
	c->gen++;
}

/* Watch @c for @events; a client that cannot be watched is dropped. */
static void client_watch(struct pvlockd *d, struct pvlockd_client *c, unsigned events)
{
	if (pvlockd_loop_poll(c->fd, events, client_tag(d, c)))
		client_close(d, c);
}

/* Write what the socket takes now; done (closed) or watched for POLLOUT. */
static void client_write(struct pvlockd *d, struct pvlockd_client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			client_watch(d, c, POLLOUT);
			return;
		}
		if (n <= 0) {
			log_debug("a client went away before its reply was out");
			break;
		}
		c->out_off += n;
	}
	client_close(d, c);
}

/* Send @reply (taken over, malloc'd, @len bytes) to @c. */
static void client_send(struct pvlockd *d, struct pvlockd_client *c, char *reply, size_t len)
{
	free(c->out);
	c->out = reply;
	c->out_len = len;
	c->out_off = 0;
	c->state = PVLOCKD_CLIENT_WRITING;
	c->deadline_ns = pvlockd_now_ns() + PVLOCKD_REPLY_TIMEOUT_MS * 1000000ULL;
	client_write(d, c);
}

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
	vm_init(vm);
	snprintf(vm->meta.name, sizeof(vm->meta.name), "%s", req->name);
	vm->meta.slot = vm - d->vms;
	vm->meta.nr_vcpus = req->nr_vcpus;
	vm->meta.accel = req->accel;
	vm->meta.opts = req->opts;
	if (vm_page_create(vm, &d->maps, d->generation, err, sizeof(err))) {
		reply_error(out, "%s", err);
		vm_init(vm);
		return;
	}
	pvlockd_fault_point("register-installed");
	/* Saved before the reply: a VM that may run is one a restart can find. */
	if (vm_meta_save(&vm->meta)) {
		reply_error(out, "cannot save VM '%s''s state in %s: %s", req->name,
			    PVLOCKD_META_DIR, strerror(errno));
		vm_teardown(vm, &d->maps);
		return;
	}
	vm->used = true;
	vm->expires_ns = pvlockd_now_ns() + d->attach_timeout_s * 1000000000ULL;
	vm_pin_path(pin, sizeof(pin), req->name);
	log_info("VM %s: registered in slot %u, %u vCPUs, %s%s%s, page %s (%zu bytes)",
		 req->name, vm->meta.slot, req->nr_vcpus, accel_name(req->accel),
		 req->opts & PVLI_VM_PCPU ? ", pcpu" : "",
		 req->opts & PVLI_VM_QUOTA_ANCESTORS ? ", quota-ancestors" : "",
		 pin, vm->page_bytes);
	fprintf(out, "ok %s %zu\n", pin, vm->page_bytes);
}

/* Start the attach; 1 if it runs (the client waits), else the reply is in @out. */
static int req_attach(struct pvlockd *d, FILE *out, const struct pvlockd_req *req, int client)
{
	struct pvlockd_vm *vm = req->name ? pvlockd_vm_find(d, req->name) : NULL;
	char err[256];

	if (!vm || !req->qmp) {
		reply_error(out, "%s", vm ? "usage: attach NAME QMP-SOCKET" :
			    "no such VM registered");
		return 0;
	}
	if (vm_attached(vm) || vm->attach) {
		reply_error(out, "VM '%s' is already %s", req->name,
			    vm->attach ? "attaching" : "attached");
		return 0;
	}
	if (pvlockd_attach_start(d, vm, req->qmp, client, pvlockd_ctl_reply, err, sizeof(err))) {
		reply_error(out, "%s", err);
		return 0;
	}
	return 1;
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
		fprintf(out, "{\"pvlockd\":\"%s\",\"generation\":%u,\"loop\":{\"steps\":%llu,"
			"\"max_busy_us\":%llu,\"slow_steps\":%llu},\"vms\":[",
			PVLOCKD_VERSION, d->generation, (unsigned long long)d->loop.steps,
			(unsigned long long)(d->loop.max_busy_ns / 1000),
			(unsigned long long)d->loop.slow_steps);
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

void pvlockd_ctl_handle(struct pvlockd *d, char *line, int client)
{
	struct pvlockd_client *c = &d->clients[client];
	struct pvlockd_req req;
	char err[256], *reply = NULL;
	size_t len = 0;
	FILE *out;
	int r;

	out = open_memstream(&reply, &len);
	if (!out) {
		client_close(d, c);
		return;
	}
	r = pvlockd_req_parse(line, &req, err, sizeof(err));
	log_debug("request: %s %s %s %s", req.word[0] ?: "", req.word[1] ?: "",
		  req.word[2] ?: "", req.word[3] ?: "");
	if (r) {
		reply_error(out, "%s", err);
	} else {
		switch (req.op) {
		case PVLOCKD_REQ_REGISTER:
			req_register(d, out, &req);
			break;
		case PVLOCKD_REQ_ATTACH:
			if (req_attach(d, out, &req, client)) {
				fclose(out);
				free(reply);
				c->state = PVLOCKD_CLIENT_WAITING;
				return;
			}
			break;
		case PVLOCKD_REQ_UNREGISTER:
			req_unregister(d, out, &req);
			break;
		case PVLOCKD_REQ_STATUS:
			req_status(d, out, req.json);
			break;
		}
	}
	if (fclose(out)) {
		free(reply);
		client_close(d, c);
		return;
	}
	client_send(d, c, reply, len);
}

void pvlockd_ctl_reply(struct pvlockd *d, int idx, uint32_t gen, const char *reply)
{
	struct pvlockd_client *c;
	char *copy;

	if (idx < 0 || idx >= PVLOCKD_MAX_CLIENTS)
		return;
	c = &d->clients[idx];
	if (c->gen != gen || c->state != PVLOCKD_CLIENT_WAITING)
		return;
	copy = strdup(reply);
	if (!copy) {
		client_close(d, c);
		return;
	}
	client_send(d, c, copy, strlen(copy));
}

/* The request is in (a line, a full buffer, or the end of the stream). */
static void client_request(struct pvlockd *d, struct pvlockd_client *c)
{
	c->in[c->in_len] = '\0';
	pvlockd_ctl_handle(d, c->in, c - d->clients);
}

static void client_read(struct pvlockd *d, struct pvlockd_client *c)
{
	for (;;) {
		ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len,
				 MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			client_watch(d, c, POLLIN | POLLRDHUP);
			return;
		}
		if (n < 0) {
			client_close(d, c);
			return;
		}
		if (n == 0) {
			if (c->in_len)
				client_request(d, c);
			else
				client_close(d, c);
			return;
		}
		c->in_len += n;
		if (memchr(c->in + c->in_len - n, '\n', n) || c->in_len == sizeof(c->in) - 1) {
			client_request(d, c);
			return;
		}
	}
}

void pvlockd_ctl_event(struct pvlockd *d, unsigned idx, uint32_t gen, int res)
{
	struct pvlockd_client *c = &d->clients[idx];

	if (c->gen != gen)
		return;
	if (res < 0) {
		client_close(d, c);
		return;
	}
	if (c->state == PVLOCKD_CLIENT_READING)
		client_read(d, c);
	else if (c->state == PVLOCKD_CLIENT_WRITING)
		client_write(d, c);
}

void pvlockd_ctl_accept(struct pvlockd *d, int lfd)
{
	for (;;) {
		struct pvlockd_client *c = NULL;
		struct ucred cred;
		socklen_t len = sizeof(cred);
		int fd;

		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		for (int i = 0; i < PVLOCKD_MAX_CLIENTS && !c; i++)
			if (d->clients[i].state == PVLOCKD_CLIENT_FREE)
				c = &d->clients[i];
		if (!c) {
			/* Best effort: the reason fits in an empty socket buffer. */
			send(fd, PVLOCKD_REPLY_ERROR "pvlockd is busy, try again\n",
			     sizeof(PVLOCKD_REPLY_ERROR "pvlockd is busy, try again\n") - 1,
			     MSG_DONTWAIT | MSG_NOSIGNAL);
			close(fd);
			log_warn("all %d client slots busy; a client was turned away",
				 PVLOCKD_MAX_CLIENTS);
			continue;
		}
		c->fd = fd;
		c->in_len = 0;
		c->state = PVLOCKD_CLIENT_READING;
		c->deadline_ns = pvlockd_now_ns() + PVLOCKD_REQUEST_TIMEOUT_MS * 1000000ULL;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) || cred.uid != 0) {
			static const char msg[] = PVLOCKD_REPLY_ERROR "only root may control pvlockd\n";
			char *copy = strdup(msg);

			if (copy)
				client_send(d, c, copy, sizeof(msg) - 1);
			else
				client_close(d, c);
			continue;
		}
		client_read(d, c);
	}
}

void pvlockd_ctl_tick(struct pvlockd *d, uint64_t now)
{
	for (int i = 0; i < PVLOCKD_MAX_CLIENTS; i++) {
		struct pvlockd_client *c = &d->clients[i];

		if ((c->state == PVLOCKD_CLIENT_READING || c->state == PVLOCKD_CLIENT_WRITING) &&
		    now > c->deadline_ns) {
			log_info("dropping a client that %s", c->state == PVLOCKD_CLIENT_READING ?
				 "sent no request in time" : "did not take its reply in time");
			client_close(d, c);
		}
	}
}

void pvlockd_ctl_close_all(struct pvlockd *d)
{
	for (int i = 0; i < PVLOCKD_MAX_CLIENTS; i++)
		client_close(d, &d->clients[i]);
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
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	old = umask(077);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) || listen(fd, 64)) {
		int err = -errno;

		umask(old);
		log_err("cannot listen on %s: %s", path, strerror(-err));
		close(fd);
		return err;
	}
	umask(old);
	return fd;
}
