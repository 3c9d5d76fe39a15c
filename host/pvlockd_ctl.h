/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pvlockd's control socket: the protocol of pvlockd_proto.h.  Clients are
 * served from the event loop without ever blocking it: their sockets are
 * non-blocking, a request must arrive within PVLOCKD_REQUEST_TIMEOUT_MS
 * and the reply be taken within PVLOCKD_REPLY_TIMEOUT_MS, or the client
 * is dropped.  An attach is answered when its QMP exchange ends.
 */
#ifndef __PVLOCKD_CTL_H
#define __PVLOCKD_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pvlockd_client.h"

struct pvlockd;

/*
 * Listen on @path, replacing a stale socket there (pvlockd holds its lock
 * file, so no other pvlockd does); the socket is mode 0600 (root only) and
 * non-blocking.  The fd, or -errno (logged).
 */
int pvlockd_ctl_listen(const char *path);

/* Accept every client waiting on @lfd. */
void pvlockd_ctl_accept(struct pvlockd *d, int lfd);

/* The loop saw @res on client @idx (generation @gen): read or write on. */
void pvlockd_ctl_event(struct pvlockd *d, unsigned idx, uint32_t gen, int res);

/* Drop clients past their deadline. */
void pvlockd_ctl_tick(struct pvlockd *d, uint64_t now);

/*
 * Answer the client @idx/@gen that waits for an attach with @reply (one
 * line, with its newline).  A client gone meanwhile is not an error.
 * (The attach's answer, pvlockd_attach_start().)
 */
void pvlockd_ctl_reply(struct pvlockd *d, int idx, uint32_t gen, const char *reply);

/* Carry out one request @line (modified); @client waits if it is an attach. */
void pvlockd_ctl_handle(struct pvlockd *d, char *line, int client);

/* Close every client (shutdown). */
void pvlockd_ctl_close_all(struct pvlockd *d);

#endif /* __PVLOCKD_CTL_H */
