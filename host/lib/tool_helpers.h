/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the user-space halves of the BPF tools (host/pvlockstat.c,
 * guest/tools/pvlocktrace.c) share, after libbpf-tools' trace_helpers:
 * the common command line, the interval loop and its SIGINT/SIGTERM
 * handling, libbpf's log filter, time stamps and log2 histograms.  A
 * compiled unit (tool_helpers.c) linked into both; pvlocktrace links it
 * statically, for the guest image.
 */
#ifndef __TOOL_HELPERS_H
#define __TOOL_HELPERS_H

#include <argp.h>
#include <stdbool.h>
#include <stddef.h>

#include <linux/types.h>

/*
 * What every tool's command line has, as libbpf-tools have it: -j, -T,
 * -v and [interval [count]].  tool_argp parses them as a child of the
 * tool's own argp (its options merge into the tool's --help); the tool
 * hands it its struct tool_env as state->child_inputs[0] at ARGP_KEY_INIT.
 */
struct tool_env {
	bool json;		/* -j: one JSON object per interval */
	bool timestamp;		/* -T: print the time before each interval */
	bool verbose;		/* -v: libbpf debug output */
	long interval;		/* seconds; 0: once, at exit */
	long count;		/* intervals; 0: until interrupted */
	long done;		/* intervals printed (tool_next_interval()) */
};

extern const struct argp tool_argp;

/* A positive int-sized count from the command line, or an argp error. */
long tool_parse_count(const char *arg, struct argp_state *state, const char *what);

/* Send libbpf's messages to stderr; its debug ones only with -v. */
void tool_libbpf_log(const struct tool_env *env);

/*
 * Block SIGINT and SIGTERM from here on: only tool_next_interval() takes
 * them, so one that comes while the tool is busy (or preempted just
 * before it would wait: a handler plus pause() loses that one and waits
 * for ever) stays pending and ends the next wait at once.
 */
void tool_catch_signals(void);

/*
 * Wait out one interval of @env (without one, until SIGINT or SIGTERM;
 * either ends a wait early).  The tool then prints what the interval
 * counted; true if another interval follows, false when the signal came,
 * there is no interval or @env->count intervals are done.
 */
bool tool_next_interval(struct tool_env *env);

/* Seconds on CLOCK_MONOTONIC, for the length of an interval. */
double tool_monotonic_s(void);

/* Local wall-clock time, "HH:MM:SS\n", for -T. */
void tool_print_timestamp(void);

/*
 * A log2 histogram, slot i counting [2^i, 2^(i+1)) (slot 0 from 0), as
 * libbpf-tools print them: @unit names the values, @indent prefixes lines.
 */
void tool_print_log2_hist(const __u64 *h, int slots, const char *unit, const char *indent);

#endif /* __TOOL_HELPERS_H */
