/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One client of pvlockd's control socket, as the daemon's state holds it
 * (pvlockd.h); served by pvlockd_ctl.c.
 */
#ifndef __PVLOCKD_CLIENT_H
#define __PVLOCKD_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "pvlockd_proto.h"

/* Clients served at once; more wait in the listen backlog. */
#define PVLOCKD_MAX_CLIENTS		32
#define PVLOCKD_REQUEST_TIMEOUT_MS	2000
#define PVLOCKD_REPLY_TIMEOUT_MS	5000

enum pvlockd_client_state {
	PVLOCKD_CLIENT_FREE,
	PVLOCKD_CLIENT_READING,		/* the request line is arriving */
	PVLOCKD_CLIENT_WAITING,		/* an attach runs for it */
	PVLOCKD_CLIENT_WRITING,		/* its reply is going out */
};

struct pvlockd_client {
	enum pvlockd_client_state state;
	int fd;
	uint32_t gen;			/* bumped on every use: stale events are dropped */
	uint64_t deadline_ns;		/* reading or writing must be done by then */
	char in[PVLOCKD_REQUEST_MAX];
	size_t in_len;
	char *out;			/* the reply */
	size_t out_len, out_off;
};

#endif /* __PVLOCKD_CLIENT_H */
