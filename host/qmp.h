/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pvlockd's QMP sockets: connecting without blocking and learning who is
 * on the other end.  The exchange itself is qmp_session.h's.
 */
#ifndef __PVLOCKD_QMP_H
#define __PVLOCKD_QMP_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Connect to the QMP socket at @path, non-blocking (a unix socket
 * connects at once or fails; a full backlog is -EAGAIN).  *@pid gets the
 * pid of the process that listens there (SO_PEERCRED), in pvlockd's PID
 * namespace.  Returns the fd, or -errno with @err saying why.
 */
int qmp_open(const char *path, pid_t *pid, char *err, size_t errlen);

/*
 * Does the failure @err of qmp_open() mean that no QEMU is there any
 * more (nothing listens, or no socket)?  Anything else (a timeout, a full
 * backlog, a slow QEMU) does not.
 */
static inline bool qmp_gone(int err)
{
	return err == -ECONNREFUSED || err == -ENOENT;
}

#endif /* __PVLOCKD_QMP_H */
