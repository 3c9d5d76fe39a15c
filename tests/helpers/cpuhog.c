// SPDX-License-Identifier: GPL-2.0-only
/*
 * cpuhog: take a host CPU away from whatever runs there, on a schedule.
 *
 *   cpuhog --cpu 1 --burst-ms 50 --gap-ms 200 --count 5 [--fifo 50]
 *
 * Pins itself to --cpu, optionally switches to SCHED_FIFO (so it preempts
 * any CFS task there at once, a vCPU thread included), then --count times:
 * busy-loops --burst-ms of CLOCK_MONOTONIC, sleeps --gap-ms.  Once all
 * bursts are over it prints one line per burst with its start and end
 * (CLOCK_MONOTONIC ns, the clock bpf_ktime_get_ns() reads) so tests can
 * compare them with what the channel reported.  --count 0 runs until killed (a noisy neighbour).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static long arg_long(const char *opt, const char *s, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < 0 || v > max) {
		fprintf(stderr, "cpuhog: --%s wants an integer 0..%ld, not '%s'\n", opt, max, s);
		exit(2);
	}
	return v;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: cpuhog --cpu N [--burst-ms MS] [--gap-ms MS] [--count N] [--fifo PRIO]\n"
		   "  burst-ms default 50, gap-ms 200, count 1 (0 = until killed),\n"
		   "  fifo: SCHED_FIFO priority 1..99 (default: stay SCHED_OTHER)\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cpu", required_argument, NULL, 'c' },
		{ "burst-ms", required_argument, NULL, 'b' },
		{ "gap-ms", required_argument, NULL, 'g' },
		{ "count", required_argument, NULL, 'n' },
		{ "fifo", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	long cpu = -1, burst = 50, gap = 200, count = 1, fifo = 0;
	cpu_set_t set;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cpu = arg_long("cpu", optarg, CPU_SETSIZE - 1); break;
		case 'b': burst = arg_long("burst-ms", optarg, 600000); break;
		case 'g': gap = arg_long("gap-ms", optarg, 600000); break;
		case 'n': count = arg_long("count", optarg, INT_MAX); break;
		case 'f': fifo = arg_long("fifo", optarg, 99); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (cpu < 0 || optind != argc) {
		usage(stderr);
		return 2;
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fprintf(stderr, "cpuhog: cannot pin to CPU %ld: %s\n", cpu, strerror(errno));
		return 1;
	}
	if (fifo) {
		struct sched_param sp = { .sched_priority = (int)fifo };

		if (sched_setscheduler(0, SCHED_FIFO, &sp)) {
			fprintf(stderr, "cpuhog: cannot switch to SCHED_FIFO %ld: %s\n", fifo,
				strerror(errno));
			return 1;
		}
	}
	/*
	 * The report waits until the bursts are over and the hog is back to
	 * SCHED_OTHER: writing it right after a burst, still at SCHED_FIFO,
	 * would stretch that burst's preemption by the write.
	 */
	unsigned long long (*times)[2] = count ? calloc(count, sizeof(*times)) : NULL;

	if (count && !times) {
		fprintf(stderr, "cpuhog: out of memory\n");
		return 1;
	}
	for (long i = 0; !count || i < count; i++) {
		struct timespec ts = { gap / 1000, (gap % 1000) * 1000000L };
		unsigned long long start = now_ns(), end = start + burst * 1000000ULL, t;

		while ((t = now_ns()) < end)
			;
		if (count) {
			times[i][0] = start;
			times[i][1] = t;
		}
		nanosleep(&ts, NULL);
	}
	if (fifo) {
		struct sched_param sp = { .sched_priority = 0 };

		sched_setscheduler(0, SCHED_OTHER, &sp);
	}
	for (long i = 0; i < count; i++)
		printf("burst %ld start_ns %llu end_ns %llu\n", i, times[i][0], times[i][1]);
	free(times);
	return 0;
}
