// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for pvlockd's QMP reply reading (host/qmp_parse.c): which
 * lines are events, returns and errors, and query-cpus-fast's vCPU
 * thread IDs, which pvlockd registers as the VM's vCPUs: a wrong one would
 * make the BPF program write another thread's state into the page.
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

#include "qmp_parse.h"

#define MAX	8

/* One vCPU object as printf format: cpu-index, thread-id, topology thread-id. */
#define CPU_FMT "{\"cpu-index\": %d, \"thread-id\": %d, \"props\": {\"thread-id\": %d}}"

/*
 * QEMU's own order (QAPI CpuInfoFast): cpu-index, qom-path, thread-id,
 * then props, whose topology "thread-id" is not the host thread's.
 */
#define CPU(idx, tid, topo) \
	"{\"cpu-index\": " #idx ", \"qom-path\": \"/machine/unattached/device[" #idx "]\", " \
	"\"thread-id\": " #tid ", \"props\": {\"core-id\": " #idx ", \"thread-id\": " #topo \
	", \"node-id\": 0, \"socket-id\": 0}, \"target\": \"x86_64\"}"

static void line_kinds(void **state)
{
	(void)state;
	assert_int_equal(qmp_line_kind("{\"return\": {}}"), QMP_LINE_RETURN);
	assert_int_equal(qmp_line_kind("{\"error\": {\"class\": \"GenericError\", "
				       "\"desc\": \"x\"}}"), QMP_LINE_ERROR);
	assert_int_equal(qmp_line_kind("{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, "
				       "\"event\": \"RESUME\"}"), QMP_LINE_EVENT);
	/* An event whose data says "return" or "error" is still an event. */
	assert_int_equal(qmp_line_kind("{\"event\": \"X\", \"data\": {\"return\": 1, "
				       "\"error\": 2}}"), QMP_LINE_EVENT);
	assert_int_equal(qmp_line_kind("{\"id\": 1}"), QMP_LINE_OTHER);
	assert_int_equal(qmp_line_kind(""), QMP_LINE_INVALID);
	assert_int_equal(qmp_line_kind("{\"QMP\": {\"version\": {}, \"capabilities\": []}}"),
			 QMP_LINE_GREETING);
}

static void greeting(void **state)
{
	(void)state;
	assert_true(qmp_is_greeting("{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 2, "
				    "\"minor\": 0, \"major\": 10}}, \"capabilities\": [\"oob\"]}}"));
	assert_false(qmp_is_greeting("{\"return\": {}}"));
	assert_false(qmp_is_greeting("qmp"));
}

/* @reply must parse to the @n thread IDs @want, and zeros after them. */
static void expect_tids(const char *reply, const uint32_t *want, int n)
{
	uint32_t tids[MAX];

	assert_int_equal(qmp_parse_cpus_fast(reply, tids, MAX), n);
	for (int i = 0; i < MAX; i++)
		assert_int_equal(tids[i], i < n ? want[i] : 0);
}

static void cpus_fast(void **state)
{
	static const uint32_t want[] = { 4101, 4102, 4103, 4104 };

	(void)state;
	expect_tids("{\"return\": [" CPU(0, 4101, 0) ", " CPU(1, 4102, 0) ", "
		    CPU(2, 4103, 0) ", " CPU(3, 4104, 0) "]}", want, 4);
}

/*
 * vCPUs out of order, a topology thread-id that is not 0, a vCPU without
 * props, and one whose cpu-index comes after its props.
 */
static void cpus_fast_any_order(void **state)
{
	static const uint32_t want[] = { 76, 77, 78 };

	(void)state;
	expect_tids("{\"return\": [" CPU(1, 77, 1) ", "
		    "{\"cpu-index\": 0, \"thread-id\": 76, \"target\": \"x86_64\"}, "
		    "{\"thread-id\": 78, \"props\": {\"core-id\": 2}, \"cpu-index\": 2}]}",
		    want, 3);
}

static void cpus_fast_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"x\"}}",
		"{\"return\": []}",
		"{\"return\": [" CPU(0, 10, 0) ", " CPU(2, 12, 0) "]}",	/* a gap */
		"{\"return\": [" CPU(0, 10, 0) ", " CPU(0, 11, 0) "]}",	/* twice */
		"{\"return\": [" CPU(8, 10, 0) "]}",			/* index >= max */
		"{\"return\": [" CPU(-1, 10, 0) "]}",
		"{\"return\": [" CPU(0, 0, 0) "]}",			/* tid 0 */
		"{\"return\": [" CPU(0, -5, 0) "]}",
		"{\"return\": [" CPU(0, 4294967296, 0) "]}",		/* above u32 */
		"{\"return\": [{\"cpu-index\": 0, \"target\": \"x86_64\"}]}",
		"{\"return\": [{\"thread-id\": 10}]}",
		"{\"return\": [{\"cpu-index\": 0, \"thread-id\": 10",	/* cut short */
		"{\"return\": [{\"cpu-index\": 0, \"thread-id\": 10}]",	/* cut short */
		"{\"return\": [{\"cpu-index\": 0, \"thread-id\": 10.5}]}",
		"{\"return\": [{\"cpu-index\": 0, \"thread-id\": \"10\"}]}",
		"{\"return\": [{\"cpu-index\": 0, \"thread-id\": 10, \"thread-id\": 11}]}",
		"{\"return\": [" CPU(0, 10, 0) ", 5]}",		/* not a vCPU object */
		"{\"return\": {\"cpu-index\": 0, \"thread-id\": 10}}",
		"{\"event\": \"X\", \"data\": {\"return\": [" CPU(0, 10, 0) "]}}",
	};
	uint32_t tids[MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (qmp_parse_cpus_fast(bad[i], tids, MAX) != -EINVAL)
			fail_msg("reply %zu not refused: %s", i, bad[i]);
}

