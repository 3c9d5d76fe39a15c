// SPDX-License-Identifier: GPL-2.0-only
/*
 * Minimal QMP client for pvlockd.
 *
 * QMP replies are one JSON object per line.  pvlockd needs two commands
 * and two numbers per vCPU, so instead of a JSON library this scans the
 * one reply it asks for, and refuses anything it cannot account for.
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
		if (strstr(reply, "\"event\""))
			continue;
		if (strstr(reply, "\"return\""))
			return 0;
		if (strstr(reply, "\"error\""))
			return -EPROTO;
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
	if (r >= 0 && !strstr(line, "\"QMP\""))
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

/* The number after "key": at or after @from, before @end; -1 if absent. */
static long long json_number(const char *from, const char *end, const char *key)
{
	const char *p = strstr(from, key);
	char *stop;
	long long v;

	if (!p || p >= end)
		return -1;
	p += strlen(key);
	while (*p == ' ' || *p == ':')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	v = strtoll(p, &stop, 10);
	return errno ? -1 : v;
}

int qmp_parse_cpus_fast(const char *reply, uint32_t *tids, int max)
{
	const char *p = strstr(reply, "\"return\"");
	int n = 0;

	if (!p)
		return -EINVAL;
	for (int i = 0; i < max; i++)
		tids[i] = 0;
	/* Each vCPU is one object in the array: {..."cpu-index": N, ... "thread-id": T ...} */
	while ((p = strchr(p, '{'))) {
		const char *end = strchr(p, '}');
		long long idx, tid;

		if (!end)
			return -EINVAL;
		/* "props" is a nested object: extend to the vCPU object's end. */
		if (strstr(p, "\"props\"") && strstr(p, "\"props\"") < end)
			end = strchr(end + 1, '}');
		if (!end)
			return -EINVAL;
		idx = json_number(p, end, "\"cpu-index\"");
		tid = json_number(p, end, "\"thread-id\"");
		if (idx < 0 || idx >= max || tid <= 0 || tid > UINT32_MAX || tids[idx])
			return -EINVAL;
		tids[idx] = (uint32_t)tid;
		n++;
		p = end + 1;
	}
	if (n == 0)
		return -EINVAL;
	/* cpu-index values must be exactly 0..n-1. */
	for (int i = 0; i < n; i++)
		if (!tids[i])
			return -EINVAL;
	return n;
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
