/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Handing a Prometheus text exposition to a scraper: serve it over HTTP
 * (GET /metrics), or write it for node_exporter's textfile collector.
 * Knows nothing of what the text says: a callback renders it.
 */
#ifndef __PROM_EXPORT_H
#define __PROM_EXPORT_H

#include <stddef.h>
#include <stdio.h>

/* Write the exposition to @out; 0, or -errno when there is nothing to serve. */
typedef int (*prom_render_fn)(FILE *out, void *ctx);

/*
 * Listen on "[HOST:]PORT" (HOST a name or address, "[::1]" for IPv6; no
 * HOST: every address).  The socket, or -errno with @err saying why.
 */
int prom_listen(const char *spec, char *err, size_t errlen);

/* "HOST:PORT" that @lfd listens on (PORT 0 picked one), into @buf. */
void prom_listen_name(int lfd, char *buf, size_t len);

/*
 * Answer requests on @lfd one at a time, rendering anew for each GET
 * /metrics, until SIGINT or SIGTERM, which the caller has blocked
 * (tool_catch_signals()).  A client gets PROM_IO_TIMEOUT_S seconds to
 * send its request and take the answer.  0, or -errno if serving failed.
 */
#define PROM_IO_TIMEOUT_S	5
int prom_serve(int lfd, prom_render_fn render, void *ctx);

/*
 * Write DIR/NAME as node_exporter's textfile collector wants it: a
 * temporary file in DIR renamed over NAME, so the collector never reads
 * half a file.  0, or -errno with a message on stderr.
 */
int prom_write_textfile(const char *dir, const char *name, prom_render_fn render, void *ctx);

#endif /* __PROM_EXPORT_H */
