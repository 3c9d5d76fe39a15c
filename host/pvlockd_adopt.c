// SPDX-License-Identifier: GPL-2.0-only
/* Re-adoption and reconciliation after a restart (pvlockd_adopt.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "pvlockd.h"
#include "pvlockd_adopt.h"
#include "pvlockd_attach.h"
#include "pvlockd_log.h"
#include "pvlockd_proto.h"
#include "qemu_proc.h"
#include "qmp.h"

static int pidfd_open(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

/* Is @tid a thread of @pid (both in our PID namespace)? */
static bool thread_of(pid_t pid, uint32_t tid)
{
	return !qemu_proc_has_threads("/proc", pid, &tid, 1, NULL, 0);
}

/* The process (thread group) thread @tid belongs to, or 0. */
static pid_t tgid_of(uint32_t tid)
{
	char path[64], line[128];
	pid_t tgid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/status", tid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", &tgid) == 1)
			break;
	fclose(f);
	return tgid;
}

/* Remove what pvlockd keeps for VM @name outside the maps: pin and record. */
static void remove_files(const char *name)
{
	char path[256];

	vm_pin_path(path, sizeof(path), name);
	unlink(path);
	snprintf(path, sizeof(path), PVLOCKD_PIN_VMS "/%s", name);
	rmdir(path);
	vm_meta_path(path, sizeof(path), name);
	unlink(path);
}

/* Make slot @vm->meta.slot hold @vm's page. */
static int install_slot(struct pvlockd *d, struct pvlockd_vm *vm)
{
	uint32_t id;

	if (!bpf_map_lookup_elem(d->maps.pages, &vm->meta.slot, &id) && id == vm->map_id)
		return 0;
	log_warn("VM %s: slot %u did not hold its page; put back", vm->meta.name, vm->meta.slot);
	return bpf_map_update_elem(d->maps.pages, &vm->meta.slot, &vm->page_fd, BPF_ANY) ?
	       -errno : 0;
}

/*
 * Is @vm's QEMU (meta.qemu_pid at meta.qemu_start) alive?  Opens its pidfd
 * into @vm if so.
 */
static bool qemu_alive(struct pvlockd_vm *vm)
{
	int fd = pidfd_open(vm->meta.qemu_pid);

	/* Opened first, checked second: the pidfd then names the process checked. */
	if (fd < 0)
		return false;
	if (qemu_proc_start_time("/proc", vm->meta.qemu_pid) != vm->meta.qemu_start) {
		close(fd);
		return false;
	}
	vm->pidfd = fd;
	return true;
}

void pvlockd_adopt_learn_qemu(struct pvlockd *d, struct pvlockd_vm *vm)
{
	uint32_t tids[PVLI_MAX_VCPUS_PER_VM];
	char err[256];
	pid_t pid;
	int fd;

	fd = qmp_open(vm->meta.qmp_path, &pid, err, sizeof(err));
	if (fd < 0) {
		if (qmp_gone(fd))
			pvlockd_vm_remove(d, vm, "QEMU is gone (its QMP socket is)");
		else
			log_warn("VM %s: %s; trying again", vm->meta.name, err);
		return;
	}
	close(fd);
	vm->meta.qemu_pid = pid;
	vm->meta.qemu_start = qemu_proc_start_time("/proc", pid);
	if (!qemu_alive(vm) ||
	    qemu_proc_has_threads("/proc", pid, vm->meta.tids, (int)vm->meta.nr_vcpus, err, sizeof(err))) {
		vm->meta.qemu_pid = 0;
		pvlockd_vm_remove(d, vm, "the process on its QMP socket is not its QEMU any more");
		return;
	}
	/*
	 * The start-up reconciliation deleted the registrations of a VM whose
	 * QEMU was not known yet (a first try that failed): put them back, or
	 * the VM would be "attached" with threads that write nowhere.
	 */
	memcpy(tids, vm->meta.tids, sizeof(tids));
	vm_detach_tids(vm, &d->maps);
	if (vm_attach_tids(vm, &d->maps, tids, vm->meta.nr_vcpus, err, sizeof(err))) {
		vm->meta.qemu_pid = 0;
		pvlockd_vm_remove(d, vm, err);
		return;
	}
	if (vm_meta_save(&vm->meta))
		log_warn("VM %s: cannot save its state: %s", vm->meta.name, strerror(errno));
	log_info("VM %s: its QEMU is pid %d", vm->meta.name, (int)pid);
	pvlockd_vm_watch(d, vm);
}

