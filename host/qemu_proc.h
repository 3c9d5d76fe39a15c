/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What pvlockd learns about a QEMU process from /proc: who it is (pid and
 * start time, which together survive pid reuse), which threads are its
 * own (in pvlockd's PID namespace), and its cgroup.  Nothing here trusts
 * what QEMU says about itself: the pid comes from the kernel (SO_PEERCRED
 * on its QMP socket), the thread ids QEMU reports are checked against
 * its /proc entries.  @proc is the /proc to read ("/proc"; tests pass
 * their own tree).
 */
#ifndef __PVLOCKD_QEMU_PROC_H
#define __PVLOCKD_QEMU_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Start time of process @pid (field 22 of PROC/PID/stat: clock ticks
 * after boot), or 0 if there is no such process.
 */
uint64_t qemu_proc_start_time(const char *proc, pid_t pid);

/*
 * Is each of the @n thread ids @tids (ids in OUR PID namespace) a thread
 * of process @pid now?  0, or -ESRCH with @err naming the first that is
 * not.
 */
int qemu_proc_has_threads(const char *proc, pid_t pid, const uint32_t *tids, int n,
			  char *err, size_t errlen);

/*
 * Turn the @n thread ids @tids that process @pid reported (ids in its
 * own PID namespace, as gettid() gives them) into ids in ours, in place,
 * checking that each is a thread of @pid.  A QEMU in our namespace needs
 * no translation; one in a nested namespace is translated through the
 * NSpid lines of PROC/PID/task/N/status.  0, or -errno with @err naming
 * the first thread that is not @pid's (-ESRCH), or why the namespaces
 * cannot be compared.
 */
int qemu_proc_host_tids(const char *proc, pid_t pid, uint32_t *tids, int n,
			char *err, size_t errlen);

/*
 * The cgroup id (kernfs inode number, which a BPF program reads as
 * cgroup->kn->id) of @pid's cgroup in the hierarchy of the cpu
 * controller: v1 "cpu" if it is mounted, else the v2 one.  0 if unknown.
 * @mountinfo is the mount table to search (PROC/self/mountinfo).
 */
uint64_t qemu_proc_cpu_cgroup(const char *proc, const char *mountinfo, pid_t pid);

#endif /* __PVLOCKD_QEMU_PROC_H */
