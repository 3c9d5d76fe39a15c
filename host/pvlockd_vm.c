// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockd: one VM's page and registration (pvlockd_vm.h).
 *
 * A VM's page is an mmapable array map, created here, pinned at
 * PVLOCKD_PIN_VMS/NAME/page for QEMU's memory-backend-bpf, and put into
 * slot SLOT of the pages map-in-map so that the BPF program writes into
 * it.  Its vCPU threads go into the vcpus map, its options into vm_opts.
 * What a restarted pvlockd needs to re-adopt the VM is kept in
 * PVLOCKD_META_DIR/NAME.meta (vm_meta.c).
 *
 * The whole page is guest-writable (it is the guest's BAR), header and
 * host halves included: pvlockd never reads a value there that it acts
 * on, except to show it in status under "page".
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
#include "pvlockd_fault.h"
#include "pvlockd_log.h"
#include "pvlockd_proto.h"
#include "pvlockd_vm.h"

#define PAGE_ELEM_SIZE	sizeof(struct pvli_vcpu)

static void pin_path(char *buf, size_t len, const char *name, const char *leaf)
{
	snprintf(buf, len, PVLOCKD_PIN_VMS "/%s%s%s", name, leaf ? "/" : "", leaf ? leaf : "");
}

void vm_pin_path(char *buf, size_t len, const char *name)
{
	pin_path(buf, len, name, "page");
}

void vm_init(struct pvlockd_vm *vm)
{
	uint32_t gen = vm->gen + 1;

	memset(vm, 0, sizeof(*vm));
	vm->gen = gen;
	vm->page_fd = vm->pidfd = -1;
}

/* The BPF map id of @fd, or 0. */
static uint32_t map_id_of(int fd)
{
	struct bpf_map_info info = {};
	uint32_t len = sizeof(info);

	return bpf_map_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/* The page map id in @slot of the pages map, or 0 for an empty slot. */
static uint32_t slot_map_id(const struct pvlockd_maps *maps, uint32_t slot)
{
	uint32_t id;

	return bpf_map_lookup_elem(maps->pages, &slot, &id) ? 0 : id;
}

/* Delete every vcpus entry that points at @slot (orphans: the slot is unowned). */
static int sweep_slot(const struct pvlockd_maps *maps, uint32_t slot)
{
	uint32_t key, next, *doomed, n = 0;
	struct pvli_vcpu_ref ref;
	void *prev = NULL;

	doomed = calloc(PVLI_MAX_VCPU_THREADS, sizeof(*doomed));
	if (!doomed)
		return -ENOMEM;
	while (n < PVLI_MAX_VCPU_THREADS && !bpf_map_get_next_key(maps->vcpus, prev, &next)) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(maps->vcpus, &key, &ref) && ref.vm_slot == slot)
			doomed[n++] = key;
	}
	for (uint32_t i = 0; i < n; i++)
		bpf_map_delete_elem(maps->vcpus, &doomed[i]);
	free(doomed);
	return n;
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

uint32_t vm_page_elems(uint32_t nr_vcpus)
{
	uint32_t n = PVLI_PAGE_ELEMS_MIN;

	/* A power of two: ivshmem BARs must be. */
	while (n < nr_vcpus + 1)
		n *= 2;
	return n;
}

/*
 * Line 0 of the header, pvlockd's own, magic last: on a new (zeroed) page
 * a guest never validates half of it.  On a page re-adopted, the values
 * are the ones already there unless the guest changed them, so a guest
 * reading meanwhile does not see the page go away.
 */
static void header_write(struct pvlockd_vm *vm, uint32_t generation)
{
	struct pvli_page_hdr *h = vm->page;

	h->abi_major = PVLI_ABI_MAJOR;
	h->abi_minor = PVLI_ABI_MINOR;
	h->hdr_size = PVLI_HDR_SIZE;
	h->page_size = vm->page_bytes;
	h->nr_vcpus = vm->meta.nr_vcpus;
	h->vcpu_stride = PVLI_VCPU_STRIDE;
	h->accel = vm->meta.accel;
	h->generation = generation;
	h->flags = 0;
	memset(h->__pad0, 0, sizeof(h->__pad0));
	vm_clock_update(vm);
	__atomic_store_n(&h->magic, PVLI_PAGE_MAGIC, __ATOMIC_RELEASE);
}

static void header_init(struct pvlockd_vm *vm, uint32_t generation)
{
	memset(vm->page, 0, vm->page_bytes);
	header_write(vm, generation);
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
	uint32_t elems = vm_page_elems(vm->meta.nr_vcpus);
	char path[256];
	int r;

	/*
	 * The slot is free in pvlockd's table; whatever the BPF maps still
	 * hold there is an orphan of a VM nobody knows, and its threads would
	 * write into the new page: remove it first.
	 */
	if (slot_map_id(maps, vm->meta.slot)) {
		bpf_map_delete_elem(maps->pages, &vm->meta.slot);
		log_warn("slot %u held an orphaned page; removed", vm->meta.slot);
	}
	r = sweep_slot(maps, vm->meta.slot);
	if (r > 0)
		log_warn("slot %u had %d orphaned vCPU registrations; removed", vm->meta.slot, r);

	vm->page_bytes = (size_t)elems * PAGE_ELEM_SIZE;
	vm->page_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "pvli_page", 4,
				     PAGE_ELEM_SIZE, elems, &opts);
	if (vm->page_fd < 0) {
		r = -errno;
		seterr(err, errlen, "cannot create the page map: %s", strerror(-r));
		return r;
	}
	vm->map_id = map_id_of(vm->page_fd);
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
	if (vm_set_opts(vm, maps, 0)) {
		r = -errno;
		seterr(err, errlen, "cannot set the options of slot %u: %s", vm->meta.slot,
		       strerror(-r));
		goto err_unpin;
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
			vm_detach_tids(vm, maps);
			return r;
		}
		vm->meta.tids[i] = tids[i];
	}
	return 0;
}

