// SPDX-License-Identifier: GPL-2.0-only
/*
 * What LD_PRELOAD of the real libpvlock-preload.so reaches: unmodified
 * programs (tests/helpers/pvlock-reach.c, built dynamic and static)
 * report whether their default pthread mutex and their C11 mtx_plain
 * mutex ran on libpvlock or on glibc.
 *
 *   dynamic, no preload           glibc, glibc    (the probe tells them apart)
 *   dynamic, preload              pvlock, pvlock  (C11 too: glibc's mtx_lock
 *                                                  would bypass pthread_*)
 *   dynamic, PVLOCK_PRELOAD=off   glibc, glibc
 *   static, preload               glibc, glibc    (no dynamic linker: the
 *                                                  documented limit)
 *
 * On a machine without /dev/pvlockinfo the library runs at the futex
 * level, which still writes the holder field the probe looks for.
 */
#define _GNU_SOURCE
#include <libgen.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

static char build_dir[PATH_MAX];	/* BUILD, from BUILD/tests/unit/this */

static int find_build_dir(void **state)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	(void)state;
	if (n <= 0)
		return -1;
	exe[n] = 0;
	snprintf(build_dir, sizeof(build_dir), "%s/../..", dirname(exe));
	return 0;
}

/* Runs BUILD/tests/@prog with LD_PRELOAD (if @preload) and PVLOCK_PRELOAD=@mode; its stdout. */
static char *run_probe(const char *prog, int preload, const char *mode)
{
	static char out[256];
	char path[PATH_MAX + 64], lib[PATH_MAX + 64];
	int fd[2], status;
	ssize_t n, len = 0;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/tests/%s", build_dir, prog);
	snprintf(lib, sizeof(lib), "%s/lib/libpvlock-preload.so", build_dir);
	assert_int_equal(access(path, X_OK), 0);
	assert_int_equal(access(lib, R_OK), 0);
	assert_int_equal(pipe(fd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fd[1], 1);
		close(fd[0]);
		unsetenv("LD_PRELOAD");
		unsetenv("PVLOCK_PRELOAD");
		if (preload)
			setenv("LD_PRELOAD", lib, 1);
		if (mode)
			setenv("PVLOCK_PRELOAD", mode, 1);
		execl(path, prog, (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	while ((n = read(fd[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += n;
	out[len] = 0;
	close(fd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	return out;
}

static void dynamic_without_preload_is_glibc(void **state)
{
	(void)state;
	assert_string_equal(run_probe("pvlock-reach", 0, NULL), "pthread=glibc c11=glibc\n");
}

static void dynamic_with_preload_runs_pthread_and_c11_on_pvlock(void **state)
{
	(void)state;
	assert_string_equal(run_probe("pvlock-reach", 1, NULL), "pthread=pvlock c11=pvlock\n");
}

static void preload_off_passes_everything_to_glibc(void **state)
{
	(void)state;
	assert_string_equal(run_probe("pvlock-reach", 1, "off"), "pthread=glibc c11=glibc\n");
}

static void static_program_is_out_of_reach(void **state)
{
	(void)state;
	assert_string_equal(run_probe("pvlock-reach-static", 1, NULL), "pthread=glibc c11=glibc\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dynamic_without_preload_is_glibc),
		cmocka_unit_test(dynamic_with_preload_runs_pthread_and_c11_on_pvlock),
		cmocka_unit_test(preload_off_passes_everything_to_glibc),
		cmocka_unit_test(static_program_is_out_of_reach),
	};

	return cmocka_run_group_tests(tests, find_build_dir, NULL);
}
