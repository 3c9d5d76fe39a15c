// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockd: one VM's page and registration (pvlockd_vm.h).
 *
 * A VM's page is an mmapable array map, created here, pinned at
 * PVLOCKD_PIN_VMS/NAME/page for QEMU's memory-backend-bpf, and put into
 * slot SLOT of the pages map-in-map so that the BPF program writes into
 * it.  Its vCPU threads go into the vcpus map.  What a restarted pvlockd
 * needs to re-adopt the VM is kept in PVLOCKD_META_DIR/NAME.meta
 * (vm_meta.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "errbuf.h"
#include "pvlockd_proto.h"
#include "pvlockd_vm.h"

#define PAGE_ELEM_SIZE	sizeof(struct pvli_vcpu)

static void pin_path(char *buf, size_t len, const char *name, const char *leaf)
{
	snprintf(buf, len, PVLOCKD_PIN_VMS "/%s%s%s", name, leaf ? "/" : "", leaf ? leaf : "");
}

/* ---- clock: host TSC -> CLOCK_MONOTONIC ------------------------------------ */

/*
 * Under TCG the guest's RDTSC returns the host TSC, so publishing the
 * host's TSC -> CLOCK_MONOTONIC line lets the guest project quotas onto
 * its own TSC.  The slope is measured from pvlockd's first update of a
 * TCG VM's page (which waits 20 ms for a first estimate), so it gets more
 * exact the longer pvlockd runs; the base point is refreshed on every
 * update.
 */
static struct {
	uint64_t tsc0, ns0;
} clk;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* A (tsc, ns) pair read as close together as the two clocks allow. */
static void clock_pair(uint64_t *tsc, uint64_t *ns)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 5; i++) {
		uint64_t a = mono_ns(), t = __builtin_ia32_rdtsc(), b = mono_ns();

		if (b - a < best) {
			best = b - a;
			*tsc = t;
			*ns = a + (b - a) / 2;
		}
	}
}

static uint64_t clock_mult(uint64_t tsc, uint64_t ns)
{
	if (!clk.tsc0) {
		clock_pair(&clk.tsc0, &clk.ns0);
		usleep(20000);
		clock_pair(&tsc, &ns);
	}
	if (tsc <= clk.tsc0)
		return 0;
	return (uint64_t)(((unsigned __int128)(ns - clk.ns0) << 32) / (tsc - clk.tsc0));
}

