// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvli-devcheck: in the guest, what /dev/pvlockinfo promises
 * (include/pvli_uapi.h), checked from user space.
 *
 * - read-only: a writable open, a writable shared or private mapping,
 *   mprotect() to PROT_WRITE and a write through /proc/self/mem all fail;
 * - the view: its ABI, the probe flag while open, and the record of this
 *   CPU names this thread;
 * - the host region, as the caller says it must be (--host=):
 *   live   host_live 1 and the live page (magic, enough vCPUs, this vCPU
 *          RUNNING, as it must be while we read it);
 *   stale  a page is bound (host_size > 0) but the driver does not trust
 *          it (garbage records, stopped heartbeat): host_live 0;
 *   none   no page bound (refused, or no device): host_live 0,
 *          host_size 0, and the region reads zeros;
 * - with --unbind, last: unbind the PCI device while the host region is
 *   mapped; the header must say so and the same mapping must read zeros
 *   (the driver zapped it; no process keeps a BAR that went away).
 * One line per check; exit 0 when all pass, 1 otherwise, 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../include/pvli_abi.h"
#include "../../include/pvli_uapi.h"

#define PCI_DRIVER_DIR "/sys/bus/pci/drivers/pvlockinfo"
/* The kernel changes the header under us: read it afresh every time. */
#define FRESH(x) (*(const volatile __typeof__(x) *)&(x))

static int failures;

static void check(int ok, const char *what)
{
	printf("%s: %s\n", ok ? "ok" : "FAIL", what);
	failures += !ok;
}

static int all_zero(const volatile uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return 0;
	return 1;
}

/* Unbind the device pvlockinfo drives (its address moves: look it up). */
static int unbind_device(void)
{
	DIR *d = opendir(PCI_DRIVER_DIR);
	struct dirent *e;
	int ok = 0;

	if (!d)
		return 0;
	while (!ok && (e = readdir(d))) {
		FILE *f;

		if (strncmp(e->d_name, "0000:", 5))
			continue;
		f = fopen(PCI_DRIVER_DIR "/unbind", "w");
		if (!f)
			break;
		ok = fputs(e->d_name, f) >= 0;
		ok = !fclose(f) && ok;
	}
	closedir(d);
	return ok;
}

int main(int argc, char **argv)
{
	const char *want = "live";
	int unbind = 0;
	__u32 gen;

	const struct pvli_uview_hdr *v;
	const struct pvli_ucpu *cpus;
	const struct pvli_page_hdr *h;
	const struct pvli_vcpu *rec;
	size_t vlen, hlen;
	void *p;
	int fd, memfd, seen = 0;
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--host=live") || !strcmp(argv[i], "--host=stale") ||
		    !strcmp(argv[i], "--host=none")) {
			want = argv[i] + 7;
		} else if (!strcmp(argv[i], "--unbind")) {
			unbind = 1;
		} else {
			fprintf(stderr, "Usage: pvli-devcheck [--host=live|stale|none] [--unbind]\n");
			return 2;
		}
	}
	fd = open(PVLI_UAPI_DEVICE, O_RDWR);
	check(fd < 0 && errno == EPERM, "a writable open is refused (EPERM)");
	if (fd >= 0)
		close(fd);
	fd = open(PVLI_UAPI_DEVICE, O_RDONLY);
	if (fd < 0) {
		perror(PVLI_UAPI_DEVICE);
		return 1;
	}
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	check(p == MAP_FAILED, "a writable shared mapping is refused");
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	check(p == MAP_FAILED, "a writable private mapping is refused");
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, PVLI_UAPI_HOST_OFFSET);
	check(p == MAP_FAILED, "a writable private mapping of the host page is refused");

	v = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, PVLI_UAPI_VIEW_OFFSET);
	if (v == MAP_FAILED) {
		perror("mmap view");
		return 1;
	}
	vlen = v->view_size;
	check(mprotect((void *)v, 4096, PROT_READ | PROT_WRITE) != 0,
	      "mprotect() cannot make the view writable");
	memfd = open("/proc/self/mem", O_RDWR);
	if (memfd >= 0) {
		char c = 0;

		check(pwrite(memfd, &c, 1, (off_t)(uintptr_t)v) != 1,
		      "a write through /proc/self/mem fails");
		close(memfd);
	}
	munmap((void *)v, 4096);
	v = mmap(NULL, vlen, PROT_READ, MAP_SHARED, fd, PVLI_UAPI_VIEW_OFFSET);
	check(v != MAP_FAILED && pvli_uview_check(v, vlen) == 0, "the view's ABI checks out");
	if (v == MAP_FAILED)
		return 1;
	check(v->nr_cpus >= ncpu, "the view covers every CPU");
	check(v->flags & PVLI_UVIEW_SCHED, "the sched_switch probe runs while the device is open");
	cpus = (const void *)((const char *)v + v->hdr_size);
	for (int i = 0; i < 1000 && !seen; i++) {
		int cpu = sched_getcpu();

		seen = cpu >= 0 && cpus[cpu].tid == (uint32_t)syscall(SYS_gettid);
	}
	check(seen, "the view names this thread on its CPU");

	hlen = (pvli_page_bytes(v->nr_cpus) + 4095) & ~4095UL;
	h = mmap(NULL, hlen, PROT_READ, MAP_SHARED, fd, PVLI_UAPI_HOST_OFFSET);
	check(h != MAP_FAILED, "the host region maps");
	if (h == MAP_FAILED)
		return 1;
	check(mprotect((void *)h, 4096, PROT_READ | PROT_WRITE) != 0,
	      "mprotect() cannot make the host region writable");
	gen = FRESH(v->host_gen);
	printf("note: host_live %u, host_size %u, host_gen %u\n", FRESH(v->host_live),
	       FRESH(v->host_size), gen);
	if (!strcmp(want, "live")) {
		check(FRESH(v->host_live) == 1, "the driver trusts the host page (host_live 1)");
		check(h->magic == PVLI_PAGE_MAGIC && h->abi_major == PVLI_ABI_MAJOR,
		      "the host region is the live page");
		check(h->nr_vcpus >= ncpu, "the page has a record per vCPU");
		rec = (const void *)((const char *)h + h->hdr_size);
		seen = 0;
		for (int i = 0; i < 1000 && !seen; i++) {
			int cpu = sched_getcpu();

			seen = cpu >= 0 && cpu < (int)h->nr_vcpus &&
			       rec[cpu].host.state == PVLI_STATE_RUNNING;
		}
		check(seen, "the host says this vCPU runs");
	} else if (!strcmp(want, "stale")) {
		check(FRESH(v->host_live) == 0, "a page the driver does not trust says host_live 0");
		check(FRESH(v->host_size) > 0, "a page is bound (host_size > 0)");
	} else {
		check(FRESH(v->host_live) == 0 && FRESH(v->host_size) == 0,
		      "without a bound page: host_live 0, host_size 0");
		check(all_zero((const void *)h, hlen), "without a bound page the region reads zeros");
	}
	if (unbind) {
		check(unbind_device(), "the PCI device unbinds");
		check(FRESH(v->host_live) == 0 && FRESH(v->host_size) == 0 && FRESH(v->host_gen) != gen,
		      "after the unbind: host_live 0, host_size 0, host_gen moved");
		check(all_zero((const void *)h, hlen),
		      "after the unbind the same mapping reads zeros (zapped)");
	}
	return failures ? 1 : 0;
}
