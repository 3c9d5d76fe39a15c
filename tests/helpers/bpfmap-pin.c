// SPDX-License-Identifier: GPL-2.0-only
/*
 * bpfmap-pin: create, pin, fill and check BPF maps for the tests of
 * QEMU's memory-backend-bpf.
 *
 * Besides the good case (an mmapable array map), it makes each object the
 * backend must refuse: a map of another type, an array without
 * BPF_F_MMAPABLE, a map too small, a pinned program, a pin without
 * permissions.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "../../include/pvli_abi.h"
#include "parse.h"
#include "pattern.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: bpfmap-pin COMMAND PIN [ARGS]\n"
		"\n"
		"  create PIN [--size=BYTES] [--type=array|hash] [--no-mmapable] [--mode=OCTAL]\n"
		"                          create a map and pin it (default: mmapable\n"
		"                          array of 4096 bytes, mode 0600)\n"
		"  prog PIN                pin a trivial socket filter program\n"
		"  fill PIN SEED [OFF LEN] write pattern SEED into the map's memory\n"
		"  check PIN SEED [OFF LEN] exit 0 if the map's memory holds pattern SEED\n"
		"  wait PIN SEED OFF LEN MS poll until it does, for at most MS ms\n"
		"  header PIN NVCPUS [magic=N] [major=N] [stride=N] [page_size=N] [state=N]\n"
		"                          write a pvlockinfo page header (defaults:\n"
		"                          valid for the map) with the given fields;\n"
		"                          state=N also sets every record's host state\n"
		"  rm PIN                  unpin\n");
}

static int die(const char *what, const char *pin)
{
	fprintf(stderr, "bpfmap-pin: %s %s: %s\n", what, pin, strerror(errno));
	return 1;
}

static int cmd_create(const char *pin, int argc, char **argv)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_MMAPABLE);
	enum bpf_map_type type = BPF_MAP_TYPE_ARRAY;
	uint64_t size = 4096, mode = 0600;
	int fd;

	for (int i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "--size=", 7) && parse_u64(argv[i] + 7, &size) &&
		    size >= 8 && size % 8 == 0)
			continue;
		if (!strcmp(argv[i], "--type=array"))
			continue;
		if (!strcmp(argv[i], "--type=hash")) {
			type = BPF_MAP_TYPE_HASH;
			opts.map_flags &= ~BPF_F_MMAPABLE;
			continue;
		}
		if (!strcmp(argv[i], "--no-mmapable")) {
			opts.map_flags &= ~BPF_F_MMAPABLE;
			continue;
		}
		if (!strncmp(argv[i], "--mode=", 7)) {
			char *end;

			mode = strtoul(argv[i] + 7, &end, 8);
			if (!*end && mode <= 0777)
				continue;
		}
		fprintf(stderr, "bpfmap-pin: bad create option '%s'\n", argv[i]);
		return 2;
	}

	/* 8-byte values leave no padding: the value area is exactly @size. */
	fd = bpf_map_create(type, "pvli_test", 4, 8, size / 8, &opts);
	if (fd < 0)
		return die("cannot create map for", pin);
	if (bpf_obj_pin(fd, pin))
		return die("cannot pin", pin);
	if (chmod(pin, mode))
		return die("cannot chmod", pin);
	close(fd);
	return 0;
}

static int cmd_prog(const char *pin)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "pvli_test", "GPL",
			       insns, 2, NULL);

	if (fd < 0)
		return die("cannot load a program for", pin);
	if (bpf_obj_pin(fd, pin))
		return die("cannot pin", pin);
	close(fd);
	return 0;
}

/* Map the whole value area of the map pinned at @pin. */
static volatile uint8_t *map_pin(const char *pin, size_t *size)
{
	struct bpf_map_info info = {};
	uint32_t len = sizeof(info);
	long page = sysconf(_SC_PAGESIZE);
	void *p;
	int fd;

	fd = bpf_obj_get(pin);
	if (fd < 0) {
		die("cannot open", pin);
		return NULL;
	}
	if (bpf_map_get_info_by_fd(fd, &info, &len)) {
		die("cannot query", pin);
		close(fd);
		return NULL;
	}
	*size = ((size_t)info.value_size * info.max_entries + page - 1) / page * page;
	p = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		die("cannot mmap", pin);
		return NULL;
	}
	return p;
}