/*
 * thread-id is read from the vCPU object itself, wherever it stands: the
 * topology thread-id in props is not a host thread, and one that is not 0
 * must not be registered (thread 1 is init).
 */
static void cpus_fast_member_order(void **state)
{
	static const uint32_t want[] = { 10, 11 };

	(void)state;
	expect_tids("{\"return\": [{\"cpu-index\": 0, \"props\": {\"thread-id\": 1, "
		    "\"core-id\": 0}, \"thread-id\": 10}, {\"props\": {\"thread-id\": 1}, "
		    "\"thread-id\": 11, \"cpu-index\": 1}]}", want, 2);
}

/* Strings may hold braces, quotes and key names: they are data, not structure. */
static void cpus_fast_strings(void **state)
{
	static const uint32_t want[] = { 20 };

	(void)state;
	expect_tids("{\"return\": [{\"qom-path\": \"}{\\\"thread-id\\\": 1}\", "
		    "\"cpu-index\": 0, \"target\": \"x\\u0041\", \"thread-id\": 20}]}", want, 1);
	expect_tids("{\"return\": [{\"x\": [1, {\"thread-id\": 2}, \"]\"], \"cpu-index\": 0, "
		    "\"thread-id\": 20, \"y\": null, \"z\": true, \"w\": -1.5e3}]}", want, 1);
}

/* The line's kind is its top-level member, never a word inside a value. */
static void line_kinds_by_member(void **state)
{
	(void)state;
	assert_int_equal(qmp_line_kind("{\"return\": \"\\\"event\\\"\"}"), QMP_LINE_RETURN);
	assert_int_equal(qmp_line_kind("{\"return\": [{\"name\": \"x\", \"event\": 1}]}"),
			 QMP_LINE_RETURN);
	assert_int_equal(qmp_line_kind("{\"return\": {\"desc\": \"\\\"event\\\": 1\"}}"),
			 QMP_LINE_RETURN);
	assert_int_equal(qmp_line_kind("{\"error\": {\"class\": \"GenericError\", \"desc\": "
				       "\"\\\"return\\\"\"}}"), QMP_LINE_ERROR);
	assert_int_equal(qmp_line_kind("{\"data\": {\"QMP\": 1}, \"event\": \"X\"}"),
			 QMP_LINE_EVENT);
	assert_false(qmp_is_greeting("{\"return\": \"\\\"QMP\\\"\"}"));
}

