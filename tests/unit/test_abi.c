// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for the ABI helpers: the shared page (include/pvli_abi.h) and
 * what /dev/pvlockinfo maps for user space (include/pvli_uapi.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../include/pvli_abi.h"
#include "../../include/pvli_uapi.h"

static struct pvli_page_hdr good_hdr(__u32 nr_vcpus)
{
	struct pvli_page_hdr h;

	memset(&h, 0, sizeof(h));
	h.magic = PVLI_PAGE_MAGIC;
	h.abi_major = PVLI_ABI_MAJOR;
	h.abi_minor = PVLI_ABI_MINOR;
	h.hdr_size = PVLI_HDR_SIZE;
	h.vcpu_stride = PVLI_VCPU_STRIDE;
	h.nr_vcpus = nr_vcpus;
	h.page_size = 4096;
	h.accel = PVLI_ACCEL_TCG;
	return h;
}

static void layout_is_fixed(void **state)
{
	(void)state;
	/* Offsets other components hard-code in comments and BPF reads. */
	assert_int_equal(offsetof(struct pvli_page_hdr, nr_vcpus), 20);
	assert_int_equal(offsetof(struct pvli_page_hdr, generation), 32);
	assert_int_equal(offsetof(struct pvli_page_hdr, heartbeat_ns), 64);
	assert_int_equal(offsetof(struct pvli_vcpu, guest), 64);
	assert_int_equal(offsetof(struct pvli_vcpu_host, quota_ns), 16);
	assert_int_equal(_Alignof(struct pvli_vcpu), 64);
	/* 31 vCPUs fit one 4 KiB page, 32 do not. */
	assert_true(pvli_page_bytes(31) <= 4096);
	assert_true(pvli_page_bytes(32) > 4096);
	/* The magic reads "PVLILOCK" in memory. */
	{
		__u64 m = PVLI_PAGE_MAGIC;

		assert_memory_equal(&m, "PVLILOCK", 8);
	}
}

static void check_accepts_good_and_newer_minor(void **state)
{
	struct pvli_page_hdr h = good_hdr(4);

	(void)state;
	assert_int_equal(pvli_page_check(&h, 4096, 4), PVLI_PAGE_OK);
	assert_int_equal(pvli_page_check(&h, 4096, 0), PVLI_PAGE_OK);
	h.abi_minor = PVLI_ABI_MINOR + 7;
	assert_int_equal(pvli_page_check(&h, 4096, 4), PVLI_PAGE_OK);
	/* More records than guest vCPUs is fine (CPU hotplug headroom). */
	assert_int_equal(pvli_page_check(&h, 4096, 2), PVLI_PAGE_OK);
}

static void check_refuses_each_bad_field(void **state)
{
	struct pvli_page_hdr h;

	(void)state;
	h = good_hdr(4);
	assert_int_equal(pvli_page_check(&h, 100, 4), PVLI_PAGE_TOO_SHORT);
	h.magic ^= 1;
	assert_int_equal(pvli_page_check(&h, 4096, 4), PVLI_PAGE_BAD_MAGIC);
	h = good_hdr(4);
	h.abi_major = PVLI_ABI_MAJOR + 1;
	assert_int_equal(pvli_page_check(&h, 4096, 4), PVLI_PAGE_BAD_MAJOR);
	h = good_hdr(4);
	h.vcpu_stride = 64;
	assert_int_equal(pvli_page_check(&h, 4096, 4), PVLI_PAGE_BAD_GEOMETRY);
	h = good_hdr(4);
	h.hdr_size = 64;
	assert_int_equal(pvli_page_check(&h, 4096, 4), PVLI_PAGE_BAD_GEOMETRY);
	h = good_hdr(0);
	assert_int_equal(pvli_page_check(&h, 4096, 0), PVLI_PAGE_BAD_VCPUS);
	h = good_hdr(PVLI_MAX_VCPUS + 1);
	assert_int_equal(pvli_page_check(&h, 1 << 20, 0), PVLI_PAGE_BAD_VCPUS);
	h = good_hdr(2);
	assert_int_equal(pvli_page_check(&h, 4096, 4), PVLI_PAGE_BAD_VCPUS);
	h = good_hdr(4);
	h.page_size = 8192;	/* claims more than is mapped */
	assert_int_equal(pvli_page_check(&h, 4096, 4), PVLI_PAGE_BAD_SIZE);
	h = good_hdr(32);	/* 32 records overflow a 4 KiB page */
	assert_int_equal(pvli_page_check(&h, 4096, 4), PVLI_PAGE_BAD_SIZE);
}

/* An all-zero page (map created, pvlockd not there yet) and all-ones garbage. */
static void check_refuses_zero_and_garbage(void **state)
{
	struct pvli_page_hdr h;

	(void)state;
	memset(&h, 0, sizeof(h));
	assert_int_equal(pvli_page_check(&h, 4096, 1), PVLI_PAGE_BAD_MAGIC);
	memset(&h, 0xff, sizeof(h));
	assert_int_equal(pvli_page_check(&h, 4096, 1), PVLI_PAGE_BAD_MAGIC);
	for (int e = PVLI_PAGE_OK; e <= PVLI_PAGE_BAD_VCPUS; e++)
		assert_string_not_equal(pvli_page_strerror(e), "unknown error");
}

static void quota_left_counts_down_and_clamps(void **state)
{
	struct pvli_vcpu_host r;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.state = PVLI_STATE_RUNNING;
	r.last_switch_ns = 1000000;
	r.quota_ns = 3000000;
	assert_int_equal(pvli_quota_left_ns(&r, 1000000), 3000000);
	assert_int_equal(pvli_quota_left_ns(&r, 2500000), 1500000);
	assert_int_equal(pvli_quota_left_ns(&r, 4000000), 0);
	assert_int_equal(pvli_quota_left_ns(&r, 9000000), 0);	/* no wrap */
	/* A clock reading before the switch (skew) does not add quota. */
	assert_int_equal(pvli_quota_left_ns(&r, 500000), 3000000);
	r.quota_ns = PVLI_QUOTA_UNKNOWN;
	assert_true(pvli_quota_left_ns(&r, 2000000) == PVLI_QUOTA_UNKNOWN);
}

static void quota_left_by_state(void **state)
{
	struct pvli_vcpu_host r;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.quota_ns = 5000000;
	r.state = PVLI_STATE_PREEMPTED;
	assert_int_equal(pvli_quota_left_ns(&r, 0), 0);
	r.state = PVLI_STATE_IDLE;
	assert_int_equal(pvli_quota_left_ns(&r, 0), 0);
	r.state = PVLI_STATE_UNKNOWN;
	assert_true(pvli_quota_left_ns(&r, 0) == PVLI_QUOTA_UNKNOWN);
}

static void tsc_translation(void **state)
{
	struct pvli_page_hdr h = good_hdr(1);

	(void)state;
	assert_int_equal(pvli_tsc_to_host_ns(&h, 12345), 0);	/* no clock yet */
	/* 2 GHz TSC: 0.5 ns per cycle = mult 1 << 31, shift 32. */
	h.clock_mult = 1ULL << 31;
	h.clock_shift = 32;
	h.clock_base_tsc = 1000000;
	h.clock_base_ns = 5000000000ULL;
	assert_true(pvli_tsc_to_host_ns(&h, 1000000) == 5000000000ULL);
	assert_true(pvli_tsc_to_host_ns(&h, 3000000) == 5001000000ULL);
	assert_true(pvli_tsc_to_host_ns(&h, 0) == 5000000000ULL - 500000);
	/* A day of cycles at 2 GHz: exact, no 64-bit overflow of the product. */
	assert_true(pvli_tsc_to_host_ns(&h, 1000000 + 172800000000000ULL) ==
		    5000000000ULL + 86400000000000ULL);
	h.clock_shift = 64;
	assert_int_equal(pvli_tsc_to_host_ns(&h, 3000000), 0);
}

static struct pvli_uview_hdr good_view(__u32 nr_cpus)
{
	struct pvli_uview_hdr h;

	memset(&h, 0, sizeof(h));
	h.magic = PVLI_UAPI_MAGIC;
	h.abi_major = PVLI_UAPI_MAJOR;
	h.abi_minor = PVLI_UAPI_MINOR;
	h.hdr_size = PVLI_UAPI_HDR_SIZE;
	h.cpu_stride = PVLI_UAPI_CPU_STRIDE;
	h.nr_cpus = nr_cpus;
	h.view_size = 4096;
	return h;
}

static void uapi_layout_and_check(void **state)
{
	struct pvli_uview_hdr h = good_view(4);
	__u64 m = PVLI_UAPI_MAGIC;

	(void)state;
	assert_memory_equal(&m, "PVLIVIEW", 8);
	assert_int_equal(offsetof(struct pvli_uview_hdr, host_live), 32);
	assert_int_equal(offsetof(struct pvli_uview_hdr, host_gen), 40);
	assert_int_equal(_Alignof(struct pvli_ucpu), 64);
	/* The host region holds the page of the largest VM the page ABI allows. */
	assert_true(pvli_page_bytes(PVLI_MAX_VCPUS) <= PVLI_UAPI_HOST_MAX);
	assert_true(PVLI_UAPI_VIEW_OFFSET + pvli_uview_bytes(PVLI_MAX_VCPUS) <=
		    PVLI_UAPI_HOST_OFFSET);
	assert_int_equal(pvli_uview_check(&h, 4096), 0);
	h.abi_minor = PVLI_UAPI_MINOR + 3;
	assert_int_equal(pvli_uview_check(&h, 4096), 0);	/* any minor */
	assert_int_equal(pvli_uview_check(&h, 32), -22);	/* shorter than a header */
	h.abi_major++;
	assert_int_equal(pvli_uview_check(&h, 4096), -95);
	h = good_view(4);
	h.magic = 0;
	assert_int_equal(pvli_uview_check(&h, 4096), -22);
	h = good_view(4);
	h.cpu_stride = 32;
	assert_int_equal(pvli_uview_check(&h, 4096), -22);
	h = good_view(0);
	assert_int_equal(pvli_uview_check(&h, 4096), -22);
	h = good_view(64);		/* 64 records need more than 4096 bytes */
	assert_int_equal(pvli_uview_check(&h, 4096), -22);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(layout_is_fixed),
		cmocka_unit_test(check_accepts_good_and_newer_minor),
		cmocka_unit_test(check_refuses_each_bad_field),
		cmocka_unit_test(check_refuses_zero_and_garbage),
		cmocka_unit_test(quota_left_counts_down_and_clamps),
		cmocka_unit_test(quota_left_by_state),
		cmocka_unit_test(tsc_translation),
		cmocka_unit_test(uapi_layout_and_check),
	};

	return cmocka_run_group_tests_name("abi", tests, NULL, NULL);
}
