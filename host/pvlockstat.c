// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockstat: per VM and per vCPU, how often the host preempted a vCPU that
 * held a guest lock (LHP) or waited for one (LWP), how long preempted
 * holders stayed off-CPU, steal, and the run-queue wait of vCPU threads.
 *
 * The BPF half (bpf/host/pvlockstat.bpf.c) counts into a hash keyed by host
 * thread id; this half names the threads with the VM records pvlockd keeps
 * in RUN_DIR/vms/NAME.meta, prints per interval what changed, and forgets
 * the threads of VMs that went away after printing their last figures.
 *
 * As a Prometheus exporter (--listen, --textfile) it prints no intervals:
 * each scrape or write renders the totals since it started, with the run
 * and steal clocks read from each VM's page (pvlockstat_prom.h).
 */
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "kernel_probe.h"
#include "pvlockd_proto.h"
#include "pvlockstat.h"
#include "pvlockstat.skel.h"
#include "pvlockstat_prom.h"
#include "prom_export.h"
#include "tool_helpers.h"
#include "vm_meta.h"

static struct {
	struct tool_env tool;	/* -j -T -v [interval [count]] */
	const char *vm;
	bool hist;
	const char *listen;	/* exporter: serve /metrics here */
	const char *textfile;	/* exporter: write DIR/pvlockstat.prom */
} env;

/* node_exporter's textfile collector reads DIR/\*.prom. */
#define TEXTFILE_NAME		"pvlockstat.prom"
#define TEXTFILE_INTERVAL_S	15

const char *argp_program_version = "pvlockstat 0.1";
static const char doc[] =
"pvlockstat: lock-holder and lock-waiter preemption of vCPUs, per VM.\n"
"\n"
"Counts, for every vCPU thread pvlockd has registered: preemptions, those\n"
"that hit a lock holder (LHP) or a lock waiter (LWP) in the guest (as the\n"
"guest's half of the shared page said at that instant), the off-CPU time of\n"
"preempted lock holders, steal (runnable, not running) and run-queue waits.\n"
"Needs pvlockd running (its pinned maps) and root.\n"
"\n"
"USAGE: pvlockstat [-j] [-T] [-H] [--vm NAME] [interval [count]]\n"
"       pvlockstat --listen [HOST:]PORT [--vm NAME]\n"
"       pvlockstat --textfile DIR [--vm NAME] [interval [count]]\n"
"\n"
"Without an interval it counts until Ctrl-C and prints totals.  With one it\n"
"prints what happened in each interval.  As a Prometheus exporter it serves\n"
"the totals at http://HOST:PORT/metrics, or writes them every interval\n"
"(default 15 s) to DIR/" TEXTFILE_NAME " for node_exporter's textfile\n"
"collector.\n"
"\n"
"EXAMPLES:\n"
"    pvlockstat              # totals at Ctrl-C\n"
"    pvlockstat 1            # every second\n"
"    pvlockstat -H 5 1       # one 5 s interval, with histograms\n"
"    pvlockstat -j --vm web 1   # JSON lines, VM 'web' only\n"
"    pvlockstat --listen :9477  # Prometheus scrapes http://HOST:9477/metrics\n"
"    pvlockstat --textfile /var/lib/prometheus/node-exporter\n";

