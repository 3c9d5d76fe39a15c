/* SPDX-License-Identifier: GPL-2.0-only */
/* pvlockd's log: stderr, with syslog priorities when journald reads it. */
#ifndef __PVLOCKD_LOG_H
#define __PVLOCKD_LOG_H

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Messages above this level are dropped (pvlockd -l). */
extern enum log_level pvlockd_log_level;

void pvlockd_log(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...)	pvlockd_log(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	pvlockd_log(LOG_WARN, __VA_ARGS__)
#define log_info(...)	pvlockd_log(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	pvlockd_log(LOG_DEBUG, __VA_ARGS__)

#endif /* __PVLOCKD_LOG_H */
