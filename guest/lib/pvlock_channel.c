// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libpvlock: the channel, and who this thread is.
 *
 * Set-up (once per process, on the first slow path or at load time):
 * open /dev/pvlockinfo read-only, map the scheduler view and the host
 * page (include/pvli_uapi.h), check the view's ABI, and check that the
 * view names this very thread on its CPU: that proves the probe runs
 * and that our TIDs are the kernel's (a process in another PID
 * namespace never matches and falls back).  Anything missing lowers the
 * level: no host mapping -> GUEST, no usable view -> FUTEX.  Set-up
 * never blocks: threads that come while another one sets up use the
 * futex level for that one acquisition.
 *
 * fork(): the child keeps the mappings (MAP_SHARED, inherited) and the
 * file; the atfork handler forgets the cached TID and PID, which differ
 * in the child.  Queue nodes of the parent's other threads may still sit
 * in copied queues; they carry the parent's PID, so waiters in the
 * child see them as not running and pass them (pvlock_queue.c).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pvlock_channel.h"

struct pvl_channel pvl_chan;
int pvl_chan_ready;
uint32_t pvl_pid;
long pvl_rseq_cpu_offset;
struct pvlock_stats pvl_stats;
__thread struct pvl_self pvl_self PVL_TLS;

uint32_t pvl_gettid(void)
{
	pvl_self.tid = syscall(SYS_gettid);
	return pvl_self.tid;
}

uint32_t pvl_getcpu_slow(void)
{
	int c = sched_getcpu();

	return c < 0 ? UINT32_MAX : (uint32_t)c;
}

/* ---- queue nodes: a pool that is never unmapped -------------------------- */
#define NODES_PER_CHUNK	(65536 / sizeof(struct pvl_node))

#define MAX_CHUNKS	1024

static struct pvl_node *free_nodes;	/* linked through ->next, under pool_busy */
static struct pvl_node *chunks[MAX_CHUNKS];	/* every chunk, for the statistics */
static unsigned int nr_chunks;		/* written under pool_busy */
static uint32_t pool_busy;
static pthread_key_t node_key;
static int node_key_ok;

static void pool_lock(void)
{
	while (XCHG_ACQ(&pool_busy, 1))
		sched_yield();
}

static void pool_unlock(void)
{
	STORE_REL(&pool_busy, 0);
}

/* Thread exit: the node goes back to the pool (its memory stays mapped). */
static void node_put(void *p)
{
	struct pvl_node *n = p;

	pool_lock();
	n->next = free_nodes;
	free_nodes = n;
	pool_unlock();
}

struct pvl_node *pvl_node_get(void)
{
	struct pvl_node *n;

	if (likely(pvl_self.node))
		return pvl_self.node;
	pool_lock();
	if (!free_nodes) {
		struct pvl_node *chunk = MAP_FAILED;

		if (nr_chunks < MAX_CHUNKS)
			chunk = mmap(NULL, NODES_PER_CHUNK * sizeof(*chunk), PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (chunk == MAP_FAILED) {
			pool_unlock();
			return NULL;
		}
		/* Readers take the count with acquire: pairs with this release. */
		chunks[nr_chunks] = chunk;
		STORE_REL(&nr_chunks, nr_chunks + 1);
		for (size_t i = 0; i < NODES_PER_CHUNK; i++) {
			chunk[i].next = free_nodes;
			free_nodes = &chunk[i];
		}
	}
	n = free_nodes;
	free_nodes = n->next;
	pool_unlock();
	n->next = NULL;
	pvl_self.node = n;
	if (node_key_ok)
		pthread_setspecific(node_key, n);
	return n;
}

/* ---- set-up ------------------------------------------------------------------ */
static void atfork_child(void)
{
	pvl_self.tid = 0;
	pvl_pid = getpid();
	pool_busy = 0;		/* the thread that held it is not in the child */
}

static enum pvlock_level level_cap(void)
{
	const char *s = getenv("PVLOCK_LEVEL");

