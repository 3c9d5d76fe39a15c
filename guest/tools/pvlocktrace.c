// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlocktrace: in the guest, what lock waits are made of.
 *
 * For each lock policy of pvlockinfo.ko (and the harness's spinlock_t and
 * MCS baselines) it splits wait time into: spinning or halting while the
 * holder's vCPU ran, while the holder's vCPU was preempted by the host,
 * and hand-over time (the lock between holders, typically handed to a
 * waiter whose vCPU is not running); plus halts, kicks and shuffles.  For
 * the kernel's own spinlocks it measures qspinlock slow-path waits, and
 * with pvlockinfo.ko loaded the waiter's own steal during them.
 *
 * The BPF half (bpf/guest/pvlocktrace.bpf.c) attaches to the tracepoints
 * pvlockinfo.ko defines (guest/module/pvli_trace.h) and to the qspinlock
 * slow path with fentry/fexit; this half prints per interval what changed.
 * It runs in the guest image, so it is linked statically.
 */
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "pvlocktrace.h"
#include "pvlocktrace.skel.h"
#include "tool_helpers.h"

static struct {
	struct tool_env tool;	/* -j -T -v [interval [count]] */
	bool hist;
	bool no_kernel;
	bool no_module;
} env;

const char *argp_program_version = "pvlocktrace 0.1";
static const char doc[] =
"pvlocktrace: what lock waits in this guest are made of.\n"
"\n"
"Splits the wait time of pvlockinfo locks, per policy, into: holder running\n"
"(spinning while the holder's vCPU ran), holder preempted (the host had taken\n"
"the holder's vCPU off its CPU), and hand-over (the lock between holders,\n"
"e.g. handed to a waiter whose vCPU was not running).  Also counts halts,\n"
"kicks and shuffles, and times the kernel's own spinlock slow path.\n"
"Needs root, BTF (/sys/kernel/btf/vmlinux) and pvlockinfo.ko loaded (or\n"
"--kernel-only).  While it runs, pvlockinfo.ko cannot be unloaded.\n"
"\n"
"USAGE: pvlocktrace [-j] [-T] [-H] [--kernel-only|--no-kernel] [interval [count]]\n"
"\n"
"EXAMPLES:\n"
"    pvlocktrace             # totals at Ctrl-C\n"
"    pvlocktrace 1           # every second\n"
"    pvlocktrace -H 5 1      # one 5 s interval, with wait-time histograms\n"
"    pvlocktrace -j 1        # JSON lines\n";

enum { OPT_NO_KERNEL = 1000, OPT_KERNEL_ONLY };

