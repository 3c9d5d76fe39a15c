/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The record pvlockd keeps about each registered VM outside of BPF, one
 * PVLOCKD_META_DIR/NAME.meta file per VM: a restarted pvlockd re-adopts
 * the VMs from them, pvlockstat names the threads behind a page slot.
 */
#ifndef __PVLOCKD_VM_META_H
#define __PVLOCKD_VM_META_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pvli_abi.h"
#include "host_sched.h"
#include "pvlockd_proto.h"

/* A unix socket path's limit (sizeof(sockaddr_un.sun_path)). */
#define VM_META_QMP_PATH_MAX	108

/*
 * States a record can be in, by what is set:
 *   registered   qmp_path "", tids 0, qemu_pid 0
 *   attaching    qmp_path set, tids 0: an attach was under way (a restart
 *                takes it up again)
 *   attached     qmp_path, tids, qemu_pid and qemu_start set
 */
struct vm_meta {
	char name[PVLOCKD_NAME_MAX + 1];
	uint32_t slot;			/* index in the pages map */
	uint32_t nr_vcpus;
	uint32_t accel;			/* enum pvli_accel */
	char qmp_path[VM_META_QMP_PATH_MAX];	/* "" until an attach begins */
	uint32_t tids[PVLI_MAX_VCPUS_PER_VM];	/* 0 until attached */
	/* The QEMU behind the QMP socket: pid and start time tell it from a reused pid. */
	int32_t qemu_pid;		/* 0 until attached (and in records older than it) */
	uint64_t qemu_start;		/* /proc/PID/stat starttime, clock ticks */
	uint32_t opts;			/* PVLI_VM_* flags (host_sched.h) asked for at register */
};

/*
 * A VM name: 1..PVLOCKD_NAME_MAX of [A-Za-z0-9_-], so it is a safe file
 * name, never a hidden one, and one bpffs takes for the page's pin
 * directory (bpffs refuses names with a dot: EPERM).  The one rule:
 * pvlockd, pvlockctl, pvlockstat and, through "pvlockctl valid-name",
 * pvlock-qemu all check names here.
 */
bool vm_name_valid(const char *s);

void vm_meta_path(char *buf, size_t len, const char *name);

/* Write @m to its NAME.meta, atomically (a temporary file renamed). 0 or -errno. */
int vm_meta_save(const struct vm_meta *m);

/*
 * Read NAME.meta into @m: 0, -errno if it cannot be opened, -EINVAL if it
 * is malformed or out of range.  @m is zeroed first and its name set even
 * on failure; on -EINVAL it holds what was read before the error.
 */
int vm_meta_load(const char *name, struct vm_meta *m);

/* The file format itself, on any stream (vm_meta_read() leaves @m->name alone). */
void vm_meta_write(FILE *f, const struct vm_meta *m);
int vm_meta_read(FILE *f, struct vm_meta *m);

/*
 * Call @fn(NAME, @arg) for each PVLOCKD_META_DIR/NAME.meta whose NAME is
 * at most PVLOCKD_NAME_MAX long, in directory order, until @fn returns
 * nonzero.  Loading and judging the record is up to @fn, which may remove
 * the file.  Nothing happens if the directory does not exist.
 */
/*
 * Remove the NAME.meta.tmp files of saves that never finished (a pvlockd
 * killed inside vm_meta_save()); the record they would have replaced, if
 * any, is intact.  Only pvlockd, at start-up, may call it.
 */
void vm_meta_drop_unfinished(void);

void vm_meta_for_each(int (*fn)(const char *name, void *arg), void *arg);

/* "tcg", "kvm" or "unknown"; and back (0, or -EINVAL for anything else). */
const char *accel_name(uint32_t accel);
int accel_parse(const char *s, uint32_t *accel);

#endif /* __PVLOCKD_VM_META_H */
