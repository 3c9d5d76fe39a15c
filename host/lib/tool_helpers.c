// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Helpers of the BPF tools' user-space halves; see tool_helpers.h.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "tool_helpers.h"

long tool_parse_count(const char *arg, struct argp_state *state, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || end == arg || v <= 0 || v > INT_MAX)
		argp_error(state, "invalid %s '%s': want a positive integer", what, arg);
	return v;
}

/* The signals tool_wait() takes; set once by tool_catch_signals(). */
static sigset_t signals;
/* Sticky: once a signal has come, every later wait ends at once. */
static bool exiting;

void tool_catch_signals(void)
{
	sigemptyset(&signals);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGTERM);
	sigprocmask(SIG_BLOCK, &signals, NULL);
}

bool tool_wait(unsigned int secs)
{
	struct timespec ts = { .tv_sec = secs };
	int sig;

	if (exiting)
		return true;
	do {
		sig = secs ? sigtimedwait(&signals, NULL, &ts)
			   : sigwaitinfo(&signals, NULL);
	} while (sig < 0 && errno == EINTR && !secs);
	if (sig == SIGINT || sig == SIGTERM)
		exiting = true;
	return exiting;
}

static bool verbose;

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

void tool_libbpf_log(bool want_debug)
{
	verbose = want_debug;
	libbpf_set_print(libbpf_log);
}

void tool_now_string(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, len, "%H:%M:%S", &tm);
}

void tool_print_log2_hist(const __u64 *h, int slots, const char *unit, const char *indent)
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
