// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvli-host-tsc: the host TSC's frequency, for the guest's kernel command
 * line.
 *
 * Under TCG a guest's RDTSC returns the host's TSC (QEMU's
 * cpu_get_host_ticks()), but the guest kernel does not know its rate: it
 * calibrates against the emulated PIT and HPET, whose reads are slow and
 * late when the host is loaded.  A calibration that is off by more than
 * the clocksource watchdog tolerates (seen: 0.84%) gets the TSC marked
 * unstable some seconds after boot; the guest then switches to HPET
 * (stop_machine() on every vCPU, and from then on every clock read is an
 * emulated MMIO under QEMU's global lock).  pvlock-qemu avoids that by
 * telling the guest the rate (tsc_early_khz=) and that its TSC is
 * reliable, which is true by construction only when the host's TSC is
 * invariant (constant_tsc and nonstop_tsc): this tool checks that too.
 *
 * Prints the frequency in kHz and exits 0, or says why not and exits 1.
 */
#include <argp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#define MEASURE_NS	250000000ULL	/* 250 ms: a few ppm with the pairing below */

const char *argp_program_version = "pvli-host-tsc 0.1";
static const char doc[] =
"pvli-host-tsc: print the host TSC frequency in kHz, measured against\n"
"CLOCK_MONOTONIC_RAW over 250 ms, if the TSC is invariant (constant_tsc and\n"
"nonstop_tsc in /proc/cpuinfo); otherwise say why not and exit 1.\n"
"\n"
"pvlock-qemu passes the figure to TCG guests as tsc_early_khz=, with\n"
"tsc=reliable (see its --help).\n"
"\n"
"EXAMPLES:\n"
"    pvli-host-tsc        # e.g. 2596137\n";

static uint64_t raw_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* A (tsc, ns) pair: the TSC read between the two clock reads closest together. */
static void clock_pair(uint64_t *tsc, uint64_t *ns)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 9; i++) {
		uint64_t a = raw_ns(), t = __rdtsc(), b = raw_ns();

		if (b - a < best) {
			best = b - a;
			*tsc = t;
			*ns = a + (b - a) / 2;
		}
	}
}

/* Both flags on the first CPU's line (they are the same on every CPU). */
static bool tsc_invariant(char *why, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[8192];
	bool constant = false, nonstop = false, seen = false;

	if (!f) {
		snprintf(why, len, "cannot read /proc/cpuinfo");
		return false;
	}
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		seen = true;
		constant = strstr(line, " constant_tsc") != NULL;
		nonstop = strstr(line, " nonstop_tsc") != NULL;
		break;
	}
	fclose(f);
	if (!seen)
		snprintf(why, len, "/proc/cpuinfo has no flags line");
	else if (!constant || !nonstop)
		snprintf(why, len, "the host TSC is not invariant (%s%s%s missing)",
			 constant ? "" : "constant_tsc", !constant && !nonstop ? ", " : "",
			 nonstop ? "" : "nonstop_tsc");
	return seen && constant && nonstop;
}

int main(int argc, char **argv)
{
	static const struct argp argp = { .doc = doc };
	struct timespec pause = { 0, MEASURE_NS };
	uint64_t t0, n0, t1, n1;
	char why[128];

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return 2;
	if (!tsc_invariant(why, sizeof(why))) {
		fprintf(stderr, "pvli-host-tsc: %s\n", why);
		return 1;
	}
	clock_pair(&t0, &n0);
	nanosleep(&pause, NULL);
	clock_pair(&t1, &n1);
	if (n1 <= n0 || t1 <= t0) {
		fprintf(stderr, "pvli-host-tsc: the TSC or the clock did not advance\n");
		return 1;
	}
	printf("%llu\n", (unsigned long long)((t1 - t0) * 1000000ULL / (n1 - n0)));
	return 0;
}
