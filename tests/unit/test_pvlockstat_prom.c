// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockstat's Prometheus exposition (host/pvlockstat_prom.c), rendered
 * from made-up figures: the families and their order, zeros for vCPUs
 * not seen yet, the page's families only with a page, the histogram's
 * cumulative buckets and exact bounds, label escaping; and, where
 * Debian's prometheus package put promtool, that promtool finds nothing
 * to complain about.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "pvlockstat_prom.h"

#define PROMTOOL	"/usr/bin/promtool"

static struct pvls_vcpu busy;
static struct pvls_prom_vm vms[2];

/* vm "web": 2 vCPUs, vCPU 0 with figures, vCPU 1 not seen yet; vm "a\"b": no page. */
static void fixture(void)
{
	memset(&busy, 0, sizeof(busy));
	busy.preempted = 1000;
	busy.lhp = 40;
	busy.lwp = 7;
	busy.lhp_kernel = 3;
	busy.lwp_kernel = 1;
	busy.lwp_offcpu_ns = 2500000000ULL;
	busy.lhp_offcpu_ns = 1234567891ULL;
	busy.lhp_hist[0] = 1;	/* < 2 us */
	busy.lhp_hist[3] = 2;	/* [8, 16) us: in le=1.6e-05 */
	busy.lhp_hist[4] = 4;	/* [16, 32) us: first in le=6.4e-05 */
	busy.lhp_hist[12] = 8;	/* [4, 8) ms: le=0.016384 */
	busy.lhp_hist[26] = 16;	/* beyond the last bound: +Inf only */

	memset(vms, 0, sizeof(vms));
	vms[0].name = "web";
	vms[0].nr_vcpus = 2;
	vms[0].page = true;
	vms[0].heartbeat_age_s = 0.25;
	vms[0].vcpu[0].stats = &busy;
	vms[0].vcpu[0].run_ns = 3000000001ULL;
	vms[0].vcpu[0].steal_ns = 42;
	vms[1].name = "a\"b";
	vms[1].nr_vcpus = 1;
	vms[1].page = false;
}

