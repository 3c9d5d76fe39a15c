// SPDX-License-Identifier: GPL-2.0-only
/*
 * What pvlockd records about each registered VM outside of BPF: the
 * RUN_DIR/vms/NAME.meta files.  A restarted pvlockd re-adopts VMs from
 * them, and pvlockstat reads them to name the VM behind a page slot.
 *
 * Format (text, one "key value" per line, written to a temporary file and
 * renamed, so a reader sees the old file or the new one, never half):
 *   slot N / vcpus N / accel N / qmp PATH|- / tids T0 T1 ...
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "pvlockd.h"

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

void vm_meta_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, PVLOCKD_RUN_DIR "/vms/%s.meta", name);
}

int vm_save_meta(const struct pvlockd_vm *vm)
{
	char path[256], tmp[272];
	FILE *f;

	mkdir(PVLOCKD_RUN_DIR "/vms", 0755);
	vm_meta_path(path, sizeof(path), vm->name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "slot %u\nvcpus %u\naccel %u\nqmp %s\ntids", vm->slot, vm->nr_vcpus,
		vm->accel, vm->qmp_path[0] ? vm->qmp_path : "-");
	for (uint32_t i = 0; i < vm->nr_vcpus; i++)
		fprintf(f, " %u", vm->tids[i]);
	fprintf(f, "\n");
	if (fclose(f) || rename(tmp, path))
		return -errno;
	return 0;
}

int vm_load_meta(const char *name, struct pvlockd_vm *vm)
{
	char path[256];
	FILE *f;
	int ok;

	memset(vm, 0, sizeof(*vm));
	vm->page_fd = vm->qmp_fd = -1;
	snprintf(vm->name, sizeof(vm->name), "%s", name);
	vm_meta_path(path, sizeof(path), name);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	ok = fscanf(f, "slot %u\nvcpus %u\naccel %u\nqmp %107s\ntids", &vm->slot,
		    &vm->nr_vcpus, &vm->accel, vm->qmp_path) == 4 &&
	     vm->slot < PVLI_MAX_VMS && vm->nr_vcpus >= 1 &&
	     vm->nr_vcpus <= PVLI_MAX_VCPUS_PER_VM;
	for (uint32_t i = 0; ok && i < vm->nr_vcpus; i++)
		if (fscanf(f, " %u", &vm->tids[i]) != 1)
			vm->tids[i] = 0;	/* registered, never attached */
	fclose(f);
	if (!strcmp(vm->qmp_path, "-"))
		vm->qmp_path[0] = '\0';
	return ok ? 0 : -EINVAL;
}
