// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for the seeded patterns of the round-trip tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../helpers/pattern.h"

#define LEN 4096

static void fill_then_check_matches(void **state)
{
	uint8_t buf[LEN];

	(void)state;
	pattern_fill(buf, 0, LEN, 42);
	assert_int_equal(pattern_check(buf, 0, LEN, 42), LEN);
}

static void check_reports_first_difference(void **state)
{
	uint8_t buf[LEN];

	(void)state;
	pattern_fill(buf, 0, LEN, 7);
	buf[1234] ^= 0x01;
	buf[3000] ^= 0x80;
	assert_int_equal(pattern_check(buf, 0, LEN, 7), 1234);
}

static void other_seed_does_not_match(void **state)
{
	uint8_t buf[LEN];

	(void)state;
	pattern_fill(buf, 0, LEN, 1);
	assert_true(pattern_check(buf, 0, LEN, 2) < 16);
}

/* A copy shifted by one 8-byte word must not pass for the original. */
static void shifted_copy_does_not_match(void **state)
{
	uint8_t buf[LEN + 8];

	(void)state;
	pattern_fill(buf, 0, LEN + 8, 3);
	assert_true(pattern_check(buf + 8, 0, LEN, 3) < 16);
}

/* Filling a window in parts equals filling it at once: offsets are absolute. */
static void partial_fills_compose(void **state)
{
	uint8_t whole[LEN], parts[LEN];

	(void)state;
	pattern_fill(whole, 0, LEN, 99);
	pattern_fill(parts, 0, 1000, 99);
	pattern_fill(parts + 1000, 1000, LEN - 1000, 99);
	assert_memory_equal(whole, parts, LEN);
	assert_int_equal(pattern_check(whole + 1000, 1000, 77, 99), 77);
}

/* Zeroed memory (a map nobody wrote) never passes for any seed tried. */
static void zeroes_never_match(void **state)
{
	uint8_t zero[64];

	(void)state;
	memset(zero, 0, sizeof(zero));
	for (uint64_t seed = 0; seed < 1000; seed++)
		assert_true(pattern_check(zero, 0, sizeof(zero), seed) < sizeof(zero));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fill_then_check_matches),
		cmocka_unit_test(check_reports_first_difference),
		cmocka_unit_test(other_seed_does_not_match),
		cmocka_unit_test(shifted_copy_does_not_match),
		cmocka_unit_test(partial_fills_compose),
		cmocka_unit_test(zeroes_never_match),
	};

	return cmocka_run_group_tests_name("pattern", tests, NULL, NULL);
}
