/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The maps pvlockd owns and pins, as every BPF object that uses them
 * declares them: host_sched.bpf.c creates them, pvlockstat.bpf.c reuses
 * the pins.  One definition, so that a reuse can never meet a map of
 * another shape.  Include after vmlinux.h, bpf_helpers.h, pvli_abi.h and
 * host_sched.h.
 */
#ifndef __PVLI_MAPS_BPF_H
#define __PVLI_MAPS_BPF_H

/*
 * A VM's page: element 0 is the header, element 1 + i vCPU i's record.
 * page_template is the inner map's definition; it also puts the full
 * struct pvli_vcpu into the object's BTF (behind the map-in-map's pointers
 * clang would emit only a forward declaration).
 */
struct page_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE | BPF_F_INNER_MAP);
	__uint(max_entries, PVLI_PAGE_ELEMS_MIN);
	__type(key, __u32);
	__type(value, struct pvli_vcpu);
} page_template SEC(".maps");

/* VM slot -> its page map. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, PVLI_MAX_VMS);
	__type(key, __u32);
	__array(values, struct page_inner);
} pages SEC(".maps");

/* Host thread id -> which VM's vCPU it runs. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PVLI_MAX_VCPU_THREADS);
	__type(key, __u32);
	__type(value, struct pvli_vcpu_ref);
} vcpus SEC(".maps");

/* Element @idx of the page in slot @slot, or NULL when the VM is gone. */
static __always_inline void *page_elem(__u32 slot, __u32 idx)
{
	void *page = bpf_map_lookup_elem(&pages, &slot);

	return page ? bpf_map_lookup_elem(page, &idx) : NULL;
}

#endif /* __PVLI_MAPS_BPF_H */
