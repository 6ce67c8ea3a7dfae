/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-ctl-util.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

void (*cg_log_prepare)(void) = NULL;

static bool log_debug_enabled = false;

void
cg_log_set_debug(bool enabled)
{
	log_debug_enabled = enabled;
}

bool
cg_log_debug_enabled(void)
{
	return log_debug_enabled;
}

static void log_va(int error, const char *format, va_list ap) _printf_(2, 0);

static void
log_va(int error, const char *format, va_list ap)
{
	if (cg_log_prepare != NULL)
		cg_log_prepare();
	fflush(stdout);
	errno = error < 0 ? -error : error;
	vfprintf(stderr, format, ap);
	fputc('\n', stderr);
	fflush(stderr);
}

void
cg_log_message(const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	log_va(errno, format, ap);
	va_end(ap);
}

void
cg_log_debug(const char *format, ...)
{
	va_list ap;

	if (!log_debug_enabled)
		return;
	va_start(ap, format);
	log_va(errno, format, ap);
	va_end(ap);
}

int
cg_log_error_errno(int error, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	log_va(error, format, ap);
	va_end(ap);
	return error < 0 ? error : -error;
}

const char *
cg_strerror(int error)
{
	return strerror(error < 0 ? -error : error);
}

int
cg_log_oom(void)
{
	cg_log_error("Out of memory.");
	return -ENOMEM;
}

int
cg_parse_uint64(const char *s, uint64_t *ret)
{
	unsigned long long v;
	char *end = NULL;

	if (isempty(s) || s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno != 0 || end == s || *end != '\0')
		return -EINVAL;
	*ret = (uint64_t)v;
	return 0;
}

int64_t
cg_now_realtime_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return 0;
	return (int64_t)ts.tv_sec * (int64_t)USEC_PER_SEC + ts.tv_nsec / 1000;
}

void
cg_format_timespan(char *buf, size_t size, uint64_t usec)
{
	uint64_t s = usec / USEC_PER_SEC;

	if (usec < USEC_PER_SEC)
		snprintf(buf, size, "%llums", (unsigned long long)(usec / USEC_PER_MSEC));
	else if (s < 60)
		snprintf(buf, size, "%llus", (unsigned long long)s);
	else if (s < 3600)
		snprintf(buf, size, "%llum%02llus", (unsigned long long)(s / 60),
			 (unsigned long long)(s % 60));
	else
		snprintf(buf, size, "%lluh%02llum", (unsigned long long)(s / 3600),
			 (unsigned long long)(s / 60 % 60));
}

void
cg_format_timestamp(char *buf, size_t size, int64_t usec)
{
	struct tm tm;
	time_t t;

	if (usec <= 0) {
		snprintf(buf, size, "n/a");
		return;
	}
	t = (time_t)(usec / (int64_t)USEC_PER_SEC);
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, size, "%a %Y-%m-%d %H:%M:%S %Z", &tm) == 0)
		snprintf(buf, size, "@%lld", (long long)t);
}

void
cg_format_bytes(char *buf, size_t size, uint64_t bytes)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
	double v = (double)bytes;
	size_t i;

	if (bytes < 1024) {
		snprintf(buf, size, "%llu B", (unsigned long long)bytes);
		return;
	}
	for (i = 0; i < ELEMENTSOF(units) - 1 && v >= 1024.0 * 1024.0; i++)
		v /= 1024.0;
	snprintf(buf, size, "%.1f %s", v / 1024.0, units[i]);
}

/* Length of the control character at s (1, or 2 for a C1 one in UTF-8),
 * or 0 for anything else. */
static size_t
control_length(const char *s)
{
	unsigned char c = (unsigned char)s[0];

	if (c < 0x20 || c == 0x7f)
		return 1;
	if (c == 0xc2 && (unsigned char)s[1] >= 0x80 && (unsigned char)s[1] <= 0x9f)
		return 2;
	return 0;
}

bool
cg_has_control(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if (control_length(s) > 0)
			return true;
	return false;
}

char *
cg_escape_control(const char *s)
{
	size_t len = strlen(s), i, j = 0;
	char *t;

	/* at most 6 bytes ("\u{9b}") for each of the two bytes of a C1
	 * character, 4 ("\x1b") for one byte */
	t = malloc(len * 4 + 1);
	if (t == NULL)
		return NULL;
	for (i = 0; i < len;) {
		size_t n = control_length(s + i);

		if (n == 1)
			j += (size_t)sprintf(t + j, "\\x%02x", (unsigned char)s[i]);
		else if (n == 2)
			j += (size_t)sprintf(t + j, "\\u{%02x}", (unsigned char)s[i + 1]);
		else {
			t[j++] = s[i];
			n = 1;
		}
		i += n;
	}
	t[j] = '\0';
	return t;
}

void
cg_strings_done(CgStrings *pool)
{
	size_t i;

	for (i = 0; i < pool->n; i++)
		free(pool->items[i]);
	free(pool->items);
	*pool = (CgStrings){0};
}

const char *
cg_strings_take(CgStrings *pool, char *s)
{
	char **items;

	if (s == NULL)
		return NULL;
	items = realloc(pool->items, (pool->n + 1) * sizeof(*items));
	if (items == NULL) {
		free(s);
		return NULL;
	}
	pool->items = items;
	pool->items[pool->n++] = s;
	return s;
}

const char *
cg_strings_safe(CgStrings *pool, const char *s)
{
	if (!cg_has_control(s))
		return s;
	return cg_strings_take(pool, cg_escape_control(s));
}
