// SPDX-License-Identifier: GPL-2.0-only
/*
 * The PVLOCKD_META_DIR/NAME.meta files (vm_meta.h).
 *
 * Format (text, one "key value" per line, written to a temporary file and
 * renamed, so a reader sees the old file or the new one, never half):
 *   slot N / vcpus N / accel N / qmp PATH|- / tids T0 T1 ...
 *   / qemu PID STARTTIME / opts FLAGS
 * The last two lines came later: a record without them reads as QEMU
 * unknown and no options.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vm_meta.h"

#define META_SUFFIX	".meta"
#define META_SUFFIX_LEN	(sizeof(META_SUFFIX) - 1)

const char *accel_name(uint32_t accel)
{
	return accel == PVLI_ACCEL_KVM ? "kvm" : accel == PVLI_ACCEL_TCG ? "tcg" : "unknown";
}

int accel_parse(const char *s, uint32_t *accel)
{
	if (!strcmp(s, "tcg"))
		*accel = PVLI_ACCEL_TCG;
	else if (!strcmp(s, "kvm"))
		*accel = PVLI_ACCEL_KVM;
	else
		return -EINVAL;
	return 0;
}

bool vm_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > PVLOCKD_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(s[i] == '-' || s[i] == '_' ||
		      (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
	return true;
}

void vm_meta_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, PVLOCKD_META_DIR "/%s" META_SUFFIX, name);
}

void vm_meta_write(FILE *f, const struct vm_meta *m)
{
	fprintf(f, "slot %u\nvcpus %u\naccel %u\nqmp %s\ntids", m->slot, m->nr_vcpus,
		m->accel, m->qmp_path[0] ? m->qmp_path : "-");
	for (uint32_t i = 0; i < m->nr_vcpus; i++)
		fprintf(f, " %u", m->tids[i]);
	fprintf(f, "\nqemu %d %llu\nopts %u\n", m->qemu_pid,
		(unsigned long long)m->qemu_start, m->opts);
}

int vm_meta_save(const struct vm_meta *m)
{
	char path[256], tmp[272];
	FILE *f;
	int r = 0;

	if (mkdir(PVLOCKD_META_DIR, 0755) && errno != EEXIST)
		return -errno;
	vm_meta_path(path, sizeof(path), m->name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	vm_meta_write(f, m);
	if (fflush(f) || fsync(fileno(f)))
		r = -errno;
	if (fclose(f) && !r)
		r = -errno;
	if (!r && rename(tmp, path))
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}

_Static_assert(VM_META_QMP_PATH_MAX == 108, "the qmp path is scanned with %107s");

int vm_meta_read(FILE *f, struct vm_meta *m)
{
	unsigned long long start;
	int ok;

	ok = fscanf(f, "slot %u\nvcpus %u\naccel %u\nqmp %107s\ntids", &m->slot,
		    &m->nr_vcpus, &m->accel, m->qmp_path) == 4 &&
	     m->slot < PVLI_MAX_VMS && m->nr_vcpus >= 1 &&
	     m->nr_vcpus <= PVLI_MAX_VCPUS_PER_VM;
	for (uint32_t i = 0; ok && i < m->nr_vcpus; i++)
		if (fscanf(f, " %u", &m->tids[i]) != 1)
			m->tids[i] = 0;	/* registered, never attached */
	if (!strcmp(m->qmp_path, "-"))
		m->qmp_path[0] = '\0';
	if (!ok)
		return -EINVAL;
	/* Optional lines (later records): absent, they leave the fields 0. */
	if (fscanf(f, " qemu %d %llu", &m->qemu_pid, &start) == 2) {
		if (m->qemu_pid < 0)
			return -EINVAL;
		m->qemu_start = start;
	}
	if (fscanf(f, " opts %u", &m->opts) == 1 && (m->opts & ~PVLI_VM_OPTS_ALL))
		return -EINVAL;
	return 0;
}

int vm_meta_load(const char *name, struct vm_meta *m)
{
	char path[256];
	FILE *f;
	int r;

	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	vm_meta_path(path, sizeof(path), name);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	r = vm_meta_read(f, m);
	fclose(f);
	return r;
}

/* Does @name (of length @len) end in @suffix, with something before it? */
static bool ends_in(const char *name, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len > n && !strcmp(name + len - n, suffix);
}

void vm_meta_drop_unfinished(void)
{
	DIR *d = opendir(PVLOCKD_META_DIR);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (ends_in(e->d_name, strlen(e->d_name), META_SUFFIX ".tmp"))
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

void vm_meta_for_each(int (*fn)(const char *name, void *arg), void *arg)
{
	DIR *d = opendir(PVLOCKD_META_DIR);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char name[PVLOCKD_NAME_MAX + 1];
		size_t len = strlen(e->d_name);

		/* NAME.meta.tmp, a save in progress, does not end in .meta. */
		if (!ends_in(e->d_name, len, META_SUFFIX) || len - META_SUFFIX_LEN > PVLOCKD_NAME_MAX)
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(len - META_SUFFIX_LEN), e->d_name);
		if (fn(name, arg))
			break;
	}
	closedir(d);
}