/* Re-adopt the VM of record @name (a vm_meta_for_each() step). */
static int adopt_record(const char *name, void *arg)
{
	struct pvlockd *d = arg;
	struct pvlockd_vm *vm;
	struct vm_meta m;
	char err[256];
	uint64_t cgroup = 0;

	if (!vm_name_valid(name) || vm_meta_load(name, &m)) {
		log_warn("VM %s: its record is unreadable; removing the VM", name);
		remove_files(name);
		return 0;
	}
	vm = &d->vms[m.slot];
	if (vm->used) {
		log_warn("VM %s: its record claims slot %u of VM %s; removing it", name, m.slot,
			 vm->meta.name);
		remove_files(name);
		return 0;
	}
	vm_init(vm);
	vm->meta = m;
	if (vm_adopt_page(vm, d->generation, err, sizeof(err)) || install_slot(d, vm)) {
		log_warn("VM %s: %s; removing it", name, err);
		vm_teardown(vm, &d->maps);
		return 0;
	}
	vm->used = true;
	if (vm_attached(vm)) {
		if (!qemu_alive(vm)) {
			pvlockd_vm_remove(d, vm, "QEMU exited while no pvlockd ran");
			return 0;
		}
		cgroup = qemu_proc_cpu_cgroup("/proc", "/proc/self/mountinfo", m.qemu_pid);
	}
	if (vm_set_opts(vm, &d->maps, cgroup))
		log_warn("VM %s: cannot set its options", name);
	if (vm_attached(vm)) {
		pvlockd_vm_watch(d, vm);
		log_info("VM %s: re-adopted (slot %u, attached to QEMU %d)", name, m.slot,
			 m.qemu_pid);
	} else if (m.tids[0] && m.qmp_path[0]) {
		log_info("VM %s: re-adopted (slot %u), learning its QEMU", name, m.slot);
		pvlockd_adopt_learn_qemu(d, vm);
	} else if (m.qmp_path[0]) {
		log_info("VM %s: re-adopted (slot %u), resuming its attach", name, m.slot);
		vm->expires_ns = pvlockd_now_ns() + d->attach_timeout_s * 1000000000ULL;
		if (pvlockd_attach_start(d, vm, m.qmp_path, -1, NULL, err, sizeof(err))) {
			log_warn("VM %s: cannot resume its attach: %s", name, err);
			vm->meta.qmp_path[0] = '\0';
			vm_meta_save(&vm->meta);
		}
	} else {
		vm->expires_ns = pvlockd_now_ns() + d->attach_timeout_s * 1000000000ULL;
		log_info("VM %s: re-adopted (slot %u, not attached yet)", name, m.slot);
	}
	return 0;
}

/*
 * A page pinned for VM @name, which has no record.  If a free slot holds
 * it and the registrations pointing there are all threads of one live
 * process, that is its QEMU: adopt the VM from what the maps say and
 * write its record again.  0 if adopted.
 */
static int adopt_unrecorded(struct pvlockd *d, const char *name)
{
	struct pvli_vcpu_ref ref;
	struct pvlockd_vm *vm = NULL;
	uint32_t key, next, id, slot = PVLI_MAX_VMS, tids[PVLI_MAX_VCPUS_PER_VM] = {};
	uint32_t nr = 0;
	void *prev = NULL;
	struct vm_meta m = {};
	char path[256], err[256];
	pid_t qemu = 0;
	int fd;

	vm_pin_path(path, sizeof(path), name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -ENOENT;
	for (uint32_t s = 0; s < PVLI_MAX_VMS; s++) {
		struct bpf_map_info info = {};
		uint32_t len = sizeof(info);

		if (!d->vms[s].used && !bpf_map_lookup_elem(d->maps.pages, &s, &id) &&
		    !bpf_map_get_info_by_fd(fd, &info, &len) && info.id == id)
			slot = s;
	}
	close(fd);
	if (slot == PVLI_MAX_VMS)
		return -ENOENT;
	while (!bpf_map_get_next_key(d->maps.vcpus, prev, &next)) {
		pid_t tgid;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(d->maps.vcpus, &key, &ref) || ref.vm_slot != slot)
			continue;
		tgid = tgid_of(key);
		if (!tgid || (qemu && tgid != qemu) || ref.vcpu >= PVLI_MAX_VCPUS_PER_VM ||
		    tids[ref.vcpu])
			return -EINVAL;
		qemu = tgid;
		tids[ref.vcpu] = key;
		if (ref.vcpu + 1 > nr)
			nr = ref.vcpu + 1;
	}
	if (!qemu || !tids[0])
		return -ENOENT;
	snprintf(m.name, sizeof(m.name), "%s", name);
	m.slot = slot;
	m.nr_vcpus = nr;
	memcpy(m.tids, tids, sizeof(tids));
	m.qemu_pid = qemu;
	m.qemu_start = qemu_proc_start_time("/proc", qemu);
	m.accel = PVLI_ACCEL_TCG;	/* unknown: the page's header is the guest's to write */
	vm = &d->vms[slot];
	vm_init(vm);
	vm->meta = m;
	if (vm_adopt_page(vm, d->generation, err, sizeof(err)) || !qemu_alive(vm) ||
	    vm_meta_save(&vm->meta)) {
		vm->meta.qemu_pid = 0;	/* its threads are left to the reconciliation */
		memset(vm->meta.tids, 0, sizeof(vm->meta.tids));
		vm_teardown(vm, &d->maps);
		return -EINVAL;
	}
	vm->used = true;
	vm_set_opts(vm, &d->maps, qemu_proc_cpu_cgroup("/proc", "/proc/self/mountinfo", qemu));
	pvlockd_vm_watch(d, vm);
	log_warn("VM %s: had no record; re-adopted from its pin, slot %u and the %u vCPU threads "
		 "of QEMU %d", name, slot, nr, (int)qemu);
	return 0;
}

