// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvli-bar: guest-side access to the ivshmem shared-memory BAR.
 *
 * Finds the ivshmem-plain device by its PCI ID (1af4:1110; its address
 * moves with the other devices), maps BAR2 through sysfs and reads or
 * writes seeded patterns there, so tests can check a host <-> guest
 * round trip.  For the host's fault tests it also plays a hostile guest
 * (scribble: garbage into the parts of the page the host writes, as fast
 * as it can) and watches the channel as a guest sees it (watch: the
 * longest time the page was not valid or its heartbeat stood still).
 * Built static: the guest image has no libc.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../../include/pvli_abi.h"
#include "parse.h"
#include "pattern.h"

#define PCI_DEVICES "/sys/bus/pci/devices"
#define IVSHMEM_VENDOR 0x1af4
#define IVSHMEM_DEVICE 0x1110

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: pvli-bar [--device=BDF] COMMAND [ARGS]\n"
		"\n"
		"Access BAR2 of the ivshmem device (PCI 1af4:1110) in this guest.\n"
		"\n"
		"Commands:\n"
		"  find                  print the device address and BAR2 size\n"
		"  fill SEED OFF LEN     write pattern SEED to bytes OFF..OFF+LEN\n"
		"  check SEED OFF LEN    exit 0 if those bytes hold pattern SEED\n"
		"  dump OFF LEN          hex dump of those bytes\n"
		"  scribble SECS         for SECS, write random garbage over the header\n"
		"                        and every record's host half, as fast as it can\n"
		"  watch SECS MS [GENS]  for SECS, every MS ms: is the page valid, has its\n"
		"                        heartbeat moved; print per generation of pvlockd\n"
		"                        the longest time it was not valid or stood still\n"
		"                        (gap_max_ms), and a summary; with GENS, stop 2 s\n"
		"                        after the GENS-th generation\n"
		"\n"
		"  --device=BDF          use this PCI device (default: the first\n"
		"                        1af4:1110 device)\n");
}

