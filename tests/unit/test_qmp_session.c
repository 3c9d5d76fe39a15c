// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for pvlockd's attach exchange with QEMU (host/qmp_session.c),
 * driven as a QEMU would: whole lines, one byte at a time, events between
 * and inside replies, truncated and oversized lines, errors, garbage.
 * Every command the session sends is checked against what it must ask.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "qmp_session.h"

#define GREETING "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 2, \"minor\": 0, " \
	"\"major\": 10}}, \"capabilities\": [\"oob\"]}}\n"
#define OK	"{\"return\": {}}\n"
#define CPUS	"{\"return\": [{\"thread-id\": 501, \"props\": {\"thread-id\": 1}, " \
	"\"cpu-index\": 1}, {\"cpu-index\": 0, \"thread-id\": 500}]}\n"
#define OBJECTS	"{\"return\": [{\"name\": \"type\", \"type\": \"string\"}, {\"name\": " \
	"\"pvlipage\", \"type\": \"child<memory-backend-bpf>\"}, {\"name\": \"ram0\", " \
	"\"type\": \"child<memory-backend-ram>\"}]}\n"
#define MAP_ID	"{\"return\": 77}\n"
#define EVENT	"{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": " \
	"\"RESUME\", \"data\": {\"return\": [1]}}\n"

static const char *const want_cmds[] = {
	"{\"execute\":\"qmp_capabilities\"}\n",
	"{\"execute\":\"query-cpus-fast\"}\n",
	"{\"execute\":\"qom-list\",\"arguments\":{\"path\":\"/objects\"}}\n",
	"{\"execute\":\"qom-get\",\"arguments\":{\"path\":\"/objects/pvlipage\","
	"\"property\":\"map-id\"}}\n",
};

static struct qmp_session s;
static int sent;

static int setup(void **state)
{
	(void)state;
	sent = 0;
	return qmp_session_init(&s);
}

static int teardown(void **state)
{
	(void)state;
	qmp_session_free(&s);
	return 0;
}

/* Feed @text in pieces of @chunk bytes, checking each command it sends. */
static int feed(const char *text, size_t chunk)
{
	size_t n = strlen(text);
	int r = 0;

	for (size_t off = 0; off < n; off += chunk) {
		r = qmp_session_input(&s, text + off, off + chunk > n ? n - off : chunk);
		if (s.cmd_len) {
			assert_true(sent < 4);
			assert_int_equal(s.cmd_len, strlen(want_cmds[sent]));
			assert_string_equal(s.cmd, want_cmds[sent]);
			sent++;
			s.cmd_len = 0;
		}
		if (r)
			break;
	}
	return r;
}

static void expect_done(void)
{
	assert_int_equal(s.step, QMP_STEP_DONE);
	assert_int_equal(s.nr_vcpus, 2);
	assert_int_equal(s.tids[0], 500);
	assert_int_equal(s.tids[1], 501);
	assert_int_equal(s.nr_backends, 1);
	assert_string_equal(s.backends[0], "pvlipage");
	assert_int_equal(s.map_ids[0], 77);
	assert_int_equal(sent, 4);
}

static void whole_lines(void **state)
{
	(void)state;
	assert_int_equal(feed(GREETING, strlen(GREETING)), 0);
	assert_int_equal(feed(OK, strlen(OK)), 0);
	assert_int_equal(feed(CPUS, strlen(CPUS)), 0);
	assert_int_equal(feed(OBJECTS, strlen(OBJECTS)), 0);
	assert_int_equal(feed(MAP_ID, strlen(MAP_ID)), 1);
	expect_done();
}

/* One byte at a time, with events before and between every line. */
static void bytes_and_events(void **state)
{
	(void)state;
	assert_int_equal(feed(EVENT GREETING EVENT EVENT, 1), 0);
	assert_int_equal(feed(EVENT OK EVENT, 1), 0);
	assert_int_equal(feed(CPUS EVENT, 1), 0);
	assert_int_equal(feed(OBJECTS, 1), 0);
	assert_int_equal(feed(EVENT MAP_ID EVENT, 1), 1);
	expect_done();
	assert_int_equal(s.events, 7);
}

/* A reply cut anywhere waits for the rest; it is not misread early. */
static void truncated_waits(void **state)
{
	(void)state;
	assert_int_equal(feed(GREETING, strlen(GREETING)), 0);
	assert_int_equal(feed(OK, strlen(OK)), 0);
	assert_int_equal(qmp_session_input(&s, CPUS, strlen(CPUS) - 1), 0);
	assert_int_equal(s.step, QMP_STEP_CPUS);
	assert_int_equal(feed("\n", 1), 0);
	assert_int_equal(s.step, QMP_STEP_OBJECTS);
}

/* No memory-backend-bpf object: done after qom-list, no map ids. */
static void no_backend(void **state)
{
	(void)state;
	assert_int_equal(feed(GREETING OK CPUS "{\"return\": []}\n", 7), 1);
	assert_int_equal(s.nr_backends, 0);
	assert_int_equal(s.nr_vcpus, 2);
	assert_int_equal(sent, 3);
}

