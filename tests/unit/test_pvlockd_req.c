// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for pvlockd's control-request parser (host/pvlockd_req.c):
 * the words it splits, the requests it accepts, and the reasons it gives
 * for the ones it refuses (pvlockctl prints them as they are).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "pvlockd_proto.h"
#include "pvlockd_req.h"
#include "vm_meta.h"

#define USAGE_REGISTER	"usage: register NAME NVCPUS(1-64) tcg|kvm [pcpu] [quota-ancestors]"

/* The last request parse() parsed, and its error message. */
static struct pvlockd_req req;
static char err[256];

/* Parse @text (copied: the parser writes into its line); 0 or -errno. */
static int parse(const char *text)
{
	static char line[PVLOCKD_REQUEST_MAX];

	snprintf(line, sizeof(line), "%s", text);
	err[0] = '\0';
	return pvlockd_req_parse(line, &req, err, sizeof(err));
}

static void register_ok(void **state)
{
	(void)state;
	assert_int_equal(parse("register vm-1 4 tcg\n"), 0);
	assert_int_equal(req.op, PVLOCKD_REQ_REGISTER);
	assert_string_equal(req.name, "vm-1");
	assert_int_equal(req.nr_vcpus, 4);
	assert_int_equal(req.accel, PVLI_ACCEL_TCG);

	assert_int_equal(parse("register\tA-b_c 64\tkvm\r\n"), 0);
	assert_string_equal(req.name, "A-b_c");
	assert_int_equal(req.nr_vcpus, PVLI_MAX_VCPUS_PER_VM);
	assert_int_equal(req.accel, PVLI_ACCEL_KVM);
}

/* What a VM may be told besides its own vCPUs' states is asked for here. */
static void register_options(void **state)
{
	(void)state;
	assert_int_equal(parse("register vm 2 tcg\n"), 0);
	assert_int_equal(req.opts, 0);
	assert_int_equal(parse("register vm 2 tcg pcpu\n"), 0);
	assert_int_equal(req.opts, PVLI_VM_PCPU);
	assert_int_equal(parse("register vm 2 kvm quota-ancestors pcpu"), 0);
	assert_int_equal(req.opts, PVLI_VM_PCPU | PVLI_VM_QUOTA_ANCESTORS);
	assert_int_equal(req.accel, PVLI_ACCEL_KVM);
}

static void register_name_length(void **state)
{
	char text[PVLOCKD_NAME_MAX + 32], name[PVLOCKD_NAME_MAX + 2];

	(void)state;
	memset(name, 'n', PVLOCKD_NAME_MAX);
	name[PVLOCKD_NAME_MAX] = '\0';
	snprintf(text, sizeof(text), "register %s 1 tcg", name);
	assert_int_equal(parse(text), 0);
	assert_int_equal(strlen(req.name), PVLOCKD_NAME_MAX);

	strcat(name, "n");
	snprintf(text, sizeof(text), "register %s 1 tcg", name);
	assert_int_equal(parse(text), -EINVAL);
	assert_string_equal(err, USAGE_REGISTER);
}

static void register_refused(void **state)
{
	static const char *const bad[] = {
		"register",
		"register vm",
		"register vm 4",
		"register vm 0 tcg",
		"register vm 65 tcg",
		"register vm -1 tcg",
		"register vm 4x tcg",
		"register vm 4 xen",
		"register vm 4 TCG",
		"register ../../etc 4 tcg",
		"register .hidden 4 tcg",
		"register a/b 4 tcg",
		"register sp\xc3\xa4" "ce 4 tcg",
		"register vm 4 tcg cpu",
		"register vm 4 tcg pcpu pcpu",
		"register vm 4 tcg pcpu quota-ancestors extra",
		"register vm 4 tcg PCPU",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i]), -EINVAL);
		assert_int_equal(req.op, PVLOCKD_REQ_REGISTER);
		assert_string_equal(err, USAGE_REGISTER);
	}
}

