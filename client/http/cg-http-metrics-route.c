/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GET /metrics: who may scrape, and the scrape itself (the bridge's own
 * counters and, when certgend answers, its GetStatistics). */
#include "cg-http-metrics-route.h"
#include "cg-http-log.h"

#include "cg-http-auth.h"
#include "cg-http-metrics.h"
#include "cg-http-pending.h"
#include "cg-http-response.h"

#define CG_HTTP_MAX_SCRAPES 4
#define CG_HTTP_METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

static gboolean
is_loopback_peer(SoupServerMessage *msg)
{
	GSocketAddress *address = soup_server_message_get_remote_address(msg);

	return address != NULL && G_IS_INET_SOCKET_ADDRESS(address) &&
	       g_inet_address_get_is_loopback(
		   g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(address)));
}

/* Compares the hashes in time independent of where they differ. */
static gboolean
token_matches(SoupServerMessage *msg, const char *token_hash)
{
	const char *header = soup_message_headers_get_one(
	    soup_server_message_get_request_headers(msg), "Authorization");
	g_autofree char *hash = NULL;
	gsize len = strlen(token_hash);
	guchar diff = 0;

	if (header == NULL || !g_str_has_prefix(header, "Bearer ") || header[7] == '\0')
		return FALSE;
	hash = cg_http_hash_token(header + 7, strlen(header + 7));
	if (strlen(hash) != len)
		return FALSE;
	for (gsize i = 0; i < len; i++)
		diff |= (guchar)(hash[i] ^ token_hash[i]);
	return diff == 0;
}

static gboolean
admit(SoupServerMessage *msg, const char *token_hash)
{
	if (token_hash != NULL) {
		if (token_matches(msg, token_hash))
			return TRUE;
		soup_message_headers_replace(soup_server_message_get_response_headers(msg),
					     "WWW-Authenticate",
					     "Bearer realm=\"certgen-metrics\"");
		cg_http_respond_new_error(msg, CG_HTTP_ERROR_UNAUTHORIZED, 0,
					  "The metrics need Authorization: Bearer with the "
					  "metrics token");
		return FALSE;
	}
	if (is_loopback_peer(msg))
		return TRUE;
	cg_http_respond_new_error(msg, CG_HTTP_ERROR_FORBIDDEN, 0,
				  "The metrics are served to loopback clients only");
	return FALSE;
}

static void
respond_metrics(SoupServerMessage *msg, GVariant *statistics)
{
	GString *out = g_string_new(NULL);
	gsize len;

	cg_http_metrics_write(out, statistics);
	len = out->len;
	soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
	soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Cache-Control",
				     "no-store");
	soup_server_message_set_response(msg, CG_HTTP_METRICS_TYPE, SOUP_MEMORY_TAKE,
					 g_string_free(out, FALSE), len);
}

static void
statistics_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	CgHttpPending *pending = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply =
	    cg_http_bus_call_finish(CG_HTTP_BUS(source), result, NULL, &error);
	g_autoptr(GVariant) statistics = NULL;

	if (reply == NULL)
		cg_http_debug("Metrics without certgend's statistics: %s", error->message);
	else
		statistics = g_variant_get_child_value(reply, 0);
	if (!pending->closed)
		respond_metrics(pending->msg, statistics);
	cg_http_pending_done(pending);
}

void
cg_http_metrics_route_handle(SoupServerMessage *msg, const char *method, const char *token_hash,
			     CgHttpBus *bus, GObject *owner, guint *n_scrapes)
{
	CgHttpPending *pending;

	if (!g_str_equal(method, SOUP_METHOD_GET)) {
		cg_http_respond_method_not_allowed(msg, "GET");
		return;
	}
	if (!admit(msg, token_hash))
		return;
	if (*n_scrapes >= CG_HTTP_MAX_SCRAPES) {
		cg_http_respond_new_error(msg, CG_HTTP_ERROR_UNAVAILABLE, 1,
					  "At most %u metrics scrapes at once",
					  CG_HTTP_MAX_SCRAPES);
		return;
	}
	pending = cg_http_pending_new(owner, n_scrapes, msg, NULL, NULL);
	cg_http_bus_call(bus, "GetStatistics", NULL, G_VARIANT_TYPE("(a{sv})"), NULL, statistics_cb,
			 pending);
}
