/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * libpvlock: a futex condition variable inside pthread_cond_t, for the
 * interposer (pvlock_interpose.c explains why it needs its own).
 */
#ifndef __PVLOCK_COND_H
#define __PVLOCK_COND_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

/* How a wait releases and retakes its mutex (ours or glibc's). */
struct pvl_cond_mutex_ops {
	int (*unlock)(pthread_mutex_t *m);
	int (*lock)(pthread_mutex_t *m);
};

bool pvl_cond_is_pshared(const pthread_cond_t *c) __attribute__((visibility("hidden")));
clockid_t pvl_cond_clock(const pthread_cond_t *c) __attribute__((visibility("hidden")));
/* 0, ETIMEDOUT, or the mutex's error; @abstime NULL waits for ever. */
int pvl_cond_wait(pthread_cond_t *c, pthread_mutex_t *m, const struct pvl_cond_mutex_ops *ops,
		  clockid_t clock, const struct timespec *abstime)
	__attribute__((visibility("hidden")));
/* Wake one waiter (@one) or all. */
void pvl_cond_wake(pthread_cond_t *c, bool one) __attribute__((visibility("hidden")));

#endif /* __PVLOCK_COND_H */
