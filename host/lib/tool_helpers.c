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

/* ---- the common command line ---------------------------------------------- */

static const struct argp_option tool_opts[] = {
	{ "json", 'j', NULL, 0, "one JSON object per interval", 0 },
	{ "timestamp", 'T', NULL, 0, "print a timestamp before each interval", 0 },
	{ "verbose", 'v', NULL, 0, "libbpf debug output", 0 },
	{},
};

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

static error_t tool_parse_arg(int key, char *arg, struct argp_state *state)
{
	struct tool_env *env = state->input;

	switch (key) {
	case 'j':
		env->json = true;
		break;
	case 'T':
		env->timestamp = true;
		break;
	case 'v':
		env->verbose = true;
		break;
	case ARGP_KEY_ARG:
		if (state->arg_num == 0)
			env->interval = tool_parse_count(arg, state, "interval");
		else if (state->arg_num == 1)
			env->count = tool_parse_count(arg, state, "count");
		else
			argp_error(state, "unexpected argument '%s'", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp tool_argp = { .options = tool_opts, .parser = tool_parse_arg };

/* ---- libbpf's messages ------------------------------------------------------ */

static bool libbpf_debug;

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && !libbpf_debug)
		return 0;
	return vfprintf(stderr, fmt, args);
}

void tool_libbpf_log(const struct tool_env *env)
{
	libbpf_debug = env->verbose;
	libbpf_set_print(libbpf_log);
}

/* ---- intervals and signals -------------------------------------------------- */

/* The signals the waits take; set once by tool_catch_signals(). */
static sigset_t signals;

void tool_catch_signals(void)
{
	sigemptyset(&signals);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGTERM);
	sigprocmask(SIG_BLOCK, &signals, NULL);
}

/* Wait @secs seconds, or (0) for ever; true if SIGINT or SIGTERM ended it. */
static bool wait_for_signal(unsigned int secs)
{
	struct timespec ts = { .tv_sec = secs };
	int sig;

	do {
		sig = secs ? sigtimedwait(&signals, NULL, &ts)
			   : sigwaitinfo(&signals, NULL);
	} while (sig < 0 && errno == EINTR && !secs);
	return sig == SIGINT || sig == SIGTERM;
}

bool tool_next_interval(struct tool_env *env)
{
	if (wait_for_signal(env->interval))
		return false;
	return env->interval && !(env->count && ++env->done >= env->count);
}

double tool_monotonic_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- output -------------------------------------------------------------------- */

void tool_print_timestamp(void)
{
	time_t t = time(NULL);
	char buf[16];
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%H:%M:%S", &tm);
	printf("%s\n", buf);
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
