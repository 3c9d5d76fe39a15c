// SPDX-License-Identifier: GPL-2.0-only
/* A QEMU process as /proc shows it (qemu_proc.h). */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errbuf.h"
#include "qemu_proc.h"

uint64_t qemu_proc_start_time(const char *proc, pid_t pid)
{
	char path[128], buf[1024], *p;
	unsigned long long start = 0;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d/stat", proc, (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* comm, field 2, may hold spaces and ')': fields count from the last ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	/* Fields 3..21 are skipped, 22 is the start time. */
	for (int field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &start) != 1)
		return 0;
	return start;
}

/* Are @pid and we in the same PID namespace?  1, 0, or -errno. */
static int same_pid_ns(const char *proc, pid_t pid)
{
	char a[128], b[128];
	struct stat sa, sb;

	snprintf(a, sizeof(a), "%s/self/ns/pid", proc);
	snprintf(b, sizeof(b), "%s/%d/ns/pid", proc, (int)pid);
	if (stat(a, &sa) || stat(b, &sb))
		return -errno;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Thread @tid's NSpid line in @pid's task dir: our id and its innermost one. */
static int nspid(const char *proc, pid_t pid, const char *task, uint32_t *outer,
		 uint32_t *inner)
{
	char path[384], line[256];
	int r = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d/task/%s/status", proc, (int)pid, task);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *p = line + 6, *end;
		unsigned long v;

		if (strncmp(line, "NSpid:", 6))
			continue;
		*outer = *inner = 0;
		for (int i = 0;; i++) {
			v = strtoul(p, &end, 10);
			if (end == p)
				break;
			if (i == 0)
				*outer = v;
			*inner = v;
			p = end;
		}
		r = *outer && *inner ? 0 : -EINVAL;
		break;
	}
	fclose(f);
	return r;
}

int qemu_proc_has_threads(const char *proc, pid_t pid, const uint32_t *tids, int n,
			  char *err, size_t errlen)
{
	char path[128];

	for (int i = 0; i < n; i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/%d/task/%u", proc, (int)pid, tids[i]);
		if (stat(path, &st)) {
			seterr(err, errlen, "vCPU %d's thread %u is not a thread of QEMU "
			       "(pid %d)", i, tids[i], (int)pid);
			return -ESRCH;
		}
	}
	return 0;
}

int qemu_proc_host_tids(const char *proc, pid_t pid, uint32_t *tids, int n,
			char *err, size_t errlen)
{
	uint32_t host[n];
	char path[128];
	struct dirent *e;
	int same;
	DIR *d;

	same = same_pid_ns(proc, pid);
	if (same < 0) {
		seterr(err, errlen, "cannot compare the PID namespaces of pvlockd and QEMU %d: %s",
		       (int)pid, strerror(-same));
		return same;
	}
	if (same)
		return qemu_proc_has_threads(proc, pid, tids, n, err, errlen);
	/* Another namespace: QEMU's ids are innermost in each thread's NSpid. */
	for (int i = 0; i < n; i++)
		host[i] = 0;
	snprintf(path, sizeof(path), "%s/%d/task", proc, (int)pid);
	d = opendir(path);
	if (!d) {
		seterr(err, errlen, "cannot list the threads of QEMU %d", (int)pid);
		return -ESRCH;
	}
	while ((e = readdir(d))) {
		uint32_t outer = 0, inner = 0;

		if (e->d_name[0] == '.' || nspid(proc, pid, e->d_name, &outer, &inner))
			continue;
		for (int i = 0; i < n; i++)
			if (tids[i] == inner)
				host[i] = outer;
	}
	closedir(d);
	for (int i = 0; i < n; i++) {
		if (!host[i]) {
			seterr(err, errlen, "vCPU %d's thread %u is not a thread of QEMU (pid %d, "
			       "in another PID namespace)", i, tids[i], (int)pid);
			return -ESRCH;
		}
	}
	for (int i = 0; i < n; i++)
		tids[i] = host[i];
	return 0;
}

/*
 * The mount point of the cgroup hierarchy that has the cpu controller:
 * v1 (fstype cgroup, super options listing "cpu") first, else cgroup2.
 * Only mounts of a hierarchy's root (root field "/") count.
 */
static bool cpu_cgroup_mount(const char *mountinfo, char *mnt, size_t len, bool *v2)
{
	char line[1024], root[256], point[256], fstype[64], super[512];
	bool found_v2 = false;
	char v2_point[256] = "";
	FILE *f = fopen(mountinfo, "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - ");

		if (!sep || sscanf(line, "%*s %*s %*s %255s %255s", root, point) != 2 ||
		    sscanf(sep + 3, "%63s %*s %511s", fstype, super) != 2 || strcmp(root, "/"))
			continue;
		if (!strcmp(fstype, "cgroup")) {
			for (char *tok = strtok(super, ","); tok; tok = strtok(NULL, ","))
				if (!strcmp(tok, "cpu")) {
					snprintf(mnt, len, "%s", point);
					*v2 = false;
					fclose(f);
					return true;
				}
		} else if (!strcmp(fstype, "cgroup2") && !found_v2) {
			found_v2 = true;
			snprintf(v2_point, sizeof(v2_point), "%s", point);
		}
	}
	fclose(f);
	if (found_v2) {
		snprintf(mnt, len, "%s", v2_point);
		*v2 = true;
	}
	return found_v2;
}

uint64_t qemu_proc_cpu_cgroup(const char *proc, const char *mountinfo, pid_t pid)
{
	char path[128], line[1024], mnt[256], dir[1400];
	bool v2, found = false;
	struct stat st;
	FILE *f;

	if (!cpu_cgroup_mount(mountinfo, mnt, sizeof(mnt), &v2))
		return 0;
	snprintf(path, sizeof(path), "%s/%d/cgroup", proc, (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	/* "ID:CONTROLLERS:PATH"; v2 is "0::PATH". */
	while (!found && fgets(line, sizeof(line), f)) {
		char *ctrl = strchr(line, ':'), *cpath;

		if (!ctrl || !(cpath = strchr(ctrl + 1, ':')))
			continue;
		*ctrl++ = '\0';
		*cpath++ = '\0';
		cpath[strcspn(cpath, "\n")] = '\0';
		if (v2) {
			found = !strcmp(line, "0") && ctrl[0] == '\0';
		} else {
			for (char *tok = strtok(ctrl, ","); tok && !found; tok = strtok(NULL, ","))
				found = !strcmp(tok, "cpu");
		}
		if (found)
			snprintf(dir, sizeof(dir), "%s%s", mnt, cpath);
	}
	fclose(f);
	if (!found || stat(dir, &st))
		return 0;
	return st.st_ino;
}