static const struct argp_option opts[] = {
	{ "vm", 'm', "NAME", 0, "only the VM registered as NAME", 0 },
	{ "hist", 'H', NULL, 0, "log2 histograms per VM (JSON always has them)", 0 },
	{ "listen", 'L', "[HOST:]PORT", 0, "Prometheus exporter: serve /metrics here", 0 },
	{ "textfile", 'F', "DIR", 0, "Prometheus exporter: write DIR/" TEXTFILE_NAME
	  " every interval", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &env.tool;
		break;
	case 'm':
		if (!*arg || strlen(arg) > PVLOCKD_NAME_MAX || strchr(arg, '/'))
			argp_error(state, "invalid VM name '%s'", arg);
		env.vm = arg;
		break;
	case 'H':
		env.hist = true;
		break;
	case 'L':
		env.listen = arg;
		break;
	case 'F':
		env.textfile = arg;
		break;
	case ARGP_KEY_END:
		if (env.listen && env.textfile)
			argp_error(state, "--listen and --textfile exclude each other");
		if ((env.listen || env.textfile) && (env.tool.json || env.hist || env.tool.timestamp))
			argp_error(state, "-j, -H and -T are for the tables, not the exporter");
		if (env.listen && env.tool.interval)
			argp_error(state, "--listen takes no interval: each scrape reads the counters");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}


/* ---- the VMs pvlockd knows ------------------------------------------------ */

struct vm_list {
	int n;
	struct vm_meta vm[PVLI_MAX_VMS];
};

static int add_vm(const char *name, void *arg)
{
	struct vm_list *l = arg;

	if (vm_meta_load(name, &l->vm[l->n]) == 0)
		l->n++;
	return l->n == PVLI_MAX_VMS;
}

static void load_vms(struct vm_list *l)
{
	l->n = 0;
	vm_meta_for_each(add_vm, l);
}

/* The VM that registered thread @tid in slot @slot, or NULL (it is gone). */
static const struct vm_meta *vm_of(const struct vm_list *l, uint32_t tid, uint32_t slot)
{
	for (int i = 0; i < l->n; i++) {
		if (l->vm[i].slot != slot)
			continue;
		for (uint32_t c = 0; c < l->vm[i].nr_vcpus; c++)
			if (l->vm[i].tids[c] == tid)
				return &l->vm[i];
	}
	return NULL;
}

/* ---- per-thread figures: this interval = now - what was printed last --------- */

struct thread {
	uint32_t tid;
	bool gone;			/* its VM went away: print once, then forget */
	char vm[PVLOCKD_NAME_MAX + 1];
	struct pvls_vcpu now, last;
};

static struct thread threads[PVLI_MAX_VCPU_THREADS];
static int nr_threads;

static struct thread *thread_get(uint32_t tid)
{
	for (int i = 0; i < nr_threads; i++)
		if (threads[i].tid == tid)
			return &threads[i];
	if (nr_threads == PVLI_MAX_VCPU_THREADS)
		return NULL;
	memset(&threads[nr_threads], 0, sizeof(threads[0]));
	threads[nr_threads].tid = tid;
	return &threads[nr_threads++];
}

static void collect(int stats_fd, const struct vm_list *vms)
{
	uint32_t key, next, *prev = NULL;
	struct pvls_vcpu v;

	while (bpf_map_get_next_key(stats_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(stats_fd, &key, &v))
			continue;
		struct thread *t = thread_get(key);
		const struct vm_meta *vm = vm_of(vms, key, v.vm_slot);

		if (!t)
			continue;
		t->now = v;
		if (vm)
			snprintf(t->vm, sizeof(t->vm), "%s", vm->name);
		else if (!t->vm[0])
			snprintf(t->vm, sizeof(t->vm), "(slot %u)", v.vm_slot);
		t->gone = !vm;
	}
}

/* After printing: gone threads leave the map and the table. */
static void retire(int stats_fd)
{
	int j = 0;

	for (int i = 0; i < nr_threads; i++) {
		if (threads[i].gone) {
			bpf_map_delete_elem(stats_fd, &threads[i].tid);
			continue;
		}
		threads[i].last = threads[i].now;
		threads[j++] = threads[i];
	}
	nr_threads = j;
}

static int cmp_thread(const void *a, const void *b)
{
	const struct thread *x = a, *y = b;
	int c = strcmp(x->vm, y->vm);

	return c ? c : (int)x->now.vcpu - (int)y->now.vcpu;
}

/* d = t->now - t->last, counters and histograms. */
static void delta(const struct thread *t, struct pvls_vcpu *d)
{
	const struct pvls_vcpu *n = &t->now, *l = &t->last;

	*d = *n;
	d->preempted = n->preempted - l->preempted;
	d->lhp = n->lhp - l->lhp;
	d->lwp = n->lwp - l->lwp;
	d->lhp_kernel = n->lhp_kernel - l->lhp_kernel;
	d->lwp_kernel = n->lwp_kernel - l->lwp_kernel;
	d->steal_ns = n->steal_ns - l->steal_ns;
	d->rq_waits = n->rq_waits - l->rq_waits;
	d->lhp_offcpu_ns = n->lhp_offcpu_ns - l->lhp_offcpu_ns;
	d->lwp_offcpu_ns = n->lwp_offcpu_ns - l->lwp_offcpu_ns;
	for (int i = 0; i < PVLS_HIST_SLOTS; i++) {
		d->lhp_hist[i] = n->lhp_hist[i] - l->lhp_hist[i];
		d->lwp_hist[i] = n->lwp_hist[i] - l->lwp_hist[i];
		d->rq_hist[i] = n->rq_hist[i] - l->rq_hist[i];
	}
}

/* ---- output ------------------------------------------------------------------ */

static void print_hist(const char *title, const uint32_t *h)
{
	__u64 wide[PVLS_HIST_SLOTS];

	for (int i = 0; i < PVLS_HIST_SLOTS; i++)
		wide[i] = h[i];
	printf("    %s\n", title);
	tool_print_log2_hist(wide, PVLS_HIST_SLOTS, "usecs", "    ");
}

static void print_hist_json(const char *key, const uint32_t *h)
{
	int last = -1;

	for (int i = 0; i < PVLS_HIST_SLOTS; i++)
		if (h[i])
			last = i;
	printf(",\"%s\":[", key);
	for (int i = 0; i <= last; i++)
		printf("%s%u", i ? "," : "", h[i]);
	printf("]");
}


/* Sum of the vCPUs of one VM, for its histograms. */
static void vm_hists(const char *vm, uint32_t *lhp, uint32_t *lwp, uint32_t *rq)
{
	struct pvls_vcpu d;

	memset(lhp, 0, sizeof(uint32_t) * PVLS_HIST_SLOTS);
	memset(lwp, 0, sizeof(uint32_t) * PVLS_HIST_SLOTS);
	memset(rq, 0, sizeof(uint32_t) * PVLS_HIST_SLOTS);
	for (int i = 0; i < nr_threads; i++) {
		if (strcmp(threads[i].vm, vm))
			continue;
		delta(&threads[i], &d);
		for (int s = 0; s < PVLS_HIST_SLOTS; s++) {
			lhp[s] += d.lhp_hist[s];
			lwp[s] += d.lwp_hist[s];
			rq[s] += d.rq_hist[s];
		}
	}
}

static void print_table(double secs)
{
	uint32_t lhp[PVLS_HIST_SLOTS], lwp[PVLS_HIST_SLOTS], rq[PVLS_HIST_SLOTS];

	if (env.tool.timestamp)
		tool_print_timestamp();
	printf("%-16s %4s %8s %9s %7s %7s %10s %10s %11s %8s\n", "VM", "VCPU", "TID",
	       "PREEMPT", "LHP", "LWP", "STEAL_MS", "WAIT_AVG", "LHP_OFF_MS", "LHP/s");
	if (!nr_threads)
		printf("(no vCPU thread has been scheduled yet; is a VM registered with pvlockd?)\n");
	for (int i = 0; i < nr_threads; i++) {
		const struct thread *t = &threads[i];
		struct pvls_vcpu d;

		delta(t, &d);
		printf("%-16s %4u %8u %9llu %7llu %7llu %10.1f %8.1fus %11.1f %8.1f%s\n", t->vm,
		       d.vcpu, t->tid, (unsigned long long)d.preempted, (unsigned long long)d.lhp,
		       (unsigned long long)d.lwp, d.steal_ns / 1e6,
		       d.rq_waits ? d.steal_ns / 1e3 / d.rq_waits : 0.0, d.lhp_offcpu_ns / 1e6,
		       secs > 0 ? d.lhp / secs : 0.0, t->gone ? "  (VM gone)" : "");
	}
	if (env.hist) {
		for (int i = 0; i < nr_threads; i++) {
			if (i && !strcmp(threads[i].vm, threads[i - 1].vm))
				continue;
			vm_hists(threads[i].vm, lhp, lwp, rq);
			printf("\n  %s:\n", threads[i].vm);
			print_hist("off-CPU time of preempted lock holders", lhp);
			print_hist("off-CPU time of preempted lock waiters", lwp);
			print_hist("run-queue wait of vCPU threads", rq);
		}
	}
	printf("\n");
}

static void print_json(double secs)
{
	uint32_t lhp[PVLS_HIST_SLOTS], lwp[PVLS_HIST_SLOTS], rq[PVLS_HIST_SLOTS];
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	printf("{\"time\":%.3f,\"interval_s\":%.3f,\"vms\":[", ts.tv_sec + ts.tv_nsec / 1e9, secs);
	for (int i = 0; i < nr_threads; i++) {
		const struct thread *t = &threads[i];
		bool first = !i || strcmp(t->vm, threads[i - 1].vm);
		bool last = i + 1 == nr_threads || strcmp(t->vm, threads[i + 1].vm);
		struct pvls_vcpu d;

		delta(t, &d);
		if (first)
			printf("%s{\"name\":\"%s\",\"slot\":%u,\"gone\":%s,\"vcpus\":[", i ? "," : "",
			       t->vm, d.vm_slot, t->gone ? "true" : "false");
		else
			printf(",");
		printf("{\"vcpu\":%u,\"tid\":%u,\"preempted\":%llu,\"lhp\":%llu,\"lwp\":%llu,"
		       "\"lhp_kernel\":%llu,\"lwp_kernel\":%llu,"
		       "\"steal_ns\":%llu,\"rq_waits\":%llu,\"lhp_offcpu_ns\":%llu,"
		       "\"lwp_offcpu_ns\":%llu",
		       d.vcpu, t->tid, (unsigned long long)d.preempted, (unsigned long long)d.lhp,
		       (unsigned long long)d.lwp, (unsigned long long)d.lhp_kernel,
		       (unsigned long long)d.lwp_kernel, (unsigned long long)d.steal_ns,
		       (unsigned long long)d.rq_waits, (unsigned long long)d.lhp_offcpu_ns,
		       (unsigned long long)d.lwp_offcpu_ns);
		print_hist_json("lhp_offcpu_log2_us", d.lhp_hist);
		print_hist_json("lwp_offcpu_log2_us", d.lwp_hist);
		print_hist_json("rq_wait_log2_us", d.rq_hist);
		printf("}");
		if (last) {
			vm_hists(t->vm, lhp, lwp, rq);
			printf("]");
			print_hist_json("lhp_offcpu_log2_us", lhp);
			print_hist_json("lwp_offcpu_log2_us", lwp);
			print_hist_json("rq_wait_log2_us", rq);
			printf("}");
		}
	}
	printf("]}\n");
}

/* ---- Prometheus exporter ------------------------------------------------------- */

/*
 * The run and steal clocks of @vm's vCPUs and its heartbeat, from its page
 * (mapped read-only for the moment).  Each field is one aligned 64-bit
 * word the BPF program only adds to, so a plain atomic load of it is
 * consistent on its own; no seqlock is needed for one field.
 *
 * The map fd is read-write: the kernel refuses to mmap a map fd opened
 * with BPF_F_RDONLY at all (EINVAL), even PROT_READ.  The mapping is
 * PROT_READ, so pvlockstat still cannot write the guest's page.
 */
static bool read_page(const struct vm_meta *vm, struct pvls_prom_vm *p)
{
	const struct pvli_page_hdr *h;
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info);
	char pin[256];
	size_t bytes;
	void *page;
	int fd;

	snprintf(pin, sizeof(pin), PVLOCKD_PIN_VMS "/%s/page", vm->name);
	fd = bpf_obj_get(pin);
	if (fd < 0)
		return false;
	if (bpf_map_get_info_by_fd(fd, &info, &info_len) ||
	    info.value_size != PVLI_VCPU_STRIDE) {
		close(fd);
		return false;
	}
	bytes = (size_t)info.value_size * info.max_entries;
	page = mmap(NULL, bytes, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (page == MAP_FAILED)
		return false;
	h = page;
	for (uint32_t c = 0; c < p->nr_vcpus && PVLI_HDR_SIZE + (c + 1) * PVLI_VCPU_STRIDE <= bytes;
	     c++) {
		const struct pvli_vcpu *rec = (const void *)((const char *)page + PVLI_HDR_SIZE +
							      c * PVLI_VCPU_STRIDE);

		p->vcpu[c].run_ns = __atomic_load_n(&rec->host.run_ns, __ATOMIC_RELAXED);
		p->vcpu[c].steal_ns = __atomic_load_n(&rec->host.steal_ns, __ATOMIC_RELAXED);
	}
	p->heartbeat_age_s = -1;
	if (h->heartbeat_ns) {
		struct timespec ts;
		uint64_t now, hb = __atomic_load_n(&h->heartbeat_ns, __ATOMIC_RELAXED);

		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
		p->heartbeat_age_s = now > hb ? (now - hb) / 1e9 : 0;
	}
	munmap(page, bytes);
	return true;
}

struct exporter {
	int stats_fd;
	int slot;			/* --vm's slot, or -1 */
	struct vm_list vms;
	struct pvls_prom_vm prom[PVLI_MAX_VMS];
};

static int cmp_vm(const void *a, const void *b)
{
	return strcmp(((const struct vm_meta *)a)->name, ((const struct vm_meta *)b)->name);
}

/* A prom_render_fn: the totals of every registered vCPU, zeros included. */
static int render_metrics(FILE *out, void *arg)
{
	struct exporter *x = arg;
	int n = 0;

	load_vms(&x->vms);
	collect(x->stats_fd, &x->vms);
	qsort(x->vms.vm, x->vms.n, sizeof(x->vms.vm[0]), cmp_vm);
	for (int i = 0; i < x->vms.n; i++) {
		const struct vm_meta *vm = &x->vms.vm[i];
		struct pvls_prom_vm *p = &x->prom[n];

		if (x->slot >= 0 && vm->slot != (uint32_t)x->slot)
			continue;
		memset(p, 0, sizeof(*p));
		p->name = vm->name;
		p->nr_vcpus = vm->nr_vcpus < PVLI_MAX_VCPUS_PER_VM ? vm->nr_vcpus
								   : PVLI_MAX_VCPUS_PER_VM;
		for (uint32_t c = 0; c < p->nr_vcpus; c++) {
			for (int t = 0; vm->tids[c] && t < nr_threads; t++)
				if (threads[t].tid == vm->tids[c] &&
				    threads[t].now.vm_slot == vm->slot)
					p->vcpu[c].stats = &threads[t].now;
		}
		p->page = read_page(vm, p);
		n++;
	}
	pvls_prom_write(out, x->prom, n);
	/* Threads of VMs gone are dropped; their series end with the VM. */
	retire(x->stats_fd);
	return 0;
}

static int export(int stats_fd, int slot)
{
	struct exporter *x = calloc(1, sizeof(*x));
	char err[256];
	int lfd, r = 0;

	if (!x)
		return -ENOMEM;
	x->stats_fd = stats_fd;
	x->slot = slot;
	if (env.listen) {
		lfd = prom_listen(env.listen, err, sizeof(err));
		if (lfd < 0) {
			fprintf(stderr, "pvlockstat: %s\n", err);
			free(x);
			return lfd;
		}
		prom_listen_name(lfd, err, sizeof(err));
		/* Tests wait for this line (and read the port from it). */
		fprintf(stderr, "pvlockstat: serving metrics at http://%s/metrics\n", err);
		r = prom_serve(lfd, render_metrics, x);
		close(lfd);
	} else {
		char path[4096];

		if (!env.tool.interval)
			env.tool.interval = TEXTFILE_INTERVAL_S;
		fprintf(stderr, "pvlockstat: writing %s/" TEXTFILE_NAME " every %ld s\n",
			env.textfile, env.tool.interval);
		do {
			r = prom_write_textfile(env.textfile, TEXTFILE_NAME, render_metrics, x);
		} while (!r && tool_next_interval(&env.tool));
		/* Stale figures would look live to node_exporter. */
		snprintf(path, sizeof(path), "%s/" TEXTFILE_NAME, env.textfile);
		unlink(path);
	}
	free(x);
	return r;
}

/* ---- set-up -------------------------------------------------------------------- */

static int reuse_pin(struct bpf_map *map, const char *path)
{
	int fd = bpf_obj_get(path);
	int err;

	if (fd < 0) {
		err = -errno;
		if (err == -ENOENT)
			fprintf(stderr, "pvlockstat: %s does not exist: pvlockd is not running "
				"(start it: pvlockd, or systemctl start pvlockd)\n", path);
		else
			fprintf(stderr, "pvlockstat: cannot open pvlockd's map %s: %s\n", path,
				strerror(-err));
		return err;
	}
	err = bpf_map__reuse_fd(map, fd);
	close(fd);
	if (err)
		fprintf(stderr, "pvlockstat: pvlockd's map %s does not match this pvlockstat "
			"(%s); are both from the same build?\n", path, strerror(-err));
	return err;
}

/* pvlockd's slot of VM @name, or -1 with a message. */
static int vm_slot_of(const char *name)
{
	struct vm_meta vm;
	int err = vm_meta_load(name, &vm);

	if (err) {
		fprintf(stderr, "pvlockstat: no VM '%s' is registered with pvlockd "
			"(see pvlockctl status)\n", name);
		return -1;
	}
	return (int)vm.slot;
}

int main(int argc, char **argv)
{
	static const struct argp_child children[] = { { .argp = &tool_argp }, {} };
	static const struct argp argp = {
		.options = opts, .parser = parse_arg, .doc = doc, .children = children,
	};
	bool btf = access("/sys/kernel/btf/vmlinux", R_OK) == 0;
	struct pvlockstat_bpf *skel = NULL;
	struct vm_list *vms;
	int err, slot = -1;
	bool more;
	double t0;

	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return 2;
	tool_libbpf_log(&env.tool);
	if (geteuid() != 0) {
		fprintf(stderr, "pvlockstat: must run as root (it loads BPF programs and "
			"opens pvlockd's pinned maps)\n");
		return 1;
	}
	if (!btf) {
		fprintf(stderr, "pvlockstat: the kernel has no BTF (/sys/kernel/btf/vmlinux); "
			"pvlockstat needs CONFIG_DEBUG_INFO_BTF=y\n");
		return 1;
	}
	if (env.vm && (slot = vm_slot_of(env.vm)) < 0)
		return 1;
	vms = calloc(1, sizeof(*vms));
	if (!vms)
		return 1;

	skel = pvlockstat_bpf__open();
	if (!skel) {
		fprintf(stderr, "pvlockstat: cannot open the BPF object: %s\n", strerror(errno));
		err = -errno;
		goto cleanup;
	}
	skel->rodata->targ_vm_slot = slot;
	/* Only a definition here: pvlockd creates the pages (bpf/host/pvli_maps.bpf.h). */
	bpf_map__set_autocreate(skel->maps.page_template, false);
	/* Unreported switch-ins are caught at the end of __schedule() (6.18+), else at the tick. */
	if (have_sched_exit_tp())
		bpf_program__set_autoload(skel->progs.pvls_runtime_btf, false);
	else
		bpf_program__set_autoload(skel->progs.pvls_sched_exit_btf, false);
	err = reuse_pin(skel->maps.vcpus, PVLOCKD_PIN_ROOT "/maps/vcpus");
	if (!err)
		err = reuse_pin(skel->maps.pages, PVLOCKD_PIN_ROOT "/maps/pages");
	if (err)
		goto cleanup;
	err = pvlockstat_bpf__load(skel);
	if (err) {
		fprintf(stderr, "pvlockstat: cannot load the BPF programs: %s\n", strerror(-err));
		goto cleanup;
	}
	err = pvlockstat_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "pvlockstat: cannot attach to sched_switch/sched_wakeup: %s\n",
			strerror(-err));
		goto cleanup;
	}

	tool_catch_signals();
	if (env.listen || env.textfile) {
		err = export(bpf_map__fd(skel->maps.stats), slot);
		goto cleanup;
	}
	/* On stderr in every mode: scripts wait for it before they measure. */
	fprintf(stderr, "pvlockstat: counting%s%s; %s\n", env.vm ? " for VM " : "",
			env.vm ?: "", env.tool.interval ? "every interval" : "Ctrl-C prints the totals");

	t0 = tool_monotonic_s();
	do {
		double t1, secs;

		more = tool_next_interval(&env.tool);
		t1 = tool_monotonic_s();
		secs = t1 - t0;
		t0 = t1;
		load_vms(vms);
		collect(bpf_map__fd(skel->maps.stats), vms);
		qsort(threads, nr_threads, sizeof(threads[0]), cmp_thread);
		if (env.tool.json)
			print_json(secs);
		else
			print_table(secs);
		fflush(stdout);
		retire(bpf_map__fd(skel->maps.stats));
	} while (more);
	err = 0;

cleanup:
	pvlockstat_bpf__destroy(skel);
	free(vms);
	return err ? 1 : 0;
}