static const struct argp_option opts[] = {
	{ "hist", 'H', NULL, 0, "log2 histograms of wait time (JSON always has them)", 0 },
	{ "no-kernel", OPT_NO_KERNEL, NULL, 0, "do not trace the kernel's own spinlocks", 0 },
	{ "kernel-only", OPT_KERNEL_ONLY, NULL, 0,
	  "only the kernel's own spinlocks (pvlockinfo.ko need not be loaded)", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	(void)arg;	/* no option of ours takes one */
	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &env.tool;
		break;
	case 'H':
		env.hist = true;
		break;
	case OPT_NO_KERNEL:
		env.no_kernel = true;
		break;
	case OPT_KERNEL_ONLY:
		env.no_module = true;
		break;
	case ARGP_KEY_END:
		if (env.no_kernel && env.no_module)
			argp_error(state, "--no-kernel and --kernel-only leave nothing to trace");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* ---- what can be traced here -------------------------------------------- */

static bool module_loaded(void)
{
	return access("/sys/module/pvlockinfo", F_OK) == 0;
}

/* Is @name a function in the kernel's BTF (so fentry can attach)? */
static bool kernel_has_func(const struct btf *vmlinux, const char *name)
{
	return vmlinux && btf__find_by_name_kind(vmlinux, name, BTF_KIND_FUNC) >= 0;
}

static void set_autoload(struct bpf_program *const *progs, int n, bool on)
{
	for (int i = 0; i < n; i++)
		bpf_program__set_autoload(progs[i], on);
}

/* ---- reading and printing ------------------------------------------------- */

static const char *const policy_names[PVLI_TP_NR] = PVLI_TP_POLICY_NAMES;

static const char *stats_name(int i)
{
	return i == PVLT_KERNEL ? "kernel" : policy_names[i];
}

/* Sum the per-CPU stats of every index into @out. */
static int read_stats(int fd, int ncpus, struct pvlt_stats out[PVLT_NR])
{
	struct pvlt_stats *percpu = calloc(ncpus, sizeof(*percpu));

	if (!percpu)
		return -ENOMEM;
	memset(out, 0, PVLT_NR * sizeof(*out));
	for (__u32 k = 0; k < PVLT_NR; k++) {
		if (bpf_map_lookup_elem(fd, &k, percpu)) {
			free(percpu);
			return -errno;
		}
		for (int c = 0; c < ncpus; c++) {
			__u64 *dst = (__u64 *)&out[k];
			const __u64 *src = (const __u64 *)&percpu[c];

			for (size_t f = 0; f < sizeof(out[k]) / sizeof(__u64); f++)
				dst[f] += src[f];
		}
	}
	free(percpu);
	return 0;
}

/* @d = @now - @then, field by field (every field is a __u64 counter). */
static void stats_delta(const struct pvlt_stats *now, const struct pvlt_stats *then,
			struct pvlt_stats *d)
{
	const __u64 *a = (const __u64 *)now, *b = (const __u64 *)then;
	__u64 *o = (__u64 *)d;

	for (size_t f = 0; f < sizeof(*d) / sizeof(__u64); f++)
		o[f] = a[f] - b[f];
}

static double pct(__u64 part, __u64 whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static void print_table(const struct pvlt_stats d[PVLT_NR])
{
	bool header = false;

	for (int i = 0; i < PVLT_NR; i++) {
		const struct pvlt_stats *s = &d[i];

		if (!s->acquisitions && !s->waits && !s->halts && !s->kicks)
			continue;
		if (!header) {
			printf("%-10s %10s %9s %10s %6s %6s %6s %6s %10s %7s %7s %8s\n", "POLICY",
			       "ACQUIRED", "WAITS", "WAIT_ms", "RUN%", "PREE%", "HAND%", "UNPL%",
			       "SELFPRE_ms", "HALTS", "KICKS", "SHUFFLED");
			header = true;
		}
		if (i == PVLT_KERNEL) {
			char selfpre[32] = "-";

			/*
			 * Known only with pvlockinfo.ko's kfunc and a live page;
			 * waits without it add nothing (the JSON's no_steal).
			 */
			if (s->waits > s->no_steal)
				snprintf(selfpre, sizeof(selfpre), "%.1f",
					 s->waiter_preempted_ns / 1e6);
			printf("%-10s %10s %9llu %10.1f %6s %6s %6s %6s %10s %7s %7s %8s\n",
			       "kernel", "-", (unsigned long long)s->waits, s->wait_ns / 1e6,
			       "-", "-", "-", "-", selfpre, "-", "-", "-");
		} else {
			printf("%-10s %10llu %9llu %10.1f %6.1f %6.1f %6.1f %6.1f %10.1f %7llu %7llu %8llu\n",
			       stats_name(i), (unsigned long long)s->acquisitions,
			       (unsigned long long)s->waits, s->wait_ns / 1e6,
			       pct(s->holder_running_ns, s->wait_ns),
			       pct(s->holder_preempted_ns, s->wait_ns),
			       pct(s->handoff_ns, s->wait_ns), pct(s->unplaced_ns, s->wait_ns),
			       s->waiter_preempted_ns / 1e6, (unsigned long long)s->halts,
			       (unsigned long long)s->kicks, (unsigned long long)s->shuffled);
		}
		if (env.hist) {
			printf("\n%s:\n", stats_name(i));
			tool_print_log2_hist(s->hist, PVLT_HIST_SLOTS, "wait ns", "");
			printf("\n");
		}
	}
	if (!header)
		printf("(no lock activity)\n");
}

static void print_json(const struct pvlt_stats d[PVLT_NR], double secs)
{
	bool first = true;

	printf("{\"interval_s\":%.3f,\"policies\":[", secs);
	for (int i = 0; i < PVLT_NR; i++) {
		const struct pvlt_stats *s = &d[i];
		int last = -1;

		if (!s->acquisitions && !s->waits && !s->halts && !s->kicks)
			continue;
		printf("%s{\"policy\":\"%s\",\"acquisitions\":%llu,\"waits\":%llu,"
		       "\"wait_ns\":%llu,\"holder_running_ns\":%llu,"
		       "\"holder_preempted_ns\":%llu,\"handoff_ns\":%llu,\"unplaced_ns\":%llu,"
		       "\"waiter_preempted_ns\":%llu,\"unplaced_waits\":%llu,"
		       "\"holder_unknown\":%llu,\"torn_starts\":%llu,\"no_steal\":%llu,"
		       "\"missed_waits\":%llu,"
		       "\"halts\":%llu,\"kicks\":%llu,\"shuffles\":%llu,\"shuffled\":%llu,"
		       "\"hist_log2_ns\":[",
		       first ? "" : ",", stats_name(i), (unsigned long long)s->acquisitions,
		       (unsigned long long)s->waits, (unsigned long long)s->wait_ns,
		       (unsigned long long)s->holder_running_ns,
		       (unsigned long long)s->holder_preempted_ns,
		       (unsigned long long)s->handoff_ns, (unsigned long long)s->unplaced_ns,
		       (unsigned long long)s->waiter_preempted_ns,
		       (unsigned long long)s->unplaced_waits,
		       (unsigned long long)s->holder_unknown,
		       (unsigned long long)s->torn_starts, (unsigned long long)s->no_steal,
		       (unsigned long long)s->missed_waits, (unsigned long long)s->halts,
		       (unsigned long long)s->kicks, (unsigned long long)s->shuffles,
		       (unsigned long long)s->shuffled);
		for (int h = 0; h < PVLT_HIST_SLOTS; h++)
			if (s->hist[h])
				last = h;
		for (int h = 0; h <= last; h++)
			printf("%s%llu", h ? "," : "", (unsigned long long)s->hist[h]);
		printf("]}");
		first = false;
	}
	printf("]}\n");
}

/* ---- main ------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	static const struct argp_child children[] = { { .argp = &tool_argp }, {} };
	static const struct argp argp = {
		.options = opts, .parser = parse_arg, .doc = doc, .children = children,
	};
	struct pvlt_stats prev[PVLT_NR] = {}, now[PVLT_NR], delta[PVLT_NR];
	struct pvlocktrace_bpf *obj = NULL;
	struct btf *vmlinux = NULL;
	bool trace_kernel, have_native, have_pv, more;
	int err, ncpus, fd;
	double t_prev;

	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return err;
	tool_libbpf_log(&env.tool);

	if (geteuid() != 0) {
		fprintf(stderr, "pvlocktrace: must run as root (it loads BPF programs)\n");
		return 1;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		fprintf(stderr, "pvlocktrace: this kernel has no BTF (/sys/kernel/btf/vmlinux): "
			"it needs CONFIG_DEBUG_INFO_BTF=y\n");
		return 1;
	}
	if (!env.no_module && !module_loaded()) {
		fprintf(stderr, "pvlocktrace: pvlockinfo.ko is not loaded: load it (modprobe "
			"pvlockinfo), or use --kernel-only for the kernel's spinlocks alone\n");
		return 1;
	}
	ncpus = libbpf_num_possible_cpus();
	if (ncpus < 0) {
		fprintf(stderr, "pvlocktrace: cannot count CPUs: %s\n", strerror(-ncpus));
		return 1;
	}

	vmlinux = btf__load_vmlinux_btf();
	have_native = kernel_has_func(vmlinux, "native_queued_spin_lock_slowpath");
	have_pv = kernel_has_func(vmlinux, "__pv_queued_spin_lock_slowpath");
	trace_kernel = !env.no_kernel && (have_native || have_pv);
	if (!env.no_kernel && !trace_kernel) {
		fprintf(stderr, "pvlocktrace: the kernel's BTF has no qspinlock slow path "
			"(native_queued_spin_lock_slowpath): use --no-kernel\n");
		err = 1;
		goto cleanup;
	}

	obj = pvlocktrace_bpf__open();
	if (!obj) {
		fprintf(stderr, "pvlocktrace: cannot open BPF object: %s\n", strerror(errno));
		err = 1;
		goto cleanup;
	}
	{
		struct bpf_program *const module_progs[] = {
			obj->progs.on_wait, obj->progs.on_acquired, obj->progs.on_release,
			obj->progs.on_halt, obj->progs.on_kick, obj->progs.on_shuffle,
		};
		struct bpf_program *const native_progs[] = {
			obj->progs.on_native_slowpath, obj->progs.on_native_slowpath_exit,
		};
		struct bpf_program *const pv_progs[] = {
			obj->progs.on_pv_slowpath, obj->progs.on_pv_slowpath_exit,
		};

		set_autoload(module_progs, 6, !env.no_module);
		set_autoload(native_progs, 2, trace_kernel && have_native);
		set_autoload(pv_progs, 2, trace_kernel && have_pv);
	}

	err = pvlocktrace_bpf__load(obj);
	if (err) {
		fprintf(stderr, "pvlocktrace: cannot load BPF programs: %s (run with -v for "
			"the verifier's log)\n", strerror(-err));
		goto cleanup;
	}
	err = pvlocktrace_bpf__attach(obj);
	if (err) {
		fprintf(stderr, "pvlocktrace: cannot attach: %s%s\n", strerror(-err),
			env.no_module ? "" : " (is pvlockinfo.ko the version with tracepoints?)");
		goto cleanup;
	}
	fd = bpf_map__fd(obj->maps.stats);

	tool_catch_signals();
	fprintf(stderr, "pvlocktrace: tracing%s%s; %s\n",
		env.no_module ? "" : " pvlockinfo locks",
		trace_kernel ? (env.no_module ? " kernel spinlocks" : " and kernel spinlocks") : "",
		env.tool.interval ? "Ctrl-C to end" : "Ctrl-C prints totals");

	t_prev = tool_monotonic_s();
	do {
		double t_now;

		/* A signal ends the wait early: print that part and stop. */
		more = tool_next_interval(&env.tool);
		err = read_stats(fd, ncpus, now);
		if (err) {
			fprintf(stderr, "pvlocktrace: cannot read statistics: %s\n", strerror(-err));
			goto cleanup;
		}
		t_now = tool_monotonic_s();
		for (int i = 0; i < PVLT_NR; i++)
			stats_delta(&now[i], &prev[i], &delta[i]);
		if (env.tool.timestamp)
			tool_print_timestamp();
		if (env.tool.json)
			print_json(delta, t_now - t_prev);
		else
			print_table(delta);
		fflush(stdout);
		memcpy(prev, now, sizeof(prev));
		t_prev = t_now;
	} while (more);
	err = 0;

cleanup:
	pvlocktrace_bpf__destroy(obj);
	btf__free(vmlinux);
	return err ? 1 : 0;
}
