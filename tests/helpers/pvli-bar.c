// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvli-bar: guest-side access to the ivshmem shared-memory BAR.
 *
 * Finds the ivshmem-plain device by its PCI ID (1af4:1110; its address
 * moves with the other devices), maps BAR2 through sysfs and reads or
 * writes seeded patterns there, so tests can check a host <-> guest
 * round trip.  Built static: the guest image has no libc.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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
