// SPDX-License-Identifier: GPL-2.0-only
/*
 * schedview-cost: what keeping the scheduler view costs per context switch.
 *
 * Two threads pinned to one CPU pass a byte back and forth through two
 * pipes, so every round trip is two context switches on that CPU.  The
 * time per switch is measured, interleaved and repeated, with
 *   none   nothing on sched_switch (the device closed: pvlockinfo.ko's
 *          probe is registered only while it is open)
 *   probe  /dev/pvlockinfo held open: the module's tracepoint probe
 *   bpf    a tp_btf/sched_switch program doing the same stores into an
 *          mmapable array (bpf/guest/schedview_cost.bpf.c)
 * and the medians printed as one JSON object, with each mechanism's cost
 * per switch over "none".  Needs root for bpf; runs in the guest image,
 * so it is linked statically.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "../../tests/helpers/parse.h"
#include "schedview_cost.h"
#include "schedview_cost.skel.h"

#define MAX_REPS 64

static int ping[2], pong[2];
static long round_trips = 20000;

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *echo(void *arg)
{
	char c;

	(void)arg;
	pin(0);
	for (long i = 0; i < round_trips; i++) {
		if (read(ping[0], &c, 1) != 1 || write(pong[1], &c, 1) != 1)
			break;
	}
	return NULL;
}

/* ns per context switch for one batch of round trips. */
static double measure(void)
{
	struct timespec a, b;
	pthread_t t;
	char c = 'x';

	pthread_create(&t, NULL, echo, NULL);
	pin(0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < round_trips; i++) {
		if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1)
			break;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	pthread_join(t, NULL);
	return ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / (2.0 * round_trips);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

int main(int argc, char **argv)
{
	double none[MAX_REPS], probe[MAX_REPS], bpf[MAX_REPS];
	struct schedview_cost_bpf *skel = NULL;
	long reps = 5;
	int fd, c, ret = 1;
	unsigned int bpf_switches;

	while ((c = getopt(argc, argv, "r:n:h")) != -1) {
		switch (c) {
		case 'r': reps = parse_option_or_exit("schedview-cost", "repetitions", optarg); break;
		case 'n': round_trips = parse_option_or_exit("schedview-cost", "round trips", optarg); break;
		default:
			fprintf(c == 'h' ? stdout : stderr,
				"Usage: schedview-cost [-r REPS (1-%d)] [-n ROUND_TRIPS]\n", MAX_REPS);
			return c == 'h' ? 0 : 2;
		}
	}
	if (reps < 1 || reps > MAX_REPS || round_trips < 1)
		return 2;
	if (pipe(ping) || pipe(pong)) {
		perror("pipe");
		return 1;
	}
	libbpf_set_print(quiet);
	skel = schedview_cost_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "schedview-cost: cannot load the BPF program\n");
		goto out;
	}
	measure();	/* warm up */
	for (int r = 0; r < reps; r++) {
		none[r] = measure();
		fd = open("/dev/pvlockinfo", O_RDONLY);
		if (fd < 0) {
			perror("schedview-cost: /dev/pvlockinfo");
			goto out;
		}
		probe[r] = measure();
		close(fd);
		if (schedview_cost_bpf__attach(skel)) {
			fprintf(stderr, "schedview-cost: cannot attach the BPF program\n");
			goto out;
		}
		bpf[r] = measure();
		schedview_cost_bpf__detach(skel);
	}
	bpf_switches = skel->bss->view[0].switches;
	{
		double n = median(none, reps), p = median(probe, reps), b = median(bpf, reps);

		printf("{\"bench\":\"schedview_cost\",\"reps\":%ld,\"round_trips\":%ld,"
		       "\"ns_per_switch\":{\"none\":%.1f,\"probe\":%.1f,\"bpf\":%.1f},"
		       "\"added_ns_per_switch\":{\"probe\":%.1f,\"bpf\":%.1f},"
		       "\"bpf_switches_seen_cpu0\":%u}\n",
		       reps, round_trips, n, p, b, p - n, b - n, bpf_switches);
	}
	ret = bpf_switches ? 0 : 1;	/* the BPF program must have run */
out:
	schedview_cost_bpf__destroy(skel);
	return ret;
}