void vm_clock_update(struct pvlockd_vm *vm)
{
	struct pvli_page_hdr *h = vm->page;
	uint64_t tsc, ns, mult;

	if (!h)
		return;
	clock_pair(&tsc, &ns);
	/* KVM offsets and scales the guest TSC; pvlockd does not know how yet. */
	mult = vm->meta.accel == PVLI_ACCEL_TCG ? clock_mult(tsc, ns) : 0;
	__atomic_fetch_add(&h->clock_seq, 1, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	h->clock_shift = 32;
	h->clock_mult = mult;
	h->clock_base_tsc = tsc;
	h->clock_base_ns = ns;
	__atomic_fetch_add(&h->clock_seq, 1, __ATOMIC_RELEASE);
}

/* ---- page ----------------------------------------------------------------- */

static uint32_t page_elems(uint32_t nr_vcpus)
{
	uint32_t n = PVLI_PAGE_ELEMS_MIN;

	/* A power of two: ivshmem BARs must be. */
	while (n < nr_vcpus + 1)
		n *= 2;
	return n;
}

static void header_init(struct pvlockd_vm *vm, uint32_t generation)
{
	struct pvli_page_hdr *h = vm->page;

	memset(vm->page, 0, vm->page_bytes);
	h->abi_major = PVLI_ABI_MAJOR;
	h->abi_minor = PVLI_ABI_MINOR;
	h->hdr_size = PVLI_HDR_SIZE;
	h->page_size = vm->page_bytes;
	h->nr_vcpus = vm->meta.nr_vcpus;
	h->vcpu_stride = PVLI_VCPU_STRIDE;
	h->accel = vm->meta.accel;
	h->generation = generation;
	vm_clock_update(vm);
	/* Magic last: a guest never validates a half-written header. */
	__atomic_store_n(&h->magic, PVLI_PAGE_MAGIC, __ATOMIC_RELEASE);
}

static int map_page(struct pvlockd_vm *vm)
{
	vm->page = mmap(NULL, vm->page_bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
			vm->page_fd, 0);
	if (vm->page == MAP_FAILED) {
		vm->page = NULL;
		return -errno;
	}
	return 0;
}

int vm_page_create(struct pvlockd_vm *vm, const struct pvlockd_maps *maps,
		   uint32_t generation, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts,
		    .map_flags = BPF_F_MMAPABLE | BPF_F_INNER_MAP);
	uint32_t elems = page_elems(vm->meta.nr_vcpus);
	char path[256];
	int r;

	vm->page_bytes = (size_t)elems * PAGE_ELEM_SIZE;
	vm->page_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "pvli_page", 4,
				     PAGE_ELEM_SIZE, elems, &opts);
	if (vm->page_fd < 0) {
		r = -errno;
		seterr(err, errlen, "cannot create the page map: %s", strerror(-r));
		return r;
	}
	r = map_page(vm);
	if (r) {
		seterr(err, errlen, "cannot mmap the page map: %s", strerror(-r));
		goto err_close;
	}
	header_init(vm, generation);

	pin_path(path, sizeof(path), vm->meta.name, NULL);
	if (mkdir(path, 0755) && errno != EEXIST) {
		r = -errno;
		seterr(err, errlen, "cannot create %s: %s", path, strerror(-r));
		goto err_unmap;
	}
	pin_path(path, sizeof(path), vm->meta.name, "page");
	if (bpf_obj_pin(vm->page_fd, path)) {
		r = -errno;
		seterr(err, errlen, "cannot pin the page at %s: %s", path, strerror(-r));
		goto err_rmdir;
	}
	/* The slot's counters may hold a previous VM's counts. */
	for (uint32_t i = 0; i < PVLI_MAX_VCPUS_PER_VM; i++) {
		struct pvli_vcpu_counters zero = {};
		uint32_t key = vm->meta.slot * PVLI_MAX_VCPUS_PER_VM + i;

		bpf_map_update_elem(maps->counters, &key, &zero, BPF_ANY);
	}
	if (bpf_map_update_elem(maps->pages, &vm->meta.slot, &vm->page_fd, BPF_ANY)) {
		r = -errno;
		seterr(err, errlen, "cannot install the page in slot %u: %s", vm->meta.slot,
		       strerror(-r));
		goto err_unpin;
	}
	return 0;

err_unpin:
	unlink(path);
err_rmdir:
	pin_path(path, sizeof(path), vm->meta.name, NULL);
	rmdir(path);
err_unmap:
	munmap(vm->page, vm->page_bytes);
	vm->page = NULL;
err_close:
	close(vm->page_fd);
	vm->page_fd = -1;
	return r;
}

int vm_attach_tids(struct pvlockd_vm *vm, const struct pvlockd_maps *maps,
		   const uint32_t *tids, int n, char *err, size_t errlen)
{
	struct pvli_vcpu *rec = (struct pvli_vcpu *)((char *)vm->page + PVLI_HDR_SIZE);

	if ((uint32_t)n != vm->meta.nr_vcpus) {
		seterr(err, errlen, "QEMU reports %d vCPUs, the VM was registered with %u",
		       n, vm->meta.nr_vcpus);
		return -EINVAL;
	}
	for (int i = 0; i < n; i++) {
		struct pvli_vcpu_ref ref = { .vm_slot = vm->meta.slot, .vcpu = i };

		/* Until its first switch the state is unknown, not "running". */
		rec[i].host.state = PVLI_STATE_UNKNOWN;
		if (bpf_map_update_elem(maps->vcpus, &tids[i], &ref, BPF_NOEXIST)) {
			int r = -errno;

			seterr(err, errlen, "cannot register vCPU %d thread %u: %s", i,
			       tids[i], r == -EEXIST ? "already registered" : strerror(-r));
			for (int j = 0; j < i; j++)
				bpf_map_delete_elem(maps->vcpus, &tids[j]);
			return r;
		}
		vm->meta.tids[i] = tids[i];
	}
	return 0;
}