/* Each way QEMU can break the exchange fails it with a reason. */
static void failures(void **state)
{
	static const struct {
		const char *text, *why;
		int err;
	} bad[] = {
		{ OK, "answered before greeting", -EPROTO },
		{ GREETING GREETING, "greeted twice", -EPROTO },
		{ "not json\n", "not a JSON object", -EPROTO },
		{ GREETING "{\"return\": {}\n", "not a JSON object (during qmp_capabilities)", -EPROTO },
		{ GREETING "{\"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}}\n",
		  "qmp_capabilities failed: no", -EPROTO },
		{ GREETING OK "{\"return\": [{\"cpu-index\": 0}]}\n",
		  "unexpected query-cpus-fast reply", -EPROTO },
		{ GREETING OK CPUS "{\"return\": [{\"name\": \"a b\", \"type\": "
		  "\"child<memory-backend-bpf>\"}]}\n", "unexpected QOM object name", -EPROTO },
		{ GREETING OK CPUS OBJECTS "{\"error\": {\"class\": \"GenericError\", \"desc\": "
		  "\"Property 'map-id' not found\"}}\n",
		  "cannot say which BPF map memory-backend-bpf 'pvlipage' maps "
		  "(Property 'map-id' not found)", -EPROTO },
		{ GREETING OK CPUS OBJECTS "{\"return\": 0}\n", "unexpected map-id", -EPROTO },
		{ GREETING OK CPUS OBJECTS "{\"return\": \"77\"}\n", "unexpected map-id", -EPROTO },
		{ GREETING "{\"id\": 3}\n", "unexpected line (during qmp_capabilities)", -EPROTO },
	};
	/* Replies to commands not sent yet (in the same read as the greeting). */
	static const char early[] = GREETING OK;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		qmp_session_free(&s);
		assert_int_equal(qmp_session_init(&s), 0);
		sent = 0;
		if (feed(bad[i].text, 3) != bad[i].err || !strstr(s.err, bad[i].why))
			fail_msg("case %zu: step %d, err '%s', want '%s'", i, s.step, s.err,
				 bad[i].why);
		assert_int_equal(s.step, QMP_STEP_FAILED);
		/* Once failed, it stays failed. */
		assert_int_equal(qmp_session_input(&s, OK, strlen(OK)), -EPROTO);
	}
	qmp_session_free(&s);
	assert_int_equal(qmp_session_init(&s), 0);
	assert_int_equal(qmp_session_input(&s, early, strlen(early)), -EPROTO);
	assert_non_null(strstr(s.err, "answered a command not sent yet"));
}

/* A line of QMP_LINE_MAX bytes or more fails, however it is split. */
static void oversized_line(void **state)
{
	size_t n = QMP_LINE_MAX + 10;
	char *big = malloc(n + 1);
	int r = 0;

	(void)state;
	assert_non_null(big);
	memset(big, ' ', n);
	big[n] = '\0';
	for (size_t off = 0; off < n && !r; off += 4096)
		r = qmp_session_input(&s, big + off, off + 4096 > n ? n - off : 4096);
	assert_int_equal(r, -EMSGSIZE);
	assert_non_null(strstr(s.err, "longer than"));
	free(big);
}

/* More memory-backend-bpf objects than it asks about: refused. */
static void too_many_backends(void **state)
{
	char objs[2048];
	size_t len = snprintf(objs, sizeof(objs), "{\"return\": [");

	(void)state;
	for (int i = 0; i <= QMP_MAX_BACKENDS; i++)
		len += snprintf(objs + len, sizeof(objs) - len, "%s{\"name\": \"b%d\", \"type\": "
				"\"child<memory-backend-bpf>\"}", i ? ", " : "", i);
	snprintf(objs + len, sizeof(objs) - len, "]}\n");
	assert_int_equal(feed(GREETING OK CPUS, 50), 0);
	assert_int_equal(qmp_session_input(&s, objs, strlen(objs)), -E2BIG);
}

/* Two backends: a map id for each, in order. */
static void two_backends(void **state)
{
	(void)state;
	assert_int_equal(feed(GREETING OK CPUS, 50), 0);
	assert_int_equal(feed("{\"return\": [{\"name\": \"pvlipage\", \"type\": "
		"\"child<memory-backend-bpf>\"}, {\"name\": \"x\", \"type\": "
		"\"child<memory-backend-bpf>\"}]}\n", 500), 0);
	assert_int_equal(sent, 4);
	assert_int_equal(qmp_session_input(&s, MAP_ID, strlen(MAP_ID)), 0);
	assert_non_null(strstr(s.cmd, "/objects/x\""));
	s.cmd_len = 0;
	assert_int_equal(qmp_session_input(&s, "{\"return\": 78}\n", 15), 1);
	assert_int_equal(s.nr_backends, 2);
	assert_int_equal(s.map_ids[0], 77);
	assert_int_equal(s.map_ids[1], 78);
	/* Whatever QEMU sends after that is not read. */
	assert_int_equal(qmp_session_input(&s, "garbage\n", 8), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(whole_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(bytes_and_events, setup, teardown),
		cmocka_unit_test_setup_teardown(truncated_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(no_backend, setup, teardown),
		cmocka_unit_test_setup_teardown(failures, setup, teardown),
		cmocka_unit_test_setup_teardown(oversized_line, setup, teardown),
		cmocka_unit_test_setup_teardown(too_many_backends, setup, teardown),
		cmocka_unit_test_setup_teardown(two_backends, setup, teardown),
	};

	return cmocka_run_group_tests_name("qmp_session", tests, NULL, NULL);
}
