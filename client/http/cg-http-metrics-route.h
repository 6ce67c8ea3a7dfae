/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

#include "cg-http-bus.h"

G_BEGIN_DECLS

#define CG_HTTP_METRICS_PATH "/metrics"

/* GET /metrics. Without @token_hash only loopback peers (403 otherwise);
 * with it (cg_http_hash_token() of --metrics-token) "Authorization: Bearer
 * TOKEN" from any address (401 otherwise). Adds certgend's GetStatistics
 * when it answers; the message stays paused meanwhile and counts in
 * *@n_scrapes (a field of @owner; 503 beyond a few at once). */
void cg_http_metrics_route_handle(SoupServerMessage *msg, const char *method,
				  const char *token_hash, CgHttpBus *bus, GObject *owner,
				  guint *n_scrapes);

G_END_DECLS