	if (!s || !*s || !strcmp(s, "both") || !strcmp(s, "auto"))
		return PVLOCK_LEVEL_BOTH;
	if (!strcmp(s, "guest"))
		return PVLOCK_LEVEL_GUEST;
	return PVLOCK_LEVEL_FUTEX;
}

/* Whether the view names this thread on its CPU (a few tries: we may move). */
static bool view_sees_me(void)
{
	uint32_t tid = pvl_gettid();

	for (int tries = 0; tries < 100; tries++) {
		uint32_t cpu = pvl_cpu();

		if (cpu < pvl_chan.nr_cpus && LOAD(&pvl_chan.cpus[cpu].tid) == tid)
			return true;
	}
	return false;
}

static void fill_channel(const void *view, size_t view_len, const void *host,
			 enum pvlock_level cap);

/* Map the device; fills pvl_chan, or says why not in pvl_chan.why. */
static void map_device(enum pvlock_level cap)
{
	const struct pvli_uview_hdr *hdr;
	size_t view_len, host_len;
	void *view, *host;
	int fd;

	fd = open(PVLI_UAPI_DEVICE, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pvl_chan.why = "no " PVLI_UAPI_DEVICE " (pvlockinfo.ko not loaded)";
		return;
	}
	/* The header first: it says how much there is to map. */
	hdr = mmap(NULL, PVLI_UAPI_HDR_SIZE, PROT_READ, MAP_SHARED, fd, PVLI_UAPI_VIEW_OFFSET);
	if (hdr == MAP_FAILED) {
		pvl_chan.why = "cannot map the view";
		goto out;
	}
	view_len = hdr->view_size;
	munmap((void *)hdr, PVLI_UAPI_HDR_SIZE);
	view = mmap(NULL, view_len, PROT_READ, MAP_SHARED, fd, PVLI_UAPI_VIEW_OFFSET);
	if (view == MAP_FAILED) {
		pvl_chan.why = "cannot map the view";
		goto out;
	}
	if (pvli_uview_check(view, view_len)) {
		pvl_chan.why = "view ABI not understood";
		munmap(view, view_len);
		goto out;
	}
	hdr = view;
	host = NULL;
	host_len = (pvli_page_bytes(hdr->nr_cpus) + 4095) & ~4095UL;
	if (cap == PVLOCK_LEVEL_BOTH && hdr->nr_cpus <= PVLI_MAX_VCPUS) {
		/* Zero pages until a host page is bound; host_live says when to trust it. */
		host = mmap(NULL, host_len, PROT_READ, MAP_SHARED, fd, PVLI_UAPI_HOST_OFFSET);
		if (host == MAP_FAILED)
			host = NULL;
	}
	fill_channel(view, view_len, host, cap);
	if (!(LOAD_ACQ(&hdr->flags) & PVLI_UVIEW_SCHED) || !view_sees_me()) {
		pvl_chan.level = PVLOCK_LEVEL_FUTEX;
		pvl_chan.why = "the view does not name this thread (probe off, or another PID namespace)";
	}
out:
	/* The mappings keep the device open. */
	close(fd);
}

static void fill_channel(const void *view, size_t view_len, const void *host,
			 enum pvlock_level cap)
{
	const struct pvli_uview_hdr *hdr = view;

	memset(&pvl_chan, 0, sizeof(pvl_chan));
	pvl_chan.level = PVLOCK_LEVEL_FUTEX;
	pvl_chan.why = "capped by PVLOCK_LEVEL";
	if (hdr && cap > PVLOCK_LEVEL_FUTEX && !pvli_uview_check(hdr, view_len)) {
		pvl_chan.view = hdr;
		pvl_chan.cpus = (const void *)((const char *)hdr + hdr->hdr_size);
		pvl_chan.nr_cpus = hdr->nr_cpus;
		pvl_chan.level = PVLOCK_LEVEL_GUEST;
		if (host && cap == PVLOCK_LEVEL_BOTH) {
			pvl_chan.host = (const void *)((const char *)host + PVLI_HDR_SIZE);
			pvl_chan.level = PVLOCK_LEVEL_BOTH;
		}
		pvl_chan.why = NULL;
	}
}

void pvl_channel_use(const void *view, size_t view_len, const void *host,
		     enum pvlock_level cap)
{
	fill_channel(view, view_len, host, cap);
	/* Lockers that see 2 see the channel: pairs with pvl_level_now()'s acquire. */
	STORE_REL(&pvl_chan_ready, 2);
}

/* PVLOCK_DEBUG: the level usable now, and why not better. */
static void debug_level(void)
{
	enum pvlock_level now = pvl_level_now();
	const char *why = pvl_chan.why;

	if (now < pvl_chan.level)
		why = "no live host page now (host_live 0); both levels once there is";
	fprintf(stderr, "libpvlock: level %s%s%s\n", pvlock_level_name(now),
		why ? ": " : "", why ? why : "");
}

void pvl_channel_setup(void)
{
	enum pvlock_level cap;

	if (!CAS_ACQ(&pvl_chan_ready, 0, 1))
		return;		/* done, or being done */
	pvl_pid = getpid();
	if (__rseq_size > 0)
		pvl_rseq_cpu_offset = __rseq_offset + offsetof(struct rseq, cpu_id);
	if (!pthread_key_create(&node_key, node_put))
		node_key_ok = 1;
	pthread_atfork(NULL, NULL, atfork_child);
	cap = level_cap();
	fill_channel(NULL, 0, NULL, PVLOCK_LEVEL_FUTEX);
	if (cap > PVLOCK_LEVEL_FUTEX)
		map_device(cap);
	STORE_REL(&pvl_chan_ready, 2);
	if (getenv("PVLOCK_DEBUG"))
		debug_level();
}

/* Set up as the library loads, before the program's threads start. */
__attribute__((constructor)) static void pvl_load(void)
{
	pvl_channel_setup();
}

enum pvlock_level pvlock_level(void)
{
	return pvl_level_now();
}

const char *pvlock_level_name(enum pvlock_level level)
{
	switch (level) {
	case PVLOCK_LEVEL_FUTEX: return "futex";
	case PVLOCK_LEVEL_GUEST: return "guest";
	case PVLOCK_LEVEL_BOTH: return "both";
	}
	return "?";
}

static void stats_add(struct pvlock_stats *out, const struct pvlock_stats *s)
{
	out->slow += LOAD(&s->slow);
	out->blocks += LOAD(&s->blocks);
	out->holder_off_guest += LOAD(&s->holder_off_guest);
	out->holder_off_host += LOAD(&s->holder_off_host);
	out->bypasses += LOAD(&s->bypasses);
}

/* The sum over every node ever handed out (free ones keep their counts) and the fallback. */
void pvlock_stats_get(struct pvlock_stats *out)
{
	unsigned int nc = LOAD_ACQ(&nr_chunks);

	memset(out, 0, sizeof(*out));
	stats_add(out, &pvl_stats);
	for (unsigned int c = 0; c < nc; c++)
		for (size_t i = 0; i < NODES_PER_CHUNK; i++)
			stats_add(out, &chunks[c][i].stats);
}
