// SPDX-License-Identifier: GPL-2.0-only
/*
 * A Prometheus exposition over HTTP or in a textfile (prom_export.h).
 *
 * The HTTP side is the least a scraper needs: HTTP/1.0 semantics (one
 * request per connection, closed after the answer), GET only, one client
 * at a time.  Prometheus scrapes every few seconds at most, so a second
 * scraper simply waits; a client that stalls is dropped after
 * PROM_IO_TIMEOUT_S, so it cannot hold the exporter.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errbuf.h"
#include "prom_export.h"

#define CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

int prom_listen(const char *spec, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	struct addrinfo *res, *ai;
	char host[256] = "";
	const char *port, *colon = strrchr(spec, ':');
	int fd = -1, r, one = 1;

	/* "PORT", "HOST:PORT", "[V6]:PORT" */
	port = colon ? colon + 1 : spec;
	if (colon) {
		const char *h = spec, *e = colon;

		if (*h == '[' && e > h && e[-1] == ']') {
			h++;
			e--;
		}
		if ((size_t)(e - h) >= sizeof(host)) {
			seterr(err, errlen, "listen address too long: %s", spec);
			return -EINVAL;
		}
		memcpy(host, h, e - h);
		host[e - h] = '\0';
	}
	if (!*port || strspn(port, "0123456789") != strlen(port)) {
		seterr(err, errlen, "'%s': want [HOST:]PORT, PORT a number", spec);
		return -EINVAL;
	}
	r = getaddrinfo(*host ? host : NULL, port, &hints, &res);
	if (r) {
		seterr(err, errlen, "cannot resolve '%s': %s", spec, gai_strerror(r));
		return -EINVAL;
	}
	r = -EADDRNOTAVAIL;
	/* Without a HOST: IPv6 first, which takes IPv4 too on a dual-stack host. */
	for (int v6 = 1; v6 >= 0 && fd < 0; v6--) {
		for (ai = res; ai && fd < 0; ai = ai->ai_next) {
			if ((ai->ai_family == AF_INET6) != v6)
				continue;
			fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
			if (fd < 0) {
				r = -errno;
				continue;
			}
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 16)) {
				r = -errno;
				close(fd);
				fd = -1;
			}
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		seterr(err, errlen, "cannot listen on %s: %s", spec, strerror(-r));
	return fd < 0 ? r : fd;
}

void prom_listen_name(int lfd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[NI_MAXHOST], port[NI_MAXSERV];

	if (getsockname(lfd, (struct sockaddr *)&ss, &sl) ||
	    getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV)) {
		snprintf(buf, len, "?");
		return;
	}
	snprintf(buf, len, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
}

/* All of @buf, or false (the client went away or stalled). */
static bool send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return false;
		}
		buf += n;
		len -= n;
	}
	return true;
}

static void respond(int fd, const char *status, const char *type, const char *body,
		    size_t len)
{
	char head[256];
	int n = snprintf(head, sizeof(head), "HTTP/1.0 %s\r\nContent-Type: %s\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n", status, type, len);

	if (send_all(fd, head, n))
		send_all(fd, body, len);
}

/* Read the request head (to its blank line) into @buf: its length, or -1. */
static ssize_t read_head(int fd, char *buf, size_t size)
{
	size_t len = 0;

	while (len < size - 1) {
		ssize_t n = recv(fd, buf + len, size - 1 - len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		len += n;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
			return len;
	}
	return -1;	/* too long for a scraper's request */
}

static void serve_one(int fd, prom_render_fn render, void *ctx)
{
	struct timeval tv = { .tv_sec = PROM_IO_TIMEOUT_S };
	char req[4096], *body = NULL;
	size_t len = 0;
	FILE *out;
	int r;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (read_head(fd, req, sizeof(req)) < 0)
		return;
	if (strncmp(req, "GET ", 4)) {
		respond(fd, "405 Method Not Allowed", "text/plain", "GET only\n", 9);
		return;
	}
	/* The path, without a query string. */
	if (strncmp(req + 4, "/metrics", 8) || !strchr(" ?", req[12])) {
		static const char idx[] = "pvlockstat exporter: metrics at /metrics\n";

		if (!strncmp(req + 4, "/ ", 2))
			respond(fd, "200 OK", "text/plain", idx, sizeof(idx) - 1);
		else
			respond(fd, "404 Not Found", "text/plain", "not found\n", 10);
		return;
	}
	out = open_memstream(&body, &len);
	if (!out) {
		respond(fd, "500 Internal Server Error", "text/plain", "out of memory\n", 14);
		return;
	}
	r = render(out, ctx);
	if (fclose(out) || r) {
		static const char msg[] = "pvlockstat could not read its counters\n";

		respond(fd, "500 Internal Server Error", "text/plain", msg, sizeof(msg) - 1);
	} else {
		respond(fd, "200 OK", CONTENT_TYPE, body, len);
	}
	free(body);
}

int prom_serve(int lfd, prom_render_fn render, void *ctx)
{
	struct pollfd p[2] = { { .fd = lfd, .events = POLLIN } };
	sigset_t sigs;
	int r = 0;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	p[1].fd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (p[1].fd < 0)
		return -errno;
	p[1].events = POLLIN;
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (p[1].revents)
			break;
		if (p[0].revents & POLLIN) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			if (fd >= 0) {
				serve_one(fd, render, ctx);
				close(fd);
			}
		}
	}
	close(p[1].fd);
	return r;
}

int prom_write_textfile(const char *dir, const char *name, prom_render_fn render, void *ctx)
{
	char tmp[4096], path[4096];
	FILE *out;
	int fd, r;

	/* node_exporter reads *.prom only: the temporary name is skipped. */
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name);
	fd = mkstemp(tmp);
	if (fd < 0 || !(out = fdopen(fd, "w"))) {
		r = -errno;
		fprintf(stderr, "pvlockstat: cannot write in %s: %s\n", dir, strerror(-r));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		return r;
	}
	fchmod(fd, 0644);
	r = render(out, ctx);
	if (fclose(out) && !r)
		r = -errno;
	if (!r && rename(tmp, path))
		r = -errno;
	if (r) {
		fprintf(stderr, "pvlockstat: cannot write %s: %s\n", path, strerror(-r));
		unlink(tmp);
	}
	return r;
}
