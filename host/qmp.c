// SPDX-License-Identifier: GPL-2.0-only
/* pvlockd's QMP sockets (qmp.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "errbuf.h"
#include "qmp.h"

int qmp_open(const char *path, pid_t *pid, char *err, size_t errlen)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd, r;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		seterr(err, errlen, "QMP socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		r = -errno;
		seterr(err, errlen, "cannot create a socket: %s", strerror(-r));
		return r;
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		r = -errno;
		seterr(err, errlen, "cannot connect to QMP socket %s: %s%s", path, strerror(-r),
		       r == -EAGAIN ? " (its backlog is full: QEMU does not accept)" : "");
		close(fd);
		return r;
	}
	/* The listener's credentials, copied at connect: valid before QEMU accepts. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) || cred.pid <= 0) {
		r = errno ? -errno : -ESRCH;
		seterr(err, errlen, "cannot tell which process listens on %s", path);
		close(fd);
		return r;
	}
	*pid = cred.pid;
	return fd;
}