void vm_teardown(struct pvlockd_vm *vm, const struct pvlockd_maps *maps)
{
	struct pvli_page_hdr *h = vm->page;
	char path[256];

	for (uint32_t i = 0; i < vm->meta.nr_vcpus; i++)
		if (vm->meta.tids[i])
			bpf_map_delete_elem(maps->vcpus, &vm->meta.tids[i]);
	bpf_map_delete_elem(maps->pages, &vm->meta.slot);
	if (h)	/* a guest still reading sees the page go away */
		__atomic_store_n(&h->magic, 0, __ATOMIC_RELEASE);
	pin_path(path, sizeof(path), vm->meta.name, "page");
	unlink(path);
	pin_path(path, sizeof(path), vm->meta.name, NULL);
	rmdir(path);
	vm_meta_path(path, sizeof(path), vm->meta.name);
	unlink(path);
	if (vm->page)
		munmap(vm->page, vm->page_bytes);
	if (vm->page_fd >= 0)
		close(vm->page_fd);
	if (vm->qmp_fd >= 0)
		close(vm->qmp_fd);
	memset(vm, 0, sizeof(*vm));
	vm->page_fd = vm->qmp_fd = -1;
}

/* ---- persistence across pvlockd restarts --------------------------------------- */

int vm_adopt_page(struct pvlockd_vm *vm, uint32_t generation)
{
	struct pvli_page_hdr *h;
	char path[256];
	int r;

	pin_path(path, sizeof(path), vm->meta.name, "page");
	vm->page_fd = bpf_obj_get(path);
	if (vm->page_fd < 0)
		return -errno;
	vm->page_bytes = (size_t)page_elems(vm->meta.nr_vcpus) * PAGE_ELEM_SIZE;
	r = map_page(vm);
	if (r)
		return r;
	h = vm->page;
	if (h->magic != PVLI_PAGE_MAGIC || h->nr_vcpus != vm->meta.nr_vcpus)
		return -EINVAL;
	/* The BPF side never stopped; only tell the guest the daemon changed. */
	h->generation = generation;
	vm_clock_update(vm);
	return 0;
}

/* ---- status ------------------------------------------------------------------ */

static const char *state_name(uint32_t s)
{
	static const char *names[] = { "unknown", "running", "preempted", "idle" };

	return s <= PVLI_STATE_MAX ? names[s] : "bad";
}

/* A consistent copy of a host record (it changes under our feet). */
static void read_host(const struct pvli_vcpu_host *src, struct pvli_vcpu_host *dst)
{
	uint32_t seq;

	for (int tries = 0; tries < 1000; tries++) {
		seq = __atomic_load_n(&src->seq, __ATOMIC_ACQUIRE);
		if (seq & 1)
			continue;
		memcpy(dst, (const void *)src, sizeof(*dst));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&src->seq, __ATOMIC_RELAXED) == seq)
			return;
	}
	memcpy(dst, (const void *)src, sizeof(*dst));
}

