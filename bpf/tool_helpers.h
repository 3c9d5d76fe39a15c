/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the user-space halves of the BPF tools (host/pvlockstat.c,
 * guest/tools/pvlocktrace.c) share, after libbpf-tools' trace_helpers:
 * argp number parsing, the exit flag their signal handlers set, libbpf's
 * log filter, time stamps and log2 histograms.  Header-only: each tool is
 * one file and one binary (pvlocktrace is static, for the guest image).
 */
#ifndef __TOOL_HELPERS_H
#define __TOOL_HELPERS_H

#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <linux/types.h>
#include <bpf/libbpf.h>

/* A positive int-sized count from the command line, or an argp error. */
static inline long tool_parse_count(const char *arg, struct argp_state *state, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || end == arg || v <= 0 || v > INT_MAX)
		argp_error(state, "invalid %s '%s': want a positive integer", what, arg);
	return v;
}

/* Set once SIGINT or SIGTERM has come: print what was counted and stop. */
static volatile sig_atomic_t tool_exiting;
static sigset_t tool_signals;

/*
 * SIGINT and SIGTERM are blocked from here on and taken only by
 * tool_wait(), so one that comes while the tool is busy (or preempted
 * just before it would wait: a handler plus pause() loses that one and
 * waits forever) stays pending and ends the next wait at once.
 */
static inline void tool_catch_signals(void)
{
	sigemptyset(&tool_signals);
	sigaddset(&tool_signals, SIGINT);
	sigaddset(&tool_signals, SIGTERM);
	sigprocmask(SIG_BLOCK, &tool_signals, NULL);
}

/* Wait @secs seconds, or (0) for ever, or until SIGINT/SIGTERM. */
static inline void tool_wait(unsigned int secs)
{
	struct timespec ts = { .tv_sec = secs };
	int sig;

	do {
		sig = secs ? sigtimedwait(&tool_signals, NULL, &ts)
			   : sigwaitinfo(&tool_signals, NULL);
	} while (sig < 0 && errno == EINTR && !secs);
	if (sig == SIGINT || sig == SIGTERM)
		tool_exiting = 1;
}

/* libbpf's messages, debug ones only with -v. */
static bool tool_verbose;

static inline int tool_libbpf_print(enum libbpf_print_level level, const char *fmt,
				    va_list args)
{
	if (level == LIBBPF_DEBUG && !tool_verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

/* Local wall-clock time, HH:MM:SS, for -T. */
static inline void tool_now_string(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, len, "%H:%M:%S", &tm);
}

/*
 * A log2 histogram, slot i counting [2^i, 2^(i+1)) (slot 0 from 0), as
 * libbpf-tools print them: @unit names the values, @indent prefixes lines.
 */
static inline void tool_print_log2_hist(const __u64 *h, int slots, const char *unit,
					const char *indent)
{
	__u64 max = 0;
	int last = -1;

	for (int i = 0; i < slots; i++) {
		if (h[i])
			last = i;
		if (h[i] > max)
			max = h[i];
	}
	if (last < 0)
		return;
	printf("%s%24s : %-10s |%-40s|\n", indent, unit, "count", "distribution");
	for (int i = 0; i <= last; i++) {
		unsigned long long lo = i ? 1ULL << i : 0, hi = (1ULL << (i + 1)) - 1;
		int stars = max ? (int)(h[i] * 40 / max) : 0;
		char range[64];

		snprintf(range, sizeof(range), "%llu -> %llu", lo, hi);
		printf("%s%24s : %-10llu |%-40.*s|\n", indent, range, (unsigned long long)h[i],
		       stars, "****************************************");
	}
}

#endif /* __TOOL_HELPERS_H */