/* Whether the VM exists is not the parser's business: it passes names on. */
static void attach_and_unregister(void **state)
{
	(void)state;
	assert_int_equal(parse("attach vm /run/x/pvlockd-qmp.sock\n"), 0);
	assert_int_equal(req.op, PVLOCKD_REQ_ATTACH);
	assert_string_equal(req.name, "vm");
	assert_string_equal(req.qmp, "/run/x/pvlockd-qmp.sock");

	assert_int_equal(parse("attach vm"), 0);
	assert_string_equal(req.name, "vm");
	assert_null(req.qmp);
	assert_int_equal(parse("attach"), 0);
	assert_null(req.name);

	assert_int_equal(parse("unregister vm\n"), 0);
	assert_int_equal(req.op, PVLOCKD_REQ_UNREGISTER);
	assert_string_equal(req.name, "vm");
	assert_int_equal(parse("unregister"), 0);
	assert_null(req.name);
}

static void status(void **state)
{
	(void)state;
	assert_int_equal(parse("status\n"), 0);
	assert_int_equal(req.op, PVLOCKD_REQ_STATUS);
	assert_false(req.json);
	assert_int_equal(parse("status json\n"), 0);
	assert_true(req.json);
	assert_int_equal(parse("status JSON"), 0);
	assert_false(req.json);
	/* Words past the fourth are ignored. */
	assert_int_equal(parse("status json a b c d"), 0);
	assert_true(req.json);
}

static void words_for_the_log(void **state)
{
	(void)state;
	assert_int_equal(parse("  attach\t vm  sock extra more\n"), 0);
	assert_string_equal(req.word[0], "attach");
	assert_string_equal(req.word[1], "vm");
	assert_string_equal(req.word[2], "sock");
	assert_string_equal(req.word[3], "extra");

	/* Even a refused request has its words. */
	assert_int_equal(parse("frobnicate x"), -EINVAL);
	assert_string_equal(req.word[0], "frobnicate");
	assert_string_equal(req.word[1], "x");
	assert_null(req.word[2]);
}

static void empty_and_unknown(void **state)
{
	static const char *const empty[] = { "", "\n", " \t\r\n" };

	(void)state;
	for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		assert_int_equal(parse(empty[i]), -EINVAL);
		assert_string_equal(err, "empty request");
		assert_null(req.word[0]);
	}
	assert_int_equal(parse("frobnicate\n"), -EINVAL);
	assert_string_equal(err, "unknown request 'frobnicate'");
	/* Commands are case-sensitive. */
	assert_int_equal(parse("STATUS"), -EINVAL);
	assert_string_equal(err, "unknown request 'STATUS'");
}

static void valid_names(void **state)
{
	(void)state;
	assert_true(vm_name_valid("a"));
	assert_true(vm_name_valid("vm-1_b_C"));
	/* bpffs refuses a dot in a pin's name: the page could not be pinned. */
	assert_false(vm_name_valid("vm.1"));
	assert_false(vm_name_valid("a.."));
	assert_false(vm_name_valid(""));
	assert_false(vm_name_valid("."));
	assert_false(vm_name_valid(".."));
	assert_false(vm_name_valid("a b"));
	assert_false(vm_name_valid("a/b"));
	assert_false(vm_name_valid("a\n"));
	assert_false(vm_name_valid("a,b"));
	assert_true(vm_name_valid("-a"));
	assert_true(vm_name_valid("_a"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(register_ok),
		cmocka_unit_test(register_options),
		cmocka_unit_test(register_name_length),
		cmocka_unit_test(register_refused),
		cmocka_unit_test(attach_and_unregister),
		cmocka_unit_test(status),
		cmocka_unit_test(words_for_the_log),
		cmocka_unit_test(empty_and_unknown),
		cmocka_unit_test(valid_names),
	};

	return cmocka_run_group_tests_name("pvlockd_req", tests, NULL, NULL);
}