void vm_status(FILE *out, const struct pvlockd_vm *vm, const struct pvlockd_maps *maps,
	       bool json, bool first)
{
	const struct pvli_vcpu *rec = (const void *)((const char *)vm->page + PVLI_HDR_SIZE);
	const struct pvli_page_hdr *h = vm->page;
	char pin[256];

	pin_path(pin, sizeof(pin), vm->meta.name, "page");
	if (json)
		fprintf(out, "%s{\"name\":\"%s\",\"slot\":%u,\"accel\":\"%s\",\"pin\":\"%s\","
			"\"attached\":%s,\"heartbeat_ns\":%llu,\"vcpus\":[",
			first ? "" : ",", vm->meta.name, vm->meta.slot, accel_name(vm->meta.accel), pin,
			vm->qmp_fd >= 0 ? "true" : "false",
			(unsigned long long)(h ? h->heartbeat_ns : 0));
	else
		fprintf(out, "VM %s (slot %u, %s, %u vCPUs, %s)\n  page %s\n"
			"  %-4s %-8s %-10s %10s %10s %12s %12s %6s %6s %12s %4s\n",
			vm->meta.name, vm->meta.slot, accel_name(vm->meta.accel), vm->meta.nr_vcpus,
			vm->qmp_fd >= 0 ? "attached" : "not attached", pin,
			"vCPU", "TID", "STATE", "SWITCHES", "PREEMPTS", "STEAL_MS",
			"RUN_MS", "LHP", "LWP", "QUOTA_US", "PCPU");
	for (uint32_t i = 0; h && i < vm->meta.nr_vcpus; i++) {
		struct pvli_vcpu_counters c = {};
		struct pvli_vcpu_host r;
		char quota[24] = "-";
		uint32_t key = vm->meta.slot * PVLI_MAX_VCPUS_PER_VM + i;

		read_host(&rec[i].host, &r);
		bpf_map_lookup_elem(maps->counters, &key, &c);
		if (!json && r.quota_ns != PVLI_QUOTA_UNKNOWN)
			snprintf(quota, sizeof(quota), "%.1f", r.quota_ns / 1e3);
		if (json)
			fprintf(out, "%s{\"vcpu\":%u,\"tid\":%u,\"state\":\"%s\",\"seq\":%u,"
				"\"switch_out\":%llu,\"switch_in\":%llu,\"preempted\":%llu,\"wakeups\":%llu,"
				"\"page_preempt_count\":%u,\"steal_ns\":%llu,\"run_ns\":%llu,"
				"\"lhp\":%llu,\"lwp\":%llu,\"quota_ns\":%lld,\"pcpu\":%u,"
				"\"racing_writers\":%llu,\"dropped\":%llu,\"missing_page\":%llu,"
				"\"out_not_running\":%llu,\"in_running\":%llu,\"repaired\":%llu,"
				"\"guest_hold_depth\":%u,\"guest_waiting\":%s}",
				i ? "," : "", i, vm->meta.tids[i], state_name(r.state), r.seq,
				(unsigned long long)c.switch_out, (unsigned long long)c.switch_in,
				(unsigned long long)c.preempted,
				(unsigned long long)c.wakeups, r.preempt_count,
				(unsigned long long)r.steal_ns, (unsigned long long)r.run_ns,
				(unsigned long long)c.lhp, (unsigned long long)c.lwp,
				r.quota_ns == PVLI_QUOTA_UNKNOWN ? -1LL : (long long)r.quota_ns,
				r.pcpu, (unsigned long long)c.racing_writers,
				(unsigned long long)c.dropped, (unsigned long long)c.missing_page,
				(unsigned long long)c.out_not_running,
				(unsigned long long)c.in_running,
				(unsigned long long)c.repaired,
				/* the guest's half, as it is now: untrusted, shown as is */
				__atomic_load_n(&rec[i].guest.hold_depth, __ATOMIC_RELAXED),
				__atomic_load_n(&rec[i].guest.wait_lock, __ATOMIC_RELAXED) ?
					"true" : "false");
		else
			fprintf(out, "  %-4u %-8u %-10s %10llu %10llu %12.1f %12.1f %6llu %6llu %12s %4u\n",
				i, vm->meta.tids[i], state_name(r.state),
				(unsigned long long)c.switch_out, (unsigned long long)c.preempted,
				r.steal_ns / 1e6, r.run_ns / 1e6, (unsigned long long)c.lhp,
				(unsigned long long)c.lwp,
				quota, r.pcpu);
	}
	if (json)
		fprintf(out, "]}");
}