static char *render(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	pvls_prom_write(f, vms, 2);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void has(const char *text, const char *line)
{
	char want[512];

	snprintf(want, sizeof(want), "\n%s\n", line);
	if (!strstr(text, want))
		fail_msg("missing line: %s\n--- exposition ---\n%s", line, text);
}

static void lacks(const char *text, const char *part)
{
	if (strstr(text, part))
		fail_msg("unexpected: %s\n--- exposition ---\n%s", part, text);
}

static void test_counters(void **state)
{
	char *t;

	(void)state;
	fixture();
	t = render();
	has(t, "# TYPE pvlock_vcpu_preemptions_total counter");
	has(t, "pvlock_vcpu_preemptions_total{vm=\"web\",vcpu=\"0\"} 1000");
	has(t, "pvlock_vcpu_preemptions_total{vm=\"web\",vcpu=\"1\"} 0");
	has(t, "pvlock_vcpu_lock_holder_preemptions_total{vm=\"web\",vcpu=\"0\"} 40");
	has(t, "pvlock_vcpu_lock_waiter_preemptions_total{vm=\"web\",vcpu=\"0\"} 7");
	has(t, "pvlock_vcpu_kernel_lock_holder_preemptions_total{vm=\"web\",vcpu=\"0\"} 3");
	has(t, "pvlock_vcpu_kernel_lock_waiter_preemptions_total{vm=\"web\",vcpu=\"0\"} 1");
	has(t, "pvlock_vcpu_lock_waiter_offcpu_seconds_total{vm=\"web\",vcpu=\"0\"} 2.500000000");
	has(t, "pvlock_vcpu_run_seconds_total{vm=\"web\",vcpu=\"0\"} 3.000000001");
	has(t, "pvlock_vcpu_steal_seconds_total{vm=\"web\",vcpu=\"0\"} 0.000000042");
	has(t, "pvlock_vm_vcpus{vm=\"web\"} 2");
	has(t, "pvlock_vm_page_heartbeat_age_seconds{vm=\"web\"} 0.250000");
	free(t);
}

static void test_no_page(void **state)
{
	char *t;

	(void)state;
	fixture();
	t = render();
	/* Counters of the BPF side exist for it, the page's do not. */
	has(t, "pvlock_vcpu_preemptions_total{vm=\"a\\\"b\",vcpu=\"0\"} 0");
	lacks(t, "pvlock_vcpu_run_seconds_total{vm=\"a\\\"b\"");
	lacks(t, "pvlock_vcpu_steal_seconds_total{vm=\"a\\\"b\"");
	lacks(t, "pvlock_vm_page_heartbeat_age_seconds{vm=\"a\\\"b\"");
	has(t, "pvlock_vm_vcpus{vm=\"a\\\"b\"} 1");
	free(t);
}

/* The holder histogram's sample @suffix{vm="web",vcpu=@vcpu@labels} @value. */
static void has_hist(const char *text, const char *suffix, int vcpu, const char *labels,
		     const char *value)
{
	char line[256];

	snprintf(line, sizeof(line), "pvlock_vcpu_lock_holder_offcpu_seconds%s"
		 "{vm=\"web\",vcpu=\"%d\"%s} %s", suffix, vcpu, labels, value);
	has(text, line);
}

static void test_histogram(void **state)
{
	char *t;

	(void)state;
	fixture();
	t = render();
	has(t, "# TYPE pvlock_vcpu_lock_holder_offcpu_seconds histogram");
	has_hist(t, "_bucket", 0, ",le=\"1.6e-05\"", "3");
	has_hist(t, "_bucket", 0, ",le=\"6.4e-05\"", "7");
	has_hist(t, "_bucket", 0, ",le=\"0.004096\"", "7");
	has_hist(t, "_bucket", 0, ",le=\"0.016384\"", "15");
	has_hist(t, "_bucket", 0, ",le=\"4.194304\"", "15");
	has_hist(t, "_bucket", 0, ",le=\"+Inf\"", "31");
	has_hist(t, "_count", 0, "", "31");
	has_hist(t, "_sum", 0, "", "1.234567891");
	has_hist(t, "_bucket", 1, ",le=\"+Inf\"", "0");
	free(t);
}

/* Each family's samples in one block: its name never comes back later. */
static void test_families_grouped(void **state)
{
	char *t, *line, *save = NULL, last[128] = "";
	char seen[64][128];
	int nseen = 0;

	(void)state;
	fixture();
	t = render();
	for (line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char fam[128];
		size_t n;

		if (line[0] == '#')
			continue;
		n = strcspn(line, "{ ");
		snprintf(fam, sizeof(fam), "%.*s", (int)n, line);
		/* a histogram's _bucket/_sum/_count are one family */
		for (const char *sfx = "_bucket\0_sum\0_count\0"; *sfx; sfx += strlen(sfx) + 1) {
			size_t l = strlen(fam), s = strlen(sfx);

			if (strstr(fam, "offcpu_seconds_") && l > s && !strcmp(fam + l - s, sfx))
				fam[l - s] = '\0';
		}
		if (!strcmp(fam, last))
			continue;
		for (int i = 0; i < nseen; i++)
			if (!strcmp(seen[i], fam))
				fail_msg("family %s appears in two blocks", fam);
		assert_true(nseen < 64);
		snprintf(seen[nseen++], sizeof(seen[0]), "%s", fam);
		snprintf(last, sizeof(last), "%s", fam);
	}
	assert_int_equal(nseen, 11);
	free(t);
}

static void test_promtool(void **state)
{
	char *t, cmd[256], out[] = "/tmp/test_pvlockstat_prom.XXXXXX";
	FILE *f;
	int fd, rc;

	(void)state;
	if (access(PROMTOOL, X_OK))
		skip();	/* ./configure installs it (Debian's prometheus) */
	fixture();
	t = render();
	fd = mkstemp(out);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(t, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), PROMTOOL " check metrics <%s 2>&1", out);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(cmd, sizeof(cmd), f))
		print_message("promtool: %s", cmd);
	rc = pclose(f);
	unlink(out);
	assert_int_equal(rc, 0);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_no_page),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_families_grouped),
		cmocka_unit_test(test_promtool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
