// SPDX-License-Identifier: GPL-2.0-only
/* pvlockd's QMP exchange at attach, as a state machine (qmp_session.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qmp_session.h"

#define BPF_BACKEND_TYPE	"child<memory-backend-bpf>"

int qmp_session_init(struct qmp_session *s)
{
	memset(s, 0, sizeof(*s));
	s->line = malloc(QMP_LINE_MAX);
	return s->line ? 0 : -ENOMEM;
}

void qmp_session_free(struct qmp_session *s)
{
	free(s->line);
	s->line = NULL;
}

static __attribute__((format(printf, 3, 4)))
int fail(struct qmp_session *s, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	s->step = QMP_STEP_FAILED;
	return r;
}

static __attribute__((format(printf, 2, 3)))
void send_cmd(struct qmp_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	s->cmd_len = vsnprintf(s->cmd, sizeof(s->cmd), fmt, ap);
	va_end(ap);
}

/* QOM object ids are letters, digits, '-', '.', '_': safe to put in a JSON string. */
static bool plain_name(const char *n)
{
	for (; *n; n++)
		if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') ||
		      (*n >= '0' && *n <= '9') || *n == '-' || *n == '.' || *n == '_'))
			return false;
	return true;
}

static void ask_map_id(struct qmp_session *s)
{
	send_cmd(s, "{\"execute\":\"qom-get\",\"arguments\":{\"path\":\"/objects/%s\","
		 "\"property\":\"map-id\"}}\n", s->backends[s->nr_backends]);
}

static const char *step_cmd(enum qmp_step step)
{
	switch (step) {
	case QMP_STEP_CAPS: return "qmp_capabilities";
	case QMP_STEP_CPUS: return "query-cpus-fast";
	case QMP_STEP_OBJECTS: return "qom-list /objects";
	case QMP_STEP_MAP_ID: return "qom-get map-id";
	default: return "nothing";
	}
}

/* The reply (or greeting) the current step waits for is @line. */
static int on_reply(struct qmp_session *s, const char *line)
{
	uint64_t id;
	int n;

	switch (s->step) {
	case QMP_STEP_CAPS:
		s->step = QMP_STEP_CPUS;
		send_cmd(s, "{\"execute\":\"query-cpus-fast\"}\n");
		return 0;
	case QMP_STEP_CPUS:
		n = qmp_parse_cpus_fast(line, s->tids, QMP_MAX_VCPUS);
		if (n < 0)
			return fail(s, -EPROTO, "unexpected query-cpus-fast reply");
		s->nr_vcpus = n;
		s->step = QMP_STEP_OBJECTS;
		send_cmd(s, "{\"execute\":\"qom-list\",\"arguments\":{\"path\":\"/objects\"}}\n");
		return 0;
	case QMP_STEP_OBJECTS:
		n = qmp_parse_qom_children(line, BPF_BACKEND_TYPE, s->backends, QMP_MAX_BACKENDS);
		if (n == -E2BIG)
			return fail(s, -E2BIG, "QEMU has more than %d memory-backend-bpf objects",
				    QMP_MAX_BACKENDS);
		if (n < 0)
			return fail(s, -EPROTO, "unexpected qom-list reply");
		for (int i = 0; i < n; i++)
			if (!plain_name(s->backends[i]))
				return fail(s, -EPROTO, "unexpected QOM object name");
		s->nr_listed = n;
		s->nr_backends = 0;
		if (n == 0) {
			s->step = QMP_STEP_DONE;
			return 1;
		}
		s->step = QMP_STEP_MAP_ID;
		ask_map_id(s);
		return 0;
	case QMP_STEP_MAP_ID:
		if (qmp_parse_return_uint(line, &id) || id == 0 || id > UINT32_MAX)
			return fail(s, -EPROTO, "unexpected map-id of memory-backend-bpf '%s'",
				    s->backends[s->nr_backends]);
		s->map_ids[s->nr_backends++] = id;
		if (s->nr_backends == s->nr_listed) {
			s->step = QMP_STEP_DONE;
			return 1;
		}
		ask_map_id(s);
		return 0;
	default:
		return fail(s, -EPROTO, "internal: no reply expected");
	}
}

/* One complete line from QEMU. */
static int on_line(struct qmp_session *s, const char *line)
{
	char desc[160];

	switch (qmp_line_kind(line)) {
	case QMP_LINE_EVENT:
		s->events++;
		return 0;
	case QMP_LINE_INVALID:
		return fail(s, -EPROTO, "QEMU sent a line that is not a JSON object (during %s)",
			    step_cmd(s->step));
	case QMP_LINE_GREETING:
		if (s->step != QMP_STEP_GREETING)
			return fail(s, -EPROTO, "QEMU greeted twice");
		s->step = QMP_STEP_CAPS;
		send_cmd(s, "{\"execute\":\"qmp_capabilities\"}\n");
		return 0;
	case QMP_LINE_ERROR:
		if (s->step == QMP_STEP_GREETING || s->cmd_len)
			return fail(s, -EPROTO, "QEMU answered a command not sent yet");
		qmp_error_desc(line, desc, sizeof(desc));
		if (s->step == QMP_STEP_MAP_ID)
			return fail(s, -EPROTO, "QEMU cannot say which BPF map memory-backend-bpf "
				    "'%s' maps (%s); is it built from qemu-patches/?",
				    s->backends[s->nr_backends], desc);
		return fail(s, -EPROTO, "%s failed: %s", step_cmd(s->step), desc);
	case QMP_LINE_RETURN:
		if (s->step == QMP_STEP_GREETING)
			return fail(s, -EPROTO, "QEMU answered before greeting");
		/* One command in flight: a reply before it went out is not its reply. */
		if (s->cmd_len)
			return fail(s, -EPROTO, "QEMU answered a command not sent yet");
		return on_reply(s, line);
	case QMP_LINE_OTHER:
		break;
	}
	return fail(s, -EPROTO, "QEMU sent an unexpected line (during %s)", step_cmd(s->step));
}

int qmp_session_input(struct qmp_session *s, const char *data, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r;

		if (s->step == QMP_STEP_DONE)
			return 1;
		if (s->step == QMP_STEP_FAILED)
			return -EPROTO;
		if (data[i] != '\n') {
			if (s->len + 1 >= QMP_LINE_MAX)
				return fail(s, -EMSGSIZE, "QEMU sent a line longer than %d bytes",
					    QMP_LINE_MAX - 1);
			s->line[s->len++] = data[i];
			continue;
		}
		s->line[s->len] = '\0';
		s->len = 0;
		r = on_line(s, s->line);
		if (r)
			return r;
	}
	return s->step == QMP_STEP_DONE ? 1 : s->step == QMP_STEP_FAILED ? -EPROTO : 0;
}
