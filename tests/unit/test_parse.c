// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for the helpers' strict number parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../helpers/parse.h"

static void accepts_decimal_hex_octal(void **state)
{
	uint64_t v;

	(void)state;
	assert_true(parse_u64("4096", &v));
	assert_int_equal(v, 4096);
	assert_true(parse_u64("0x1000", &v));
	assert_int_equal(v, 4096);
	assert_true(parse_u64("010", &v));
	assert_int_equal(v, 8);
	assert_true(parse_u64("18446744073709551615", &v));
	assert_true(v == UINT64_MAX);
}

static void rejects_garbage(void **state)
{
	const char *bad[] = { "", "-1", "+1", "12abc", "0x", " 1", "1 ",
			      "18446744073709551616", "4k" };
	uint64_t v = 77;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(parse_u64(bad[i], &v));
		assert_int_equal(v, 77); /* untouched on failure */
	}
	assert_false(parse_u64(NULL, &v));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accepts_decimal_hex_octal),
		cmocka_unit_test(rejects_garbage),
	};

	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
