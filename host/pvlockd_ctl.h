/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pvlockd's control socket: the protocol of pvlockd_proto.h, served one
 * connection at a time from the event loop.
 */
#ifndef __PVLOCKD_CTL_H
#define __PVLOCKD_CTL_H

#include <stdio.h>

struct pvlockd;

/*
 * Listen on @path, replacing a stale socket there; the socket is mode
 * 0600 (root only).  The fd, or -errno (logged).
 */
int pvlockd_ctl_listen(const char *path);

/*
 * Accept one client on @lfd and answer its one request.  A client that
 * is not root gets an error; one that sends nothing within 2 s is dropped.
 */
void pvlockd_ctl_serve(struct pvlockd *d, int lfd);

/* Carry out one request @line (modified) and write the reply to @out. */
void pvlockd_ctl_handle(struct pvlockd *d, char *line, FILE *out);

#endif /* __PVLOCKD_CTL_H */
