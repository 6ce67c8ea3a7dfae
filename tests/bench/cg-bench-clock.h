/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the C benchmarks share: their clocks and the comparators they sort
 * samples with. Header-only and plain C (sse-client.c links no GLib).
 */
#pragma once

#include <stdint.h>
#include <time.h>

static inline double
cg_bench_clock_s(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wall time for intervals. */
static inline double
cg_bench_monotonic_s(void)
{
	return cg_bench_clock_s(CLOCK_MONOTONIC);
}

/* The process's CPU time, all threads, user and system. */
static inline double
cg_bench_cpu_s(void)
{
	return cg_bench_clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

/* The time of day, to compare with timestamps another process took. */
static inline int64_t
cg_bench_realtime_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* qsort/g_array_sort comparators. */
static inline int
cg_bench_compare_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static inline int
cg_bench_compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}
