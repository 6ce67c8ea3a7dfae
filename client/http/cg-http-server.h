/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

#include "cg-http-auth.h"
#include "cg-http-bus.h"
#include "cg-http-config.h"
#include "cg-http-redis.h"

G_BEGIN_DECLS

/* The bridge's HTTP server (libsoup-3.0): listeners, request life,
 * routing and graceful shutdown; the /api handlers are in cg-http-api.h,
 * the streams in cg-http-sse.h and cg-http-ws.h. */
#define CG_TYPE_HTTP_SERVER (cg_http_server_get_type())
G_DECLARE_FINAL_TYPE(CgHttpServer, cg_http_server, CG, HTTP_SERVER, GObject)

/* Copies @config; takes references on @auth and @bus. */
CgHttpServer *cg_http_server_new(const CgHttpConfig *config, CgHttpAuth *auth, CgHttpBus *bus);
/* --redis (the config's redis_address): the server's Redis side, else NULL. */
CgHttpRedis *cg_http_server_get_redis(CgHttpServer *self);
gboolean cg_http_server_listen(CgHttpServer *self, GSocketAddress *address, GError **error);
/* Listens on an already bound and listening socket (systemd socket activation). */
gboolean cg_http_server_listen_fd(CgHttpServer *self, int fd, GError **error);
/* The URIs listened on ("http://127.0.0.1:8080/"), strings. */
GPtrArray *cg_http_server_get_addresses(CgHttpServer *self);

/* Graceful stop: no new connections, every stream is ended (SSE streams end,
 * WebSockets close with 1001). Returns TRUE while streams or requests are
 * still open; then cg_http_server_disconnect() closes what remains. */
gboolean cg_http_server_begin_shutdown(CgHttpServer *self);
gboolean cg_http_server_is_idle(CgHttpServer *self);
void cg_http_server_disconnect(CgHttpServer *self);

G_END_DECLS
