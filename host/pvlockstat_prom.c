// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockstat's Prometheus exposition (pvlockstat_prom.h).
 *
 * Every family lists every vCPU of every VM, zeros included, so that a
 * series exists from the VM's registration on (rate() needs two points).
 * A family's samples are written together, as the format requires.
 * Counters only grow while their VM lives: they are cumulative sums the
 * BPF programs only add to; a VM that goes and comes back under the same
 * name starts again from 0, which Prometheus treats as a counter reset.
 */
#include <stddef.h>

#include "pvlockstat_prom.h"

struct family {
	const char *name;
	const char *help;
	/* an integer count, or nanoseconds written as seconds */
	bool ns;
	uint64_t (*get)(const struct pvls_prom_vcpu *v);
	bool page;		/* from the page: absent when it was not read */
};

#define STAT(field) \
	static uint64_t get_##field(const struct pvls_prom_vcpu *v) \
	{ return v->stats ? v->stats->field : 0; }
STAT(preempted)
STAT(lhp)
STAT(lwp)
STAT(lhp_kernel)
STAT(lwp_kernel)
STAT(lwp_offcpu_ns)
#undef STAT

static uint64_t get_run(const struct pvls_prom_vcpu *v)
{
	return v->run_ns;
}

static uint64_t get_steal(const struct pvls_prom_vcpu *v)
{
	return v->steal_ns;
}

static const struct family families[] = {
	{ "pvlock_vcpu_preemptions_total",
	  "Times the host took a host CPU from the vCPU while it could run.",
	  false, get_preempted, false },
	{ "pvlock_vcpu_lock_holder_preemptions_total",
	  "Times the vCPU lost its host CPU while the guest held a lock (LHP); "
	  "every waiter of that lock waits until the vCPU runs again.",
	  false, get_lhp, false },
	{ "pvlock_vcpu_lock_waiter_preemptions_total",
	  "Times the vCPU lost its host CPU while the guest waited for a lock (LWP).",
	  false, get_lwp, false },
	{ "pvlock_vcpu_kernel_lock_holder_preemptions_total",
	  "Of the lock-holder preemptions, those inside a guest kernel spinlock "
	  "(guests in takeover mode).",
	  false, get_lhp_kernel, false },
	{ "pvlock_vcpu_kernel_lock_waiter_preemptions_total",
	  "Of the lock-waiter preemptions, those waiting for a guest kernel spinlock "
	  "(guests in takeover mode).",
	  false, get_lwp_kernel, false },
	{ "pvlock_vcpu_lock_waiter_offcpu_seconds_total",
	  "Time preempted lock waiters spent off their host CPU.",
	  true, get_lwp_offcpu_ns, false },
	{ "pvlock_vcpu_steal_seconds_total",
	  "Time the vCPU could run but did not (steal, as the guest sees it).",
	  true, get_steal, true },
	{ "pvlock_vcpu_run_seconds_total",
	  "Time the vCPU ran on a host CPU.",
	  true, get_run, true },
};

#define HOLDER_HIST	"pvlock_vcpu_lock_holder_offcpu_seconds"

/* Label values are VM names ([A-Za-z0-9._-]); escape anyway, as the format says. */
static void label_value(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(out, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

static void series(FILE *out, const char *name, const char *suffix, const char *vm,
		   uint32_t vcpu)
{
	fprintf(out, "%s%s{vm=\"", name, suffix);
	label_value(out, vm);
	fprintf(out, "\",vcpu=\"%u\"", vcpu);
}

static void value(FILE *out, uint64_t v, bool ns)
{
	if (ns)
		fprintf(out, " %llu.%09llu\n", (unsigned long long)(v / 1000000000ULL),
			(unsigned long long)(v % 1000000000ULL));
	else
		fprintf(out, " %llu\n", (unsigned long long)v);
}

static void write_family(FILE *out, const struct family *f, const struct pvls_prom_vm *vms,
			 int n)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s counter\n", f->name, f->help, f->name);
	for (int i = 0; i < n; i++) {
		if (f->page && !vms[i].page)
			continue;
		for (uint32_t c = 0; c < vms[i].nr_vcpus; c++) {
			series(out, f->name, "", vms[i].name, c);
			fputc('}', out);
			value(out, f->get(&vms[i].vcpu[c]), f->ns);
		}
	}
}

/*
 * Cumulative buckets from the log2 slots: le = 2^(i+1) us is the upper
 * bound of slot i, so the bucket sums slots 0..i.  The slots' bounds are
 * exclusive and Prometheus' inclusive; they differ by less than 1 us.
 */
static void write_holder_hist(FILE *out, const struct pvls_prom_vm *vms, int n)
{
	fprintf(out, "# HELP " HOLDER_HIST " How long preempted lock holders stayed off "
		"their host CPU: each one delayed every waiter of its lock that long.\n"
		"# TYPE " HOLDER_HIST " histogram\n");
	for (int i = 0; i < n; i++) {
		for (uint32_t c = 0; c < vms[i].nr_vcpus; c++) {
			const struct pvls_vcpu *s = vms[i].vcpu[c].stats;
			uint64_t count = 0;
			int slot = 0;

			for (int top = PVLS_PROM_FIRST_SLOT; top <= PVLS_PROM_LAST_SLOT;
			     top += PVLS_PROM_SLOT_STEP) {
				for (; slot <= top; slot++)
					count += s ? s->lhp_hist[slot] : 0;
				series(out, HOLDER_HIST, "_bucket", vms[i].name, c);
				fprintf(out, ",le=\"%.9g\"}", (double)(1ULL << (top + 1)) / 1e6);
				value(out, count, false);
			}
			for (; slot < PVLS_HIST_SLOTS; slot++)
				count += s ? s->lhp_hist[slot] : 0;
			series(out, HOLDER_HIST, "_bucket", vms[i].name, c);
			fputs(",le=\"+Inf\"}", out);
			value(out, count, false);
			series(out, HOLDER_HIST, "_sum", vms[i].name, c);
			fputc('}', out);
			value(out, s ? s->lhp_offcpu_ns : 0, true);
			series(out, HOLDER_HIST, "_count", vms[i].name, c);
			fputc('}', out);
			value(out, count, false);
		}
	}
}

static void write_vm_gauges(FILE *out, const struct pvls_prom_vm *vms, int n)
{
	fputs("# HELP pvlock_vm_vcpus vCPUs of the VM registered with pvlockd.\n"
	      "# TYPE pvlock_vm_vcpus gauge\n", out);
	for (int i = 0; i < n; i++) {
		fputs("pvlock_vm_vcpus{vm=\"", out);
		label_value(out, vms[i].name);
		fprintf(out, "\"} %u\n", vms[i].nr_vcpus);
	}
	fputs("# HELP pvlock_vm_page_heartbeat_age_seconds Time since the host's BPF program "
	      "last wrote the VM's page; above 1 the guest treats the page as stale.\n"
	      "# TYPE pvlock_vm_page_heartbeat_age_seconds gauge\n", out);
	for (int i = 0; i < n; i++) {
		if (!vms[i].page || vms[i].heartbeat_age_s < 0)
			continue;
		fputs("pvlock_vm_page_heartbeat_age_seconds{vm=\"", out);
		label_value(out, vms[i].name);
		fprintf(out, "\"} %.6f\n", vms[i].heartbeat_age_s);
	}
}

void pvls_prom_write(FILE *out, const struct pvls_prom_vm *vms, int n)
{
	for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++)
		write_family(out, &families[f], vms, n);
	write_holder_hist(out, vms, n);
	write_vm_gauges(out, vms, n);
}