/* Delete @tid's registration if it still says vCPU @vcpu of @slot. */
static void delete_if_ours(const struct pvlockd_maps *maps, uint32_t tid, uint32_t slot,
			   uint32_t vcpu)
{
	struct pvli_vcpu_ref ref;

	/*
	 * pvlockd is the only one to add entries and runs one request at a
	 * time; the BPF program only deletes them (at a thread's exit).  So
	 * nothing can put another VM's entry under @tid between the lookup
	 * and the delete: the pair is a compare-and-delete.
	 */
	if (!bpf_map_lookup_elem(maps->vcpus, &tid, &ref) && ref.vm_slot == slot &&
	    ref.vcpu == vcpu)
		bpf_map_delete_elem(maps->vcpus, &tid);
}

void vm_detach_tids(struct pvlockd_vm *vm, const struct pvlockd_maps *maps)
{
	for (uint32_t i = 0; i < vm->meta.nr_vcpus && i < PVLI_MAX_VCPUS_PER_VM; i++) {
		if (vm->meta.tids[i])
			delete_if_ours(maps, vm->meta.tids[i], vm->meta.slot, i);
		vm->meta.tids[i] = 0;
	}
}

int vm_set_opts(const struct pvlockd_vm *vm, const struct pvlockd_maps *maps,
		uint64_t quota_top_cgroup)
{
	struct pvli_vm_opts o = {
		.quota_top_cgroup = quota_top_cgroup,
		.flags = vm->meta.opts & PVLI_VM_OPTS_ALL,
	};

	return bpf_map_update_elem(maps->vm_opts, &vm->meta.slot, &o, BPF_ANY) ? -errno : 0;
}

void vm_teardown(struct pvlockd_vm *vm, const struct pvlockd_maps *maps)
{
	struct pvli_page_hdr *h = vm->page;
	char path[256];

	/*
	 * The record first: a pvlockd killed in the middle of this leaves a
	 * pin without a record, which a restart adopts from the registrations
	 * if they are all still there and removes otherwise.  A record left
	 * behind would be re-adopted as attached, its registrations gone.
	 */
	vm_meta_path(path, sizeof(path), vm->meta.name);
	unlink(path);
	vm_detach_tids(vm, maps);
	pvlockd_fault_point("teardown-detached");
	/* The slot and its options only if they are still this VM's. */
	if (vm->map_id && slot_map_id(maps, vm->meta.slot) == vm->map_id) {
		struct pvli_vm_opts none = {};

		bpf_map_delete_elem(maps->pages, &vm->meta.slot);
		bpf_map_update_elem(maps->vm_opts, &vm->meta.slot, &none, BPF_ANY);
	}
	if (h)	/* a guest still reading sees the page go away */
		__atomic_store_n(&h->magic, 0, __ATOMIC_RELEASE);
	pin_path(path, sizeof(path), vm->meta.name, "page");
	unlink(path);
	pin_path(path, sizeof(path), vm->meta.name, NULL);
	rmdir(path);
	if (vm->page)
		munmap(vm->page, vm->page_bytes);
	if (vm->page_fd >= 0)
		close(vm->page_fd);
	if (vm->pidfd >= 0)
		close(vm->pidfd);
	vm_init(vm);
}

