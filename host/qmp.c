// SPDX-License-Identifier: GPL-2.0-only
/*
 * Minimal QMP client for pvlockd, the socket side: connect, negotiate,
 * send a command and wait for its reply line.  QMP replies are one JSON
 * object per line; qmp_parse.c reads them.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "errbuf.h"
#include "qmp.h"
#include "qmp_parse.h"

#define QMP_TIMEOUT_MS	5000
#define QMP_LINE_MAX	65536

/*
 * Read one line (up to '\n') within the timeout.  Reads a byte at a time:
 * the replies are small and rare, and it never swallows the next event.
 */
static int qmp_read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;

	while (n + 1 < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		r = poll(&p, 1, QMP_TIMEOUT_MS);
		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0)
			return -errno;
		r = read(fd, buf + n, 1);
		if (r == 0)
			return -ECONNRESET;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (buf[n] == '\n') {
			buf[n] = '\0';
			return n;
		}
		n++;
	}
	return -EMSGSIZE;
}

/* Send @cmd and return its reply line, skipping asynchronous events. */
static int qmp_command(int fd, const char *cmd, char *reply, size_t len)
{
	size_t cmdlen = strlen(cmd);
	int r;

	if (write(fd, cmd, cmdlen) != (ssize_t)cmdlen)
		return -EIO;
	for (;;) {
		r = qmp_read_line(fd, reply, len);
		if (r < 0)
			return r;
		switch (qmp_line_kind(reply)) {
		case QMP_LINE_RETURN:
			return 0;
		case QMP_LINE_ERROR:
		case QMP_LINE_INVALID:
			return -EPROTO;
		case QMP_LINE_EVENT:
		case QMP_LINE_GREETING:
		case QMP_LINE_OTHER:
			break;
		}
	}
}

int qmp_connect(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char *line;
	int fd, r;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		seterr(err, errlen, "QMP socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		r = -errno;
		seterr(err, errlen, "cannot connect to QMP socket %s: %s", path, strerror(-r));
		close(fd);
		return r;
	}
	line = malloc(QMP_LINE_MAX);
	if (!line) {
		close(fd);
		return -ENOMEM;
	}
	/* Greeting, then leave capabilities negotiation. */
	r = qmp_read_line(fd, line, QMP_LINE_MAX);
	if (r >= 0 && !qmp_is_greeting(line))
		r = -EPROTO;
	if (r >= 0)
		r = qmp_command(fd, "{\"execute\":\"qmp_capabilities\"}\n", line, QMP_LINE_MAX);
	free(line);
	if (r < 0) {
		seterr(err, errlen, "QMP handshake on %s failed: %s", path, strerror(-r));
		close(fd);
		return r;
	}
	return fd;
}

int qmp_vcpu_tids(int fd, uint32_t *tids, int max, char *err, size_t errlen)
{
	char *line = malloc(QMP_LINE_MAX);
	int r;

	if (!line)
		return -ENOMEM;
	r = qmp_command(fd, "{\"execute\":\"query-cpus-fast\"}\n", line, QMP_LINE_MAX);
	if (r < 0)
		seterr(err, errlen, "query-cpus-fast failed: %s", strerror(-r));
	else if ((r = qmp_parse_cpus_fast(line, tids, max)) < 0)
		seterr(err, errlen, "unexpected query-cpus-fast reply");
	free(line);
	return r;
}
