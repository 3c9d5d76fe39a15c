// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlock-reach: which mutex implementation an unmodified program gets.
 *
 * An ordinary pthread and C11 program, built twice by the Makefile:
 * dynamically (tests/pvlock-reach) and statically (pvlock-reach-static).
 * tests/unit/test_pvlock_preload runs both under LD_PRELOAD of the real
 * libpvlock-preload.so.  For a default pthread mutex and a C11 mtx_plain
 * mutex it prints who ran the lock:
 *
 *   pthread=pvlock c11=pvlock      (or glibc)
 *
 * libpvlock, and only libpvlock, writes the holder's TID into the word
 * glibc keeps for the robust list (__data.__list, pvlock.h's "holder"),
 * which glibc leaves zero for a default mutex.  Exit status 1 if a lock
 * call itself failed.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <threads.h>
#include <unistd.h>

/* The low 32 bits of the holder field while the caller holds @m. */
static const char *who_ran(const pthread_mutex_t *m)
{
	uint64_t holder;

	memcpy(&holder, &m->__data.__list, sizeof(holder));
	return (uint32_t)holder == (uint32_t)syscall(SYS_gettid) ? "pvlock" : "glibc";
}

int main(void)
{
	pthread_mutex_t pm = PTHREAD_MUTEX_INITIALIZER;
	const char *p, *c;
	mtx_t cm;

	if (pthread_mutex_lock(&pm))
		return 1;
	p = who_ran(&pm);
	pthread_mutex_unlock(&pm);

	if (mtx_init(&cm, mtx_plain) != thrd_success || mtx_lock(&cm) != thrd_success)
		return 1;
	c = who_ran((pthread_mutex_t *)&cm);
	mtx_unlock(&cm);
	mtx_destroy(&cm);

	printf("pthread=%s c11=%s\n", p, c);
	return 0;
}