/* Page pins of VMs that were not adopted from a record. */
static void reconcile_pins(struct pvlockd *d)
{
	DIR *dir = opendir(PVLOCKD_PIN_VMS);
	struct dirent *e;

	if (!dir)
		return;
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.' || pvlockd_vm_find(d, e->d_name))
			continue;
		if (vm_name_valid(e->d_name) && !adopt_unrecorded(d, e->d_name))
			continue;
		log_warn("removing the page pinned for VM %s, which has no record", e->d_name);
		remove_files(e->d_name);
	}
	closedir(dir);
}

/* Slots no adopted VM owns. */
static void reconcile_slots(struct pvlockd *d)
{
	for (uint32_t s = 0; s < PVLI_MAX_VMS; s++) {
		struct pvli_vm_opts none = {};
		uint32_t id;

		if (d->vms[s].used || bpf_map_lookup_elem(d->maps.pages, &s, &id))
			continue;
		log_warn("slot %u held page map %u of no known VM; emptied", s, id);
		bpf_map_delete_elem(d->maps.pages, &s);
		bpf_map_update_elem(d->maps.vm_opts, &s, &none, BPF_ANY);
	}
}

/* Is the registration @tid -> @ref one of an adopted VM's own vCPU threads? */
static bool registration_ok(struct pvlockd *d, uint32_t tid, const struct pvli_vcpu_ref *ref)
{
	struct pvlockd_vm *vm;

	if (ref->vm_slot >= PVLI_MAX_VMS)
		return false;
	vm = &d->vms[ref->vm_slot];
	return vm->used && vm_attached(vm) && ref->vcpu < vm->meta.nr_vcpus &&
	       vm->meta.tids[ref->vcpu] == tid && thread_of(vm->meta.qemu_pid, tid);
}

static void reconcile_registrations(struct pvlockd *d)
{
	uint32_t key, next, *doomed, n = 0;
	struct pvli_vcpu_ref ref;
	void *prev = NULL;

	doomed = calloc(PVLI_MAX_VCPU_THREADS, sizeof(*doomed));
	if (!doomed)
		return;
	while (n < PVLI_MAX_VCPU_THREADS && !bpf_map_get_next_key(d->maps.vcpus, prev, &next)) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(d->maps.vcpus, &key, &ref) && !registration_ok(d, key, &ref))
			doomed[n++] = key;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (bpf_map_lookup_elem(d->maps.vcpus, &doomed[i], &ref))
			continue;
		log_warn("thread %u was registered as vCPU %u of slot %u, which is not its VM's; "
			 "removed", doomed[i], ref.vcpu, ref.vm_slot);
		bpf_map_delete_elem(d->maps.vcpus, &doomed[i]);
	}
	free(doomed);
}

void pvlockd_adopt(struct pvlockd *d)
{
	vm_meta_drop_unfinished();
	vm_meta_for_each(adopt_record, d);
	reconcile_pins(d);
	reconcile_slots(d);
	reconcile_registrations(d);
}
