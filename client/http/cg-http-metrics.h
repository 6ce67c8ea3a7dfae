/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include <gio/gio.h>

G_BEGIN_DECLS

/* The bridge's own metrics for GET /metrics: plain counters in one
 * process-wide table (main thread only), changed by one-line hooks at the
 * places where things happen, written in the Prometheus text format. */

#define CG_HTTP_METRICS_N_BUCKETS 12

void cg_http_metrics_stream_opened(void);
void cg_http_metrics_stream_closed(void);
/* A frame of an update was handed to the socket; @update_timestamp_us is
 * certgend's timestamp_us of the update (wall clock, 0: unknown). */
void cg_http_metrics_event_delivered(gint64 update_timestamp_us);
/* A request refused by a rate limit; @route names it ("start", ...). */
void cg_http_metrics_rate_limited(const char *route);
void cg_http_metrics_bus_reconnected(void);
/* A terminal update seen on the bus. */
void cg_http_metrics_generation_finished(const char *status);
/* An update from the bus: counted by status when terminal. */
void cg_http_metrics_update_seen(GVariant *update);

/* Appends the metrics to @out. @statistics: certgend's GetStatistics
 * a{sv}, or NULL to leave out the families taken from it. */
void cg_http_metrics_write(GString *out, GVariant *statistics);
/* Appends @value escaped as a label value (backslash, quote, newline). */
void cg_http_metrics_append_label_value(GString *out, const char *value);

/* Forgets every count (tests). */
void cg_http_metrics_reset(void);
/* --redis: /metrics shows the state @func tells (NULL: no Redis lines):
 * whether Redis is connected and how often it reconnected. */
typedef void (*CgHttpMetricsRedisFunc)(gpointer data, gboolean *connected, guint *reconnects);
void cg_http_metrics_set_redis(CgHttpMetricsRedisFunc func, gpointer data);

G_END_DECLS
