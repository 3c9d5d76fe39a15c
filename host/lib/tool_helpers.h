/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the user-space halves of the BPF tools (host/pvlockstat.c,
 * guest/tools/pvlocktrace.c) share, after libbpf-tools' trace_helpers:
 * argp number parsing, SIGINT/SIGTERM handling, libbpf's log filter, time
 * stamps and log2 histograms.  A compiled unit (tool_helpers.c) linked
 * into both; pvlocktrace links it statically, for the guest image.
 */
#ifndef __TOOL_HELPERS_H
#define __TOOL_HELPERS_H

#include <argp.h>
#include <stdbool.h>
#include <stddef.h>

#include <linux/types.h>

/* A positive int-sized count from the command line, or an argp error. */
long tool_parse_count(const char *arg, struct argp_state *state, const char *what);

/*
 * Block SIGINT and SIGTERM from here on: only tool_wait() takes them, so
 * one that comes while the tool is busy (or preempted just before it
 * would wait: a handler plus pause() loses that one and waits for ever)
 * stays pending and ends the next wait at once.
 */
void tool_catch_signals(void);

/*
 * Wait @secs seconds, or (0) for ever, or until SIGINT/SIGTERM.  True
 * once one of them has come: print what was counted and stop.
 */
bool tool_wait(unsigned int secs);

/* Send libbpf's messages to stderr; its debug ones only if @verbose (-v). */
void tool_libbpf_log(bool verbose);

/* Local wall-clock time, HH:MM:SS, for -T. */
void tool_now_string(char *buf, size_t len);

/*
 * A log2 histogram, slot i counting [2^i, 2^(i+1)) (slot 0 from 0), as
 * libbpf-tools print them: @unit names the values, @indent prefixes lines.
 */
void tool_print_log2_hist(const __u64 *h, int slots, const char *unit, const char *indent);

#endif /* __TOOL_HELPERS_H */
