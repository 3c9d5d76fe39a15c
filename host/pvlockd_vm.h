/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One VM registered with pvlockd: its page (a BPF array map, pinned for
 * QEMU and mapped by pvlockd), its vCPU threads in the vcpus map, its
 * options in the vm_opts map, and its QEMU's pidfd, which tells pvlockd
 * when QEMU is gone.
 *
 * Invariant: a vcpus entry {slot S, vCPU i} exists only for a thread of
 * the QEMU of the VM in slot S; pvlockd only ever deletes an entry that
 * still names the VM it tears down (a thread id can be reused by another
 * VM's vCPU once the first thread exited, which deletes its entry).
 */
#ifndef __PVLOCKD_VM_H
#define __PVLOCKD_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pvlockd_bpf.h"
#include "vm_meta.h"

struct pvlockd_attach;

struct pvlockd_vm {
	bool used;
	uint32_t gen;			/* bumped on every (re)use: stale events are dropped */
	struct vm_meta meta;		/* what survives a restart in NAME.meta */
	int page_fd;			/* the VM's page map */
	uint32_t map_id;		/* its BPF map id */
	void *page;			/* pvlockd's own mapping of it */
	size_t page_bytes;
	int pidfd;			/* QEMU once attached, else -1 */
	bool watched;			/* a poll on pidfd is in flight */
	uint64_t expires_ns;		/* registered, not attached: dropped then (0: never) */
	struct pvlockd_attach *attach;	/* the attach in progress, or NULL */
};

/* Reset @vm to unused, keeping (and bumping) its generation. */
void vm_init(struct pvlockd_vm *vm);

/* Is @vm attached: its vCPU threads registered and its QEMU known? */
static inline bool vm_attached(const struct pvlockd_vm *vm)
{
	return vm->meta.qemu_pid > 0 && vm->meta.tids[0] != 0;
}

/* The pin path of VM @name's page. */
void vm_pin_path(char *buf, size_t len, const char *name);

/* Elements of the page map of a VM with @nr_vcpus vCPUs (a power of two). */
uint32_t vm_page_elems(uint32_t nr_vcpus);

/*
 * Create @vm's page for meta.nr_vcpus vCPUs, write its header, pin it,
 * set its options and install it in slot meta.slot, which must hold no
 * page and no registration (any it holds are orphans, removed first).
 * 0, or -errno with @err saying why (and nothing left behind).
 */
int vm_page_create(struct pvlockd_vm *vm, const struct pvlockd_maps *maps,
		   uint32_t generation, char *err, size_t errlen);

/*
 * Register the @n vCPU threads @tids (QMP's cpu-index order, ids in our
 * PID namespace) for @vm, all or none.  0, or -errno with @err saying why.
 */
int vm_attach_tids(struct pvlockd_vm *vm, const struct pvlockd_maps *maps,
		   const uint32_t *tids, int n, char *err, size_t errlen);

/* Undo vm_attach_tids(): delete the registrations that still name @vm. */
void vm_detach_tids(struct pvlockd_vm *vm, const struct pvlockd_maps *maps);

/* Tell the BPF program @vm's options and the cgroup its quota walk stops at. */
int vm_set_opts(const struct pvlockd_vm *vm, const struct pvlockd_maps *maps,
		uint64_t quota_top_cgroup);

/*
 * Undo all of @vm: its threads (those still naming it), its slot (if it
 * still holds its page), its options, pin, .meta and fds; reset it.
 * Takes a partly set-up @vm too.  The caller has stopped watching it.
 */
void vm_teardown(struct pvlockd_vm *vm, const struct pvlockd_maps *maps);

/*
 * A restarted pvlockd: open @vm's pinned page, check that it is a page
 * map of the size meta.nr_vcpus needs, map it, rewrite the header's
 * host-owned fields (the guest can write there) with @generation.
 * 0, or -errno with @err saying why.
 */
int vm_adopt_page(struct pvlockd_vm *vm, uint32_t generation, char *err, size_t errlen);

/* Publish the host TSC -> CLOCK_MONOTONIC line in the page's header. */
void vm_clock_update(struct pvlockd_vm *vm);

/*
 * pvlockctl status: @vm's table, or its JSON object (@first: no comma).
 * The JSON keeps apart what the page says, which the guest can write
 * ("page"), from the host's own counters and bookkeeping.
 */
void vm_status(FILE *out, const struct pvlockd_vm *vm, const struct pvlockd_maps *maps,
	       bool json, bool first);

#endif /* __PVLOCKD_VM_H */
