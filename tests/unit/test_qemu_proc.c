// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for what pvlockd reads about a QEMU process in /proc
 * (host/qemu_proc.c): its start time, whether the thread ids it reports
 * are its own (and their translation out of a PID namespace), and its
 * cpu cgroup.  A made-up /proc tree covers the cases a test cannot set
 * up for real; this process's own /proc entries check the real format.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "qemu_proc.h"

static char root[] = "/tmp/pvli-test-proc-XXXXXX";
static char err[256];

static void put(const char *rel, const char *text)
{
	char path[512], dir[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(dir, sizeof(dir), "mkdir -p \"$(dirname '%s')\"", path);
	assert_int_equal(system(dir), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(root))
		return -1;
	put("self/ns/pid", "ours");
	put("ns-other", "theirs");
	/* Process 300 in our namespace, threads 300..302. */
	put("300/stat", "300 (qemu) x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 777 20\n");
	put("300/task/300/status", "Name:\tqemu\nNSpid:\t300\n");
	put("300/task/301/status", "Name:\tCPU 0/TCG\nNSpid:\t301\n");
	put("300/task/302/status", "Name:\tCPU 1/TCG\nNSpid:\t302\n");
	/* Process 400 in a nested namespace: its threads are 1..3 inside. */
	put("400/task/400/status", "NSpid:\t400\t1\n");
	put("400/task/401/status", "Name:\tCPU 0/TCG\nNSpid:\t401\t2\n");
	put("400/task/402/status", "NSpid:\t402\t3\n");
	/* cgroups: v1 cpu mounted, and a v2 mount (used only without v1 cpu). */
	put("300/cgroup", "9:pids:/x\n2:cpu,cpuacct:/vms/a\n0::/v2path\n");
	put("mountinfo-v1", "31 23 0:28 / /T/cg rw - tmpfs tmpfs rw\n"
	    "40 31 0:38 / /T/unified rw - cgroup2 cgroup2 rw\n"
	    "32 31 0:29 /sub /T/bind rw - cgroup cgroup rw,cpu\n"
	    "33 31 0:29 / /T/cpu rw,relatime - cgroup cgroup rw,cpu,cpuacct\n");
	put("mountinfo-v2", "40 31 0:38 / /T/unified rw - cgroup2 cgroup2 rw,nsdelegate\n");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

/* The same namespace: /proc/self/ns/pid and /proc/PID/ns/pid are one file. */
static void link_ns(int pid, const char *target)
{
	char from[512], to[512];

	snprintf(from, sizeof(from), "%s/%s", root, target);
	snprintf(to, sizeof(to), "%s/%d/ns", root, pid);
	mkdir(to, 0755);
	strcat(to, "/pid");
	unlink(to);
	assert_int_equal(link(from, to), 0);
}

static void start_time(void **state)
{
	(void)state;
	/* The comm "qemu) x" holds ") ": fields count from the last ')'. */
	assert_int_equal(qemu_proc_start_time(root, 300), 777);
	assert_int_equal(qemu_proc_start_time(root, 999), 0);
	assert_true(qemu_proc_start_time("/proc", getpid()) > 0);
	assert_int_equal(qemu_proc_start_time("/proc", getpid()),
			 qemu_proc_start_time("/proc", getpid()));
}

static void own_threads(void **state)
{
	uint32_t ok[] = { 301, 302 }, bad[] = { 301, 999 }, other[] = { 301, 401 };

	(void)state;
	link_ns(300, "self/ns/pid");
	assert_int_equal(qemu_proc_host_tids(root, 300, ok, 2, err, sizeof(err)), 0);
	assert_int_equal(ok[0], 301);
	assert_int_equal(ok[1], 302);
	assert_int_equal(qemu_proc_host_tids(root, 300, bad, 2, err, sizeof(err)), -ESRCH);
	assert_string_equal(err, "vCPU 1's thread 999 is not a thread of QEMU (pid 300)");
	/* A thread of another process is not QEMU's. */
	assert_int_equal(qemu_proc_host_tids(root, 300, other, 2, err, sizeof(err)), -ESRCH);
	/* No ns entry: cannot compare, refused. */
	assert_int_equal(qemu_proc_host_tids(root, 999, ok, 2, err, sizeof(err)), -ENOENT);
}

static void nested_namespace(void **state)
{
	uint32_t tids[] = { 2, 3 }, bad[] = { 2, 4 }, keep[] = { 2, 4 };

	(void)state;
	link_ns(400, "ns-other");
	assert_int_equal(qemu_proc_host_tids(root, 400, tids, 2, err, sizeof(err)), 0);
	assert_int_equal(tids[0], 401);
	assert_int_equal(tids[1], 402);
	assert_int_equal(qemu_proc_host_tids(root, 400, bad, 2, err, sizeof(err)), -ESRCH);
	assert_string_equal(err, "vCPU 1's thread 4 is not a thread of QEMU (pid 400, in another "
			    "PID namespace)");
	/* All or nothing: a refused list is left as it was. */
	assert_memory_equal(bad, keep, sizeof(keep));
}

static void real_threads(void **state)
{
	uint32_t me[] = { (uint32_t)gettid() }, init[] = { 1 };

	(void)state;
	assert_int_equal(qemu_proc_host_tids("/proc", getpid(), me, 1, err, sizeof(err)), 0);
	assert_int_equal(me[0], (uint32_t)gettid());
	if (getpid() != 1)
		assert_int_equal(qemu_proc_host_tids("/proc", getpid(), init, 1, err, sizeof(err)),
				 -ESRCH);
}

static void cpu_cgroup(void **state)
{
	char mi[512], dir[1024];
	struct stat st;

	(void)state;
	/* v1: the cpu hierarchy's root mount, not the bind mount of a subdir. */
	snprintf(mi, sizeof(mi), "%s/mountinfo-v1", root);
	assert_int_equal(qemu_proc_cpu_cgroup(root, mi, 300), 0);	/* /T/cpu does not exist */
	/* Point the mounts at the temp tree and make the directories. */
	snprintf(dir, sizeof(dir), "sed -i 's|/T/|%s/T/|g' %s %s/mountinfo-v2 && "
		 "mkdir -p %s/T/cpu/vms/a %s/T/unified/v2path", root, mi, root, root, root);
	assert_int_equal(system(dir), 0);
	snprintf(dir, sizeof(dir), "%s/T/cpu/vms/a", root);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(qemu_proc_cpu_cgroup(root, mi, 300), st.st_ino);
	snprintf(mi, sizeof(mi), "%s/mountinfo-v2", root);
	snprintf(dir, sizeof(dir), "%s/T/unified/v2path", root);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(qemu_proc_cpu_cgroup(root, mi, 300), st.st_ino);
	assert_int_equal(qemu_proc_cpu_cgroup(root, mi, 999), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(start_time),
		cmocka_unit_test(own_threads),
		cmocka_unit_test(nested_namespace),
		cmocka_unit_test(real_threads),
		cmocka_unit_test(cpu_cgroup),
	};

	return cmocka_run_group_tests_name("qemu_proc", tests, setup, teardown);
}
