/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pvlockd's QMP exchange with one QEMU at attach, as a state machine fed
 * with whatever bytes arrive: no I/O, no clock, so unit tests drive it
 * with any split, interleaving or garbage.  The caller (pvlockd_attach.c)
 * reads the socket without blocking, feeds the bytes, sends the command
 * the session asks for, and gives the whole exchange one deadline.
 *
 *   greeting  <- {"QMP": ...}
 *   caps      -> qmp_capabilities              <- return
 *   cpus      -> query-cpus-fast               <- return: vCPU thread ids
 *   objects   -> qom-list /objects             <- return: memory-backend-bpf children
 *   map-id    -> qom-get CHILD map-id (each)   <- return: the BPF map id it maps
 *   done
 *
 * Events may come between any two lines and are skipped; any other line
 * out of turn, an error reply, a line that is not JSON or one longer
 * than QMP_LINE_MAX fails the exchange.
 */
#ifndef __PVLOCKD_QMP_SESSION_H
#define __PVLOCKD_QMP_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "qmp_parse.h"

/* vCPU thread ids one reply may carry (pvlockd's per-VM limit). */
#define QMP_MAX_VCPUS		64
/* The longest line read from QEMU; a longer one fails the exchange. */
#define QMP_LINE_MAX		65536
/* memory-backend-bpf objects asked about; more fail the exchange. */
#define QMP_MAX_BACKENDS	8

enum qmp_step {
	QMP_STEP_GREETING,
	QMP_STEP_CAPS,
	QMP_STEP_CPUS,
	QMP_STEP_OBJECTS,
	QMP_STEP_MAP_ID,
	QMP_STEP_DONE,
	QMP_STEP_FAILED,
};

struct qmp_session {
	enum qmp_step step;
	char *line;			/* the line being received (QMP_LINE_MAX bytes) */
	size_t len;
	char cmd[160];			/* the command to send next, if cmd_len */
	size_t cmd_len;
	unsigned long events;		/* events skipped */
	/* Results, valid at QMP_STEP_DONE. */
	int nr_vcpus;
	uint32_t tids[QMP_MAX_VCPUS];	/* by cpu-index, as QEMU sees them */
	int nr_listed;			/* memory-backend-bpf objects QEMU has */
	int nr_backends;		/* those whose map id is known */
	char backends[QMP_MAX_BACKENDS][QMP_NAME_MAX];
	uint32_t map_ids[QMP_MAX_BACKENDS];
	char err[256];			/* why, at QMP_STEP_FAILED */
};

/* Start an exchange (it waits for the greeting).  0 or -ENOMEM. */
int qmp_session_init(struct qmp_session *s);

void qmp_session_free(struct qmp_session *s);

/*
 * Feed @n bytes from QEMU.  Returns 0 while the exchange goes on (send
 * s->cmd if s->cmd_len, then clear cmd_len), 1 when it is done, or
 * -errno when it failed (s->err says why).  Bytes after the last line
 * the exchange needed are ignored.
 */
int qmp_session_input(struct qmp_session *s, const char *data, size_t n);

#endif /* __PVLOCKD_QMP_SESSION_H */