/* ---- persistence across pvlockd restarts --------------------------------------- */

int vm_adopt_page(struct pvlockd_vm *vm, uint32_t generation, char *err, size_t errlen)
{
	struct bpf_map_info info = {};
	uint32_t len = sizeof(info);
	char path[256];
	int r;

	pin_path(path, sizeof(path), vm->meta.name, "page");
	vm->page_fd = bpf_obj_get(path);
	if (vm->page_fd < 0) {
		r = -errno;
		seterr(err, errlen, "cannot open its page pinned at %s: %s", path, strerror(-r));
		return r;
	}
	/* What pvlockd made, judged by the kernel's view of the map, not by the page. */
	if (bpf_map_get_info_by_fd(vm->page_fd, &info, &len) ||
	    info.type != BPF_MAP_TYPE_ARRAY || !(info.map_flags & BPF_F_MMAPABLE) ||
	    info.value_size != PAGE_ELEM_SIZE ||
	    info.max_entries != vm_page_elems(vm->meta.nr_vcpus)) {
		seterr(err, errlen, "%s is not a page for %u vCPUs", path, vm->meta.nr_vcpus);
		return -EINVAL;
	}
	vm->map_id = info.id;
	vm->page_bytes = (size_t)info.max_entries * PAGE_ELEM_SIZE;
	r = map_page(vm);
	if (r) {
		seterr(err, errlen, "cannot mmap its page: %s", strerror(-r));
		return r;
	}
	/*
	 * The BPF side never stopped.  The header is rewritten, not checked:
	 * the guest can write anything there, and a page that pvlockd made
	 * must not be dropped because its guest scribbled on it.
	 */
	header_write(vm, generation);
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

/* One vCPU's JSON: host-private counters apart from what the page says. */
static void vcpu_json(FILE *out, uint32_t i, uint32_t tid, const struct pvli_vcpu_counters *c,
		      const struct pvli_vcpu_host *r, const struct pvli_vcpu_guest *g)
{
	fprintf(out, "%s{\"vcpu\":%u,\"tid\":%u,"
		"\"counters\":{\"switch_out\":%llu,\"switch_in\":%llu,\"preempted\":%llu,"
		"\"wakeups\":%llu,\"lhp\":%llu,\"lwp\":%llu,\"racing_writers\":%llu,"
		"\"dropped\":%llu,\"missing_page\":%llu,\"out_not_running\":%llu,"
		"\"in_running\":%llu,\"repaired\":%llu},",
		i ? "," : "", i, tid,
		(unsigned long long)c->switch_out, (unsigned long long)c->switch_in,
		(unsigned long long)c->preempted, (unsigned long long)c->wakeups,
		(unsigned long long)c->lhp, (unsigned long long)c->lwp,
		(unsigned long long)c->racing_writers, (unsigned long long)c->dropped,
		(unsigned long long)c->missing_page, (unsigned long long)c->out_not_running,
		(unsigned long long)c->in_running, (unsigned long long)c->repaired);
	/* The page, as it is now: guest-writable, shown as read, never acted on. */
	fprintf(out, "\"page\":{\"host\":{\"state\":\"%s\",\"seq\":%u,\"last_switch_ns\":%llu,"
		"\"quota_ns\":%lld,\"steal_ns\":%llu,\"run_ns\":%llu,\"preempt_count\":%u,"
		"\"pcpu\":%u,\"lhp_count\":%u,\"lwp_count\":%u},"
		"\"guest\":{\"hold_depth\":%u,\"flags\":%u,\"waiting\":%s,\"kernel_hold_depth\":%u,"
		"\"kernel_waiting\":%u}}}",
		state_name(r->state), r->seq, (unsigned long long)r->last_switch_ns,
		r->quota_ns == PVLI_QUOTA_UNKNOWN ? -1LL : (long long)r->quota_ns,
		(unsigned long long)r->steal_ns, (unsigned long long)r->run_ns, r->preempt_count,
		r->pcpu, r->lhp_count, r->lwp_count,
		__atomic_load_n(&g->hold_depth, __ATOMIC_RELAXED),
		__atomic_load_n(&g->flags, __ATOMIC_RELAXED),
		__atomic_load_n(&g->wait_lock, __ATOMIC_RELAXED) ? "true" : "false",
		__atomic_load_n(&g->kernel_hold_depth, __ATOMIC_RELAXED),
		__atomic_load_n(&g->kernel_waiting, __ATOMIC_RELAXED));
}

void vm_status(FILE *out, const struct pvlockd_vm *vm, const struct pvlockd_maps *maps,
	       bool json, bool first)
{
	const struct pvli_vcpu *rec = (const void *)((const char *)vm->page + PVLI_HDR_SIZE);
	const struct pvli_page_hdr *h = vm->page;
	const char *att = vm_attached(vm) ? "attached" : vm->attach ? "attaching" :
			  "not attached";
	char pin[256];

	pin_path(pin, sizeof(pin), vm->meta.name, "page");
	if (json)
		fprintf(out, "%s{\"name\":\"%s\",\"slot\":%u,\"accel\":\"%s\",\"vcpus_registered\":%u,"
			"\"pin\":\"%s\",\"map_id\":%u,\"attached\":%s,\"state\":\"%s\","
			"\"qemu_pid\":%d,\"opts\":{\"pcpu\":%s,\"quota_ancestors\":%s},"
			"\"page\":{\"heartbeat_ns\":%llu},\"vcpus\":[",
			first ? "" : ",", vm->meta.name, vm->meta.slot, accel_name(vm->meta.accel),
			vm->meta.nr_vcpus, pin, vm->map_id, vm_attached(vm) ? "true" : "false", att,
			vm->meta.qemu_pid, vm->meta.opts & PVLI_VM_PCPU ? "true" : "false",
			vm->meta.opts & PVLI_VM_QUOTA_ANCESTORS ? "true" : "false",
			(unsigned long long)(h ? __atomic_load_n(&h->heartbeat_ns, __ATOMIC_RELAXED) : 0));
	else
		fprintf(out, "VM %s (slot %u, %s, %u vCPUs, %s)\n  page %s\n"
			"  %-4s %-8s %-10s %10s %10s %12s %12s %6s %6s %12s %4s\n",
			vm->meta.name, vm->meta.slot, accel_name(vm->meta.accel), vm->meta.nr_vcpus,
			att, pin, "vCPU", "TID", "STATE", "SWITCHES", "PREEMPTS", "STEAL_MS",
			"RUN_MS", "LHP", "LWP", "QUOTA_US", "PCPU");
	for (uint32_t i = 0; h && i < vm->meta.nr_vcpus; i++) {
		struct pvli_vcpu_counters c = {};
		struct pvli_vcpu_host r;
		char quota[24] = "-", pcpu[12] = "-";
		uint32_t key = vm->meta.slot * PVLI_MAX_VCPUS_PER_VM + i;

		read_host(&rec[i].host, &r);
		bpf_map_lookup_elem(maps->counters, &key, &c);
		if (json) {
			vcpu_json(out, i, vm->meta.tids[i], &c, &r, &rec[i].guest);
			continue;
		}
		if (r.quota_ns != PVLI_QUOTA_UNKNOWN)
			snprintf(quota, sizeof(quota), "%.1f", r.quota_ns / 1e3);
		if (r.pcpu != PVLI_PCPU_UNKNOWN)
			snprintf(pcpu, sizeof(pcpu), "%u", r.pcpu);
		fprintf(out, "  %-4u %-8u %-10s %10llu %10llu %12.1f %12.1f %6llu %6llu %12s %4s\n",
			i, vm->meta.tids[i], state_name(r.state),
			(unsigned long long)c.switch_out, (unsigned long long)c.preempted,
			r.steal_ns / 1e6, r.run_ns / 1e6, (unsigned long long)c.lhp,
			(unsigned long long)c.lwp, quota, pcpu);
	}
	if (json)
		fprintf(out, "]}");
}