static int parse_pattern_args(int argc, char **argv, size_t size, uint64_t *seed,
			      uint64_t *off, uint64_t *len)
{
	*off = 0;
	*len = size;
	if (argc < 1 || !parse_u64(argv[0], seed) ||
	    (argc >= 3 && (!parse_u64(argv[1], off) || !parse_u64(argv[2], len)))) {
		fprintf(stderr, "bpfmap-pin: bad SEED [OFF LEN]\n");
		return 2;
	}
	if (*off > size || *len > size - *off) {
		fprintf(stderr, "bpfmap-pin: range outside the map (%zu bytes)\n", size);
		return 2;
	}
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmd_pattern(const char *cmd, const char *pin, int argc, char **argv)
{
	uint64_t seed, off, len, wait_ms = 0;
	volatile uint8_t *mem;
	size_t size, bad;
	double deadline;
	int err;

	mem = map_pin(pin, &size);
	if (!mem)
		return 1;
	if (!strcmp(cmd, "wait") && (argc != 4 || !parse_u64(argv[3], &wait_ms))) {
		fprintf(stderr, "bpfmap-pin: wait needs SEED OFF LEN MS\n");
		return 2;
	}
	err = parse_pattern_args(argc, argv, size, &seed, &off, &len);
	if (err)
		return err;
	if (!strcmp(cmd, "fill")) {
		pattern_fill(mem + off, off, len, seed);
		return 0;
	}
	deadline = now_ms() + wait_ms;
	while ((bad = pattern_check(mem + off, off, len, seed)) != len) {
		if (now_ms() >= deadline) {
			printf("pattern %llu differs at offset %llu: 0x%02x, expected 0x%02x\n",
			       (unsigned long long)seed, (unsigned long long)(off + bad),
			       mem[off + bad], pattern_byte(seed, off + bad));
			return 1;
		}
		usleep(10000);
	}
	printf("pattern %llu ok at %llu+%llu\n", (unsigned long long)seed,
	       (unsigned long long)off, (unsigned long long)len);
	return 0;
}

/* A header as pvlockd writes it, with any field overridden. */
static int cmd_header(const char *pin, int argc, char **argv)
{
	struct pvli_page_hdr *h;
	volatile uint8_t *mem;
	uint64_t v, nr, state = UINT64_MAX;
	size_t size;

	if (argc < 1 || !parse_u64(argv[0], &nr)) {
		fprintf(stderr, "bpfmap-pin: header needs NVCPUS\n");
		return 2;
	}
	mem = map_pin(pin, &size);
	if (!mem)
		return 1;
	if (size < sizeof(*h)) {
		fprintf(stderr, "bpfmap-pin: %s is too small for a header\n", pin);
		return 1;
	}
	h = (struct pvli_page_hdr *)mem;
	memset(h, 0, sizeof(*h));
	h->magic = PVLI_PAGE_MAGIC;
	h->abi_major = PVLI_ABI_MAJOR;
	h->abi_minor = PVLI_ABI_MINOR;
	h->hdr_size = PVLI_HDR_SIZE;
	h->vcpu_stride = PVLI_VCPU_STRIDE;
	h->nr_vcpus = nr;
	h->page_size = size;
	h->accel = PVLI_ACCEL_TCG;
	for (int i = 1; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (!eq || !parse_u64(eq + 1, &v)) {
			fprintf(stderr, "bpfmap-pin: bad field '%s'\n", argv[i]);
			return 2;
		}
		*eq = '\0';
		if (!strcmp(argv[i], "magic"))
			h->magic = v;
		else if (!strcmp(argv[i], "major"))
			h->abi_major = v;
		else if (!strcmp(argv[i], "stride"))
			h->vcpu_stride = v;
		else if (!strcmp(argv[i], "page_size"))
			h->page_size = v;
		else if (!strcmp(argv[i], "state"))
			state = v;
		else {
			fprintf(stderr, "bpfmap-pin: unknown field '%s'\n", argv[i]);
			return 2;
		}
	}
	/* A page that claims every vCPU is, say, preempted: for stale-page tests. */
	for (uint64_t i = 0; state != UINT64_MAX && i < nr &&
	     pvli_page_bytes(i + 1) <= size; i++) {
		struct pvli_vcpu *rec = (struct pvli_vcpu *)(mem + pvli_page_bytes(i));

		rec->host.state = state;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd, *pin;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc < 3) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	pin = argv[2];
	if (!strcmp(cmd, "create"))
		return cmd_create(pin, argc - 3, argv + 3);
	if (!strcmp(cmd, "prog") && argc == 3)
		return cmd_prog(pin);
	if (!strcmp(cmd, "fill") || !strcmp(cmd, "check") || !strcmp(cmd, "wait"))
		return cmd_pattern(cmd, pin, argc - 3, argv + 3);
	if (!strcmp(cmd, "header"))
		return cmd_header(pin, argc - 3, argv + 3);
	if (!strcmp(cmd, "rm") && argc == 3)
		return unlink(pin) ? die("cannot unpin", pin) : 0;
	usage(stderr);
	return 2;
}
