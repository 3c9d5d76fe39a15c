// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the NAME.meta record (host/vm_meta.c) through its stream
 * functions: the text a restarted pvlockd and pvlockstat read back, and
 * the records they must refuse rather than act on (a slot or vCPU count
 * out of range would index pvlockd's tables).
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

#include "vm_meta.h"

/* The text vm_meta_write() makes of @m. */
static char *written(const struct vm_meta *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	vm_meta_write(f, m);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* vm_meta_read() of @text into @m (zeroed first, as vm_meta_load() does). */
static int read_text(const char *text, struct vm_meta *m)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int r;

	assert_non_null(f);
	memset(m, 0, sizeof(*m));
	r = vm_meta_read(f, m);
	fclose(f);
	return r;
}

static void format(void **state)
{
	struct vm_meta m = {
		.name = "web", .slot = 3, .nr_vcpus = 2, .accel = PVLI_ACCEL_TCG,
		.qmp_path = "/run/pvlockinfo/web/pvlockd-qmp.sock", .tids = { 4101, 4102 },
	};
	char *text = written(&m);

	(void)state;
	assert_string_equal(text, "slot 3\nvcpus 2\naccel 1\n"
			    "qmp /run/pvlockinfo/web/pvlockd-qmp.sock\ntids 4101 4102\n"
			    "qemu 0 0\nopts 0\n");
	free(text);

	/* Registered, not attached yet. */
	memset(&m, 0, sizeof(m));
	m.slot = 0;
	m.nr_vcpus = 1;
	m.accel = PVLI_ACCEL_KVM;
	text = written(&m);
	assert_string_equal(text, "slot 0\nvcpus 1\naccel 2\nqmp -\ntids 0\nqemu 0 0\nopts 0\n");
	free(text);
}

static void round_trip(void **state)
{
	struct vm_meta m = { .slot = PVLI_MAX_VMS - 1, .nr_vcpus = PVLI_MAX_VCPUS_PER_VM,
			     .accel = PVLI_ACCEL_TCG, .qmp_path = "/q.sock", .qemu_pid = 4100,
			     .qemu_start = 123456789012ULL, .opts = PVLI_VM_OPTS_ALL }, back;
	char *text;

	(void)state;
	for (uint32_t i = 0; i < m.nr_vcpus; i++)
		m.tids[i] = 100000 + i;
	text = written(&m);
	assert_int_equal(read_text(text, &back), 0);
	free(text);
	assert_int_equal(back.slot, m.slot);
	assert_int_equal(back.nr_vcpus, m.nr_vcpus);
	assert_int_equal(back.accel, m.accel);
	assert_string_equal(back.qmp_path, m.qmp_path);
	assert_memory_equal(back.tids, m.tids, sizeof(m.tids));
	assert_int_equal(back.qemu_pid, m.qemu_pid);
	assert_int_equal(back.qemu_start, m.qemu_start);
	assert_int_equal(back.opts, m.opts);
}

/* A record from before the qemu and opts lines: QEMU unknown, no options. */
static void older_record(void **state)
{
	struct vm_meta m;

	(void)state;
	assert_int_equal(read_text("slot 1\nvcpus 2\naccel 1\nqmp /q\ntids 7 8\n", &m), 0);
	assert_int_equal(m.tids[1], 8);
	assert_int_equal(m.qemu_pid, 0);
	assert_int_equal(m.qemu_start, 0);
	assert_int_equal(m.opts, 0);
	/* Attaching: the QMP path saved, no threads yet. */
	assert_int_equal(read_text("slot 1\nvcpus 2\naccel 1\nqmp /q\ntids 0 0\nqemu 0 0\n"
				   "opts 1\n", &m), 0);
	assert_string_equal(m.qmp_path, "/q");
	assert_int_equal(m.tids[0], 0);
	assert_int_equal(m.opts, PVLI_VM_PCPU);
}

static void not_attached(void **state)
{
	struct vm_meta m;

	(void)state;
	assert_int_equal(read_text("slot 5\nvcpus 2\naccel 1\nqmp -\ntids 0 0\n", &m), 0);
	assert_string_equal(m.qmp_path, "");
	assert_int_equal(m.tids[0], 0);
	assert_int_equal(m.tids[1], 0);
	/* A record without thread IDs reads as never attached. */
	assert_int_equal(read_text("slot 5\nvcpus 2\naccel 1\nqmp -\ntids\n", &m), 0);
	assert_int_equal(m.tids[0], 0);
	assert_int_equal(m.tids[1], 0);
}

static void refused(void **state)
{
	static const char *const bad[] = {
		"",
		"slot 64\nvcpus 1\naccel 1\nqmp -\ntids 1\n",	/* PVLI_MAX_VMS */
		"slot 0\nvcpus 0\naccel 1\nqmp -\ntids\n",
		"slot 0\nvcpus 65\naccel 1\nqmp -\ntids 1\n",	/* PVLI_MAX_VCPUS_PER_VM + 1 */
		"slot 0\nvcpus 1\naccel 1\n",			/* cut short */
		"slot x\nvcpus 1\naccel 1\nqmp -\ntids 1\n",
		"vcpus 1\nslot 0\naccel 1\nqmp -\ntids 1\n",	/* keys out of order */
		"slot 0\nvcpus 1\naccel 1\nqmp -\ntids 1\nqemu -5 0\n",
		"slot 0\nvcpus 1\naccel 1\nqmp -\ntids 1\nqemu 5 0\nopts 4\n",	/* unknown option */
	};
	struct vm_meta m;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (read_text(bad[i], &m) != -EINVAL)
			fail_msg("record %zu not refused: %s", i, bad[i]);
}

static void accel_names(void **state)
{
	uint32_t a = 77;

	(void)state;
	assert_int_equal(accel_parse("tcg", &a), 0);
	assert_int_equal(a, PVLI_ACCEL_TCG);
	assert_int_equal(accel_parse("kvm", &a), 0);
	assert_int_equal(a, PVLI_ACCEL_KVM);
	assert_int_equal(accel_parse("xen", &a), -EINVAL);
	assert_int_equal(accel_parse("", &a), -EINVAL);
	assert_int_equal(a, PVLI_ACCEL_KVM);	/* untouched on failure */
	assert_string_equal(accel_name(PVLI_ACCEL_TCG), "tcg");
	assert_string_equal(accel_name(PVLI_ACCEL_KVM), "kvm");
	assert_string_equal(accel_name(PVLI_ACCEL_UNKNOWN), "unknown");
	assert_string_equal(accel_name(99), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(format),
		cmocka_unit_test(round_trip),
		cmocka_unit_test(not_attached),
		cmocka_unit_test(older_record),
		cmocka_unit_test(refused),
		cmocka_unit_test(accel_names),
	};

	return cmocka_run_group_tests_name("vm_meta", tests, NULL, NULL);
}