static int read_hex_file(const char *dir, const char *name, unsigned long *v)
{
	char path[512], buf[64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	*v = strtoul(buf, NULL, 16);
	return 0;
}

static int find_device(char *bdf, size_t len)
{
	struct dirent **names;
	int n, found = -1;

	n = scandir(PCI_DEVICES, &names, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "pvli-bar: cannot list %s: %s\n", PCI_DEVICES,
			strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char dir[512];
		unsigned long vendor, device;

		snprintf(dir, sizeof(dir), PCI_DEVICES "/%s", names[i]->d_name);
		if (found < 0 && names[i]->d_name[0] != '.' &&
		    !read_hex_file(dir, "vendor", &vendor) &&
		    !read_hex_file(dir, "device", &device) &&
		    vendor == IVSHMEM_VENDOR && device == IVSHMEM_DEVICE) {
			snprintf(bdf, len, "%s", names[i]->d_name);
			found = 0;
		}
		free(names[i]);
	}
	free(names);
	if (found)
		fprintf(stderr, "pvli-bar: no ivshmem device (PCI %04x:%04x) in this guest\n",
			IVSHMEM_VENDOR, IVSHMEM_DEVICE);
	return found;
}

/* BAR2's size from the third line of the sysfs "resource" file. */
static int bar2_size(const char *bdf, size_t *size)
{
	char path[512];
	unsigned long long start, end, flags;
	FILE *f;
	int ok = 0;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/resource", bdf);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "pvli-bar: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (int i = 0; i <= 2; i++)
		ok = fscanf(f, "%llx %llx %llx", &start, &end, &flags) == 3;
	fclose(f);
	if (!ok || end <= start) {
		fprintf(stderr, "pvli-bar: %s has no BAR2\n", bdf);
		return -1;
	}
	*size = end - start + 1;
	return 0;
}

static volatile uint8_t *map_bar2(const char *bdf, size_t size)
{
	char path[512];
	void *p;
	int fd;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/resource2", bdf);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0) {
		fprintf(stderr, "pvli-bar: cannot open %s: %s\n", path, strerror(errno));
		return NULL;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		fprintf(stderr, "pvli-bar: cannot map %s: %s\n", path, strerror(errno));
		return NULL;
	}
	return p;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * A hostile guest: garbage into the header and every record's host half
 * (what the host writes and the guest should only read), 8 bytes at a
 * time, as fast as it can, for @secs.  The guest halves are left alone.
 */
static int scribble(volatile uint8_t *bar, size_t size, uint64_t secs)
{
	uint64_t x = now_ns() | 1, stores = 0, end = now_ns() + secs * 1000000000ULL;
	size_t records = size > PVLI_HDR_SIZE ? (size - PVLI_HDR_SIZE) / PVLI_VCPU_STRIDE : 0;

	while (now_ns() < end) {
		for (int i = 0; i < 4096; i++) {
			size_t r, off;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			r = x % (records + 1);
			off = r == 0 ? (x >> 32) % (PVLI_HDR_SIZE / 8) * 8 :
			      PVLI_HDR_SIZE + (r - 1) * PVLI_VCPU_STRIDE +
			      (x >> 32) % (sizeof(struct pvli_vcpu_host) / 8) * 8;
			*(volatile uint64_t *)(bar + off) = x;
			stores++;
		}
	}
	printf("scribble: %llu stores over %zu records and the header in %llu s\n",
	       (unsigned long long)stores, records, (unsigned long long)secs);
	return 0;
}

/*
 * The channel as this guest sees it: sample the header every @ms ms of
 * guest time.  A sample is good when the header passes pvli_page_check()
 * and the host's heartbeat moved since the last good one; a gap is the
 * time between two good samples.  Each new generation (a pvlockd that
 * created or re-adopted the page) opens an epoch, and every gap is
 * charged to the epoch it ends in, so a restart's gap shows up in the new
 * pvlockd's epoch.  Prints one "watch-gen" line per epoch and a summary;
 * stall_max_ms is the longest time this watcher itself did not run (a
 * gap is only as exact as that).  With @gens, stops 2 s after the
 * @gens-th generation, else after @secs.
 */
#define WATCH_EPOCHS 64

static int watch(volatile uint8_t *bar, size_t size, uint64_t secs, uint64_t ms, uint64_t gens)
{
	struct {
		uint32_t gen;
		uint64_t from, gap_max, gap_end;
	} ep[WATCH_EPOCHS];
	uint64_t start = now_ns(), end = start + secs * 1000000000ULL, last_good = 0, prev = start;
	uint64_t samples = 0, invalid = 0, hb_last = 0, stall_max = 0, gap_max = 0, t;
	unsigned int n = 0, dropped = 0;

	for (;;) {
		struct pvli_page_hdr h;

		t = now_ns();
		if (t >= end)
			break;
		if (t - prev > stall_max)
			stall_max = t - prev;
		prev = t;
		samples++;
		memcpy(&h, (const void *)bar, sizeof(h));
		if (pvli_page_check(&h, size, 0) != PVLI_PAGE_OK) {
			invalid++;
		} else {
			if (!n || h.generation != ep[n - 1].gen) {
				if (n < WATCH_EPOCHS) {
					ep[n].gen = h.generation;
					ep[n].from = t;
					ep[n].gap_max = ep[n].gap_end = 0;
					n++;
				} else {
					dropped++;
				}
				if (gens && n == gens)
					end = t + 2000000000ULL < end ? t + 2000000000ULL : end;
			}
			if (h.heartbeat_ns != hb_last) {
				uint64_t gap = last_good ? t - last_good : 0;

				if (gap > ep[n - 1].gap_max) {
					ep[n - 1].gap_max = gap;
					ep[n - 1].gap_end = t;
				}
				if (gap > gap_max)
					gap_max = gap;
				last_good = t;
				hb_last = h.heartbeat_ns;
			}
		}
		usleep(ms * 1000);
	}
	for (unsigned int i = 0; i < n; i++)
		printf("watch-gen: generation %u from_ms %llu gap_max_ms %llu at_ms %llu\n",
		       ep[i].gen, (unsigned long long)((ep[i].from - start) / 1000000),
		       (unsigned long long)(ep[i].gap_max / 1000000),
		       (unsigned long long)(ep[i].gap_end ? (ep[i].gap_end - start) / 1000000 : 0));
	printf("watch: samples %llu invalid %llu gap_max_ms %llu tail_ms %llu stall_max_ms %llu "
	       "generations %u%s last_generation %u\n",
	       (unsigned long long)samples, (unsigned long long)invalid,
	       (unsigned long long)(gap_max / 1000000),
	       (unsigned long long)(last_good ? (t - last_good) / 1000000 : (t - start) / 1000000),
	       (unsigned long long)(stall_max / 1000000), n + dropped, dropped ? "+" : "",
	       n ? ep[n - 1].gen : 0);
	return 0;
}

static int parse_range(char **argv, size_t size, uint64_t *off, uint64_t *len)
{
	if (!parse_u64(argv[0], off) || !parse_u64(argv[1], len)) {
		fprintf(stderr, "pvli-bar: bad offset/length '%s' '%s'\n", argv[0], argv[1]);
		return -1;
	}
	if (*off > size || *len > size - *off) {
		fprintf(stderr, "pvli-bar: range %llu+%llu is outside BAR2 (%zu bytes)\n",
			(unsigned long long)*off, (unsigned long long)*len, size);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char bdf[256] = "";
	volatile uint8_t *bar;
	uint64_t seed, off, len;
	size_t size, bad;
	const char *cmd;
	int argi = 1;

	if (argi < argc && !strncmp(argv[argi], "--device=", 9))
		snprintf(bdf, sizeof(bdf), "%s", argv[argi++] + 9);
	if (argi < argc && (!strcmp(argv[argi], "--help") || !strcmp(argv[argi], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argi >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[argi++];
	argc -= argi;
	argv += argi;

	if (!bdf[0] && find_device(bdf, sizeof(bdf)))
		return 1;
	if (bar2_size(bdf, &size))
		return 1;

	if (!strcmp(cmd, "find") && argc == 0) {
		printf("%s %zu\n", bdf, size);
		return 0;
	}
	bar = map_bar2(bdf, size);
	if (!bar)
		return 1;

	if ((!strcmp(cmd, "fill") || !strcmp(cmd, "check")) && argc == 3) {
		if (!parse_u64(argv[0], &seed)) {
			fprintf(stderr, "pvli-bar: bad seed '%s'\n", argv[0]);
			return 2;
		}
		if (parse_range(argv + 1, size, &off, &len))
			return 2;
		if (cmd[0] == 'f') {
			pattern_fill(bar + off, off, len, seed);
			return 0;
		}
		bad = pattern_check(bar + off, off, len, seed);
		if (bad == len) {
			printf("pattern %llu ok at %llu+%llu\n", (unsigned long long)seed,
			       (unsigned long long)off, (unsigned long long)len);
			return 0;
		}
		printf("pattern %llu differs at offset %llu: 0x%02x, expected 0x%02x\n",
		       (unsigned long long)seed, (unsigned long long)(off + bad),
		       bar[off + bad], pattern_byte(seed, off + bad));
		return 1;
	}
	if (!strcmp(cmd, "scribble") && argc == 1 && parse_u64(argv[0], &len))
		return scribble(bar, size, len);
	if (!strcmp(cmd, "watch") && (argc == 2 || argc == 3) && parse_u64(argv[0], &len) &&
	    parse_u64(argv[1], &off) && off > 0 && (argc == 2 || parse_u64(argv[2], &seed)))
		return watch(bar, size, len, off, argc == 3 ? seed : 0);
	if (!strcmp(cmd, "dump") && argc == 2) {
		if (parse_range(argv, size, &off, &len))
			return 2;
		for (uint64_t i = 0; i < len; i++)
			printf("%02x%s", bar[off + i], (i % 16 == 15 || i + 1 == len) ? "\n" : " ");
		return 0;
	}
	fprintf(stderr, "pvli-bar: bad command or arguments (see --help)\n");
	return 2;
}
