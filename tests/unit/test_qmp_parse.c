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
#include <cmocka.h>

#include "qmp_parse.h"

#define MAX	8

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
	assert_int_equal(qmp_line_kind(""), QMP_LINE_OTHER);
	assert_int_equal(qmp_line_kind("{\"QMP\": {\"version\": {}, \"capabilities\": []}}"),
			 QMP_LINE_OTHER);
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
		/* props first: its topology thread-id is found first; refused, not misread */
		"{\"return\": [{\"cpu-index\": 0, \"props\": {\"thread-id\": 0}, \"thread-id\": 10}]}",
	};
	uint32_t tids[MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (qmp_parse_cpus_fast(bad[i], tids, MAX) != -EINVAL)
			fail_msg("reply %zu not refused: %s", i, bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(line_kinds),
		cmocka_unit_test(greeting),
		cmocka_unit_test(cpus_fast),
		cmocka_unit_test(cpus_fast_any_order),
		cmocka_unit_test(cpus_fast_refused),
	};

	return cmocka_run_group_tests_name("qmp_parse", tests, NULL, NULL);
}
