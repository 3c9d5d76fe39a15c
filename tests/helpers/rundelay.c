// SPDX-License-Identifier: GPL-2.0-only
/*
 * rundelay: the host kernel's own account of how long a thread waited for
 * its CPU, wait by wait: an independent truth for what the channel says.
 *
 * /proc/PID/task/TID/schedstat's second field is the thread's total
 * run-queue wait (sched_info), to which the kernel adds each wait when it
 * ends, at the switch-in.  Polling it every millisecond (light on the CPU
 * it shares), a jump of at least --min-us is one long wait (or a long one
 * and the short ones that ended in the same millisecond).  Prints "wait_us N" per jump until --seconds pass
 * or SIGTERM/SIGINT, then "done".
 */
#include <errno.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "parse.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int read_delay(const char *path, unsigned long long *delay)
{
	unsigned long long run;
	FILE *f = fopen(path, "r");
	int n;

	if (!f)
		return -errno;
	n = fscanf(f, "%llu %llu", &run, delay);
	fclose(f);
	return n == 2 ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
	uint64_t tid = 0, min_us = 25000, seconds = 10;
	unsigned long long prev, cur;
	struct timespec end, now;
	char path[64];

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strncmp(a, "--tid=", 6) && parse_u64(a + 6, &tid))
			continue;
		if (!strncmp(a, "--min-us=", 9) && parse_u64(a + 9, &min_us))
			continue;
		if (!strncmp(a, "--seconds=", 10) && parse_u64(a + 10, &seconds))
			continue;
		fprintf(stderr, "usage: rundelay --tid=TID [--min-us=US] [--seconds=S]\n");
		return 2;
	}
	if (!tid) {
		fprintf(stderr, "rundelay: --tid is required\n");
		return 2;
	}
	snprintf(path, sizeof(path), "/proc/%llu/schedstat", (unsigned long long)tid);
	if (read_delay(path, &prev)) {
		fprintf(stderr, "rundelay: cannot read %s: %s\n", path, strerror(errno));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += (time_t)seconds;
	printf("watching\n");
	fflush(stdout);
	while (!stop) {
		usleep(1000);
		if (read_delay(path, &cur))
			break;	/* the thread is gone */
		if (cur - prev >= min_us * 1000ULL) {
			printf("wait_us %llu\n", (cur - prev) / 1000);
			fflush(stdout);
		}
		prev = cur;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
			break;
	}
	printf("done\n");
	return 0;
}
