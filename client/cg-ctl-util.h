/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * certgenctl: small helpers in the manner of systemd's basic/ (cleanup
 * attributes, string comparison, logging to stderr with %m).
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _unused_ __attribute__((unused))
#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

#define USEC_PER_SEC ((uint64_t)1000000)
#define USEC_PER_MSEC ((uint64_t)1000)

/* Exit statuses; documented in `certgenctl --help` and certgenctl(1). */
enum {
	CG_EXIT_SUCCESS = 0,	 /* done; the generation completed */
	CG_EXIT_FAILED = 1,	 /* the generation failed, or a local error */
	CG_EXIT_USAGE = 2,	 /* bad command line */
	CG_EXIT_CANCELLED = 3,	 /* the generation was cancelled (or waiting was interrupted) */
	CG_EXIT_TIMED_OUT = 4,	 /* the generation timed out */
	CG_EXIT_UNREACHABLE = 5, /* no bus, or certgend is not running / left the bus */
	CG_EXIT_REFUSED = 6,	 /* certgend answered a call with an error (NotFound, ...) */
};

/* Negative errno values that carry a meaning for the exit status: helpers
 * return them after they have logged what happened. */
#define CG_ERRNO_UNREACHABLE EHOSTDOWN
#define CG_ERRNO_REFUSED EREMOTEIO

static inline void
freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void
closep(int *fd)
{
	if (*fd >= 0) {
		int saved_errno = errno;
		(void)close(*fd);
		errno = saved_errno;
	}
}
#define _cleanup_close_ _cleanup_(closep)

static inline void
fclosep(FILE **f)
{
	if (*f != NULL)
		(void)fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

static inline bool
streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static inline bool
streq_ptr(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return streq(a, b);
}

static inline bool
isempty(const char *s)
{
	return s == NULL || s[0] == '\0';
}

static inline const char *
strna(const char *s)
{
	return isempty(s) ? "n/a" : s;
}

static inline void *
steal_pointer(void *pp)
{
	void **p = pp, *q = *p;
	*p = NULL;
	return q;
}
#define TAKE_PTR(p) steal_pointer(&(p))

static inline int
take_fd(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}
#define TAKE_FD(fd) take_fd(&(fd))

/* Called before anything is written to stderr, so a progress bar drawn on
 * the terminal is erased first (set by cg-ctl-progress.c). */
extern void (*cg_log_prepare)(void);

void cg_log_set_debug(bool enabled);
bool cg_log_debug_enabled(void);

/* Print a message to stderr. The _errno variants set errno to -error (or
 * error) first so "%m" works, and return -abs(error). */
void cg_log_message(const char *format, ...) _printf_(1, 2);
/* Every level but debug goes to stderr alike; the names say what it is. */
#define cg_log_error cg_log_message
#define cg_log_warning cg_log_message
#define cg_log_info cg_log_message
void cg_log_debug(const char *format, ...) _printf_(1, 2);
int cg_log_error_errno(int error, const char *format, ...) _printf_(2, 3);
/* strerror() of an errno or a negative errno (sd-bus style); "%s" with it
 * rather than glibc's "%m", which ISO C (and -Wpedantic) does not know. */
const char *cg_strerror(int error);
int cg_log_oom(void);

/* Parse an unsigned decimal number; -EINVAL or -ERANGE. */
int cg_parse_uint64(const char *s, uint64_t *ret);

/* now(CLOCK_REALTIME) in microseconds */
int64_t cg_now_realtime_us(void);

/* "1h02m", "3m05s", "12s", "850ms" */
void cg_format_timespan(char *buf, size_t size, uint64_t usec);
/* "Fri 2024-05-17 12:00:00 CEST" or "n/a" for 0 */
void cg_format_timestamp(char *buf, size_t size, int64_t usec);
/* "1.2 MiB" */
void cg_format_bytes(char *buf, size_t size, uint64_t bytes);

/* Text from the bus is shown escaped: certgend refuses control characters
 * in what callers give it, but whatever reaches a terminal raw could move
 * the cursor, rewrite the title, or fake output. C0 controls and DEL
 * become \xNN, C1 controls (U+0080-U+009F) \u{NN}; everything else,
 * backslashes included, stays as it is. (certgenctl(1), ESCAPING.) */
bool cg_has_control(const char *s);
/* A newly allocated escaped copy of s, or NULL when out of memory. */
char *cg_escape_control(const char *s);

/* Escaped copies kept until cg_strings_done(). */
typedef struct CgStrings {
	char **items;
	size_t n;
} CgStrings;

void cg_strings_done(CgStrings *pool);
/* s itself when it has no control character, else an escaped copy owned by
 * pool; NULL when out of memory. */
const char *cg_strings_safe(CgStrings *pool, const char *s);
/* Keeps s (malloc()ed, may be NULL) in pool and returns it; frees it and
 * returns NULL when out of memory. */
const char *cg_strings_take(CgStrings *pool, char *s);