/* Anything that is not one whole JSON object is refused, not skipped. */
static void line_kinds_malformed(void **state)
{
	static const char *const bad[] = {
		"{", "}", "[]", "{\"return\": }", "{\"return\": {}", "{\"return\": {}} x",
		"{\"return\" {}}", "{return: {}}", "{\"return\": \"abc}", "{\"return\": [1,]}",
		"{\"return\": 01}", "{\"return\": 1.}", "{\"return\": tru}", "\"event\"",
		"{\"event\": \"X\", }", "{\"return\": \"\\x\"}", "{\"return\": [1 2]}",
		"{\"return\": [,]}", "{, \"return\": 1}", "{\"return\": {\"a\": 1 \"b\": 2}}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (qmp_line_kind(bad[i]) != QMP_LINE_INVALID)
			fail_msg("line %zu not refused: %s", i, bad[i]);
}

/* Nesting deeper than any QMP reply has is refused without recursing. */
static void nesting_bounded(void **state)
{
	size_t n = 100000;
	char *line = malloc(2 * n + 16);

	(void)state;
	assert_non_null(line);
	strcpy(line, "{\"return\": ");
	memset(line + strlen(line), '[', n);
	line[11 + n] = '\0';
	assert_int_equal(qmp_line_kind(line), QMP_LINE_INVALID);
	assert_int_equal(qmp_parse_cpus_fast(line, (uint32_t[MAX]){ 0 }, MAX), -EINVAL);
	free(line);
}

/* A huge reply: more vCPUs than @max, or a 1 MiB string, is handled in bounds. */
static void cpus_fast_huge(void **state)
{
	size_t cap = 2 << 20, len;
	char *line = malloc(cap);
	uint32_t tids[MAX];

	(void)state;
	assert_non_null(line);
	len = snprintf(line, cap, "{\"return\": [");
	for (int i = 0; i < 100; i++)
		len += snprintf(line + len, cap - len, "%s" CPU_FMT, i ? ", " : "", i, 1000 + i, 0);
	snprintf(line + len, cap - len, "]}");
	assert_int_equal(qmp_parse_cpus_fast(line, tids, MAX), -EINVAL);

	len = snprintf(line, cap, "{\"return\": [{\"cpu-index\": 0, \"thread-id\": 7, \"s\": \"");
	memset(line + len, 'a', 1 << 20);
	snprintf(line + len + (1 << 20), cap - len - (1 << 20), "\"}]}");
	assert_int_equal(qmp_parse_cpus_fast(line, tids, MAX), 1);
	assert_int_equal(tids[0], 7);
	free(line);
}

/* qom-list /objects: the memory-backend-bpf children, whatever else is there. */
static void qom_children(void **state)
{
	char names[2][QMP_NAME_MAX];
	char long_name[QMP_NAME_MAX + 64];

	(void)state;
	assert_int_equal(qmp_parse_qom_children("{\"return\": [{\"name\": \"type\", \"type\": "
		"\"string\"}, {\"name\": \"pvlipage\", \"type\": \"child<memory-backend-bpf>\"}, "
		"{\"type\": \"child<memory-backend-bpf>\", \"name\": \"b\"}, {\"name\": \"ram\", "
		"\"type\": \"child<memory-backend-ram>\"}]}", "child<memory-backend-bpf>", names, 2), 2);
	assert_string_equal(names[0], "pvlipage");
	assert_string_equal(names[1], "b");
	assert_int_equal(qmp_parse_qom_children("{\"return\": []}", "child<x>", names, 2), 0);
	/* More than fit, or a name that does not fit: refused, never cut. */
	assert_int_equal(qmp_parse_qom_children("{\"return\": [{\"name\": \"a\", \"type\": \"t\"}, "
		"{\"name\": \"b\", \"type\": \"t\"}, {\"name\": \"c\", \"type\": \"t\"}]}", "t",
		names, 2), -E2BIG);
	memset(long_name, 'n', sizeof(long_name));
	snprintf(long_name, sizeof(long_name), "{\"return\": [{\"name\": \"%0*d\", \"type\": \"t\"}]}",
		 QMP_NAME_MAX, 0);
	assert_int_equal(qmp_parse_qom_children(long_name, "t", names, 2), -E2BIG);
	assert_int_equal(qmp_parse_qom_children("{\"return\": {}}", "t", names, 2), -EINVAL);
	assert_int_equal(qmp_parse_qom_children("{\"error\": {}}", "t", names, 2), -EINVAL);
}

static void return_uint(void **state)
{
	uint64_t v = 1;

	(void)state;
	assert_int_equal(qmp_parse_return_uint("{\"return\": 4242}", &v), 0);
	assert_int_equal(v, 4242);
	assert_int_equal(qmp_parse_return_uint("{\"return\": -1}", &v), -EINVAL);
	assert_int_equal(qmp_parse_return_uint("{\"return\": \"5\"}", &v), -EINVAL);
	assert_int_equal(qmp_parse_return_uint("{\"return\": 1e3}", &v), -EINVAL);
	assert_int_equal(qmp_parse_return_uint("{\"return\": 99999999999999999999}", &v), -EINVAL);
	assert_int_equal(v, 4242);
}

static void error_desc(void **state)
{
	char buf[32];

	(void)state;
	qmp_error_desc("{\"error\": {\"class\": \"GenericError\", \"desc\": \"Property 'map-id' "
		       "not found\"}}", buf, sizeof(buf));
	assert_string_equal(buf, "Property 'map-id' not found");
	qmp_error_desc("{\"error\": {\"desc\": \"a\\nb\\u0007\"}}", buf, sizeof(buf));
	assert_string_equal(buf, "a?b?");
	qmp_error_desc("{\"error\": 1}", buf, sizeof(buf));
	assert_string_equal(buf, "no reason given");
	qmp_error_desc("{\"error\": {\"desc\": \"" "0123456789012345678901234567890123456789\"}}",
		       buf, 8);
	assert_string_equal(buf, "0123456");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(line_kinds),
		cmocka_unit_test(greeting),
		cmocka_unit_test(cpus_fast),
		cmocka_unit_test(cpus_fast_any_order),
		cmocka_unit_test(cpus_fast_refused),
		cmocka_unit_test(cpus_fast_member_order),
		cmocka_unit_test(cpus_fast_strings),
		cmocka_unit_test(line_kinds_by_member),
		cmocka_unit_test(line_kinds_malformed),
		cmocka_unit_test(nesting_bounded),
		cmocka_unit_test(cpus_fast_huge),
		cmocka_unit_test(qom_children),
		cmocka_unit_test(return_uint),
		cmocka_unit_test(error_desc),
	};

	return cmocka_run_group_tests_name("qmp_parse", tests, NULL, NULL);
}
