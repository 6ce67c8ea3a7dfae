/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

#include "cg-http-auth.h"
#include "cg-http-bus.h"

G_BEGIN_DECLS

/* Settings of the bridge; cg_http_config_init() sets the defaults. */
typedef struct {
	char *web_root;
	char **allow_origins;	    /* NULL-terminated; NULL: no cross-origin access */
	guint header_timeout_ms;    /* a new connection must send its headers within */
	guint idle_timeout_ms;	    /* a kept-alive connection may idle this long */
	guint body_timeout_ms;	    /* a request body must arrive within */
	guint keepalive_ms;	    /* SSE comment / WebSocket ping interval */
	guint retry_ms;		    /* SSE "retry:" */
	gsize max_body_bytes;	    /* request bodies (413 beyond) */
	guint max_json_depth;	    /* nesting of JSON bodies (400 beyond) */
	guint streams_per_minute;   /* new SSE/WebSocket connections per web user */
	guint resumes_per_minute;   /* genuine resumes (cg-http-resume.h) per web user */
	guint resume_ttl_s;	    /* a stream's events count for resumes this long */
	guint resumable_per_user;   /* ids remembered for resumes per web user */
	guint max_resumable;	    /* ... and overall */
	guint starts_per_minute;    /* POST /api/certificates per web user */
	guint max_streams;	    /* open streams overall (503 beyond) */
	guint max_streams_per_user; /* open streams per web user (429 beyond) */
	gsize max_stream_backlog;   /* unsent bytes of one stream before it is dropped */
	guint session_ttl_s;
	guint max_sessions_per_user;
	guint max_sessions;
} CgHttpConfig;

void cg_http_config_init(CgHttpConfig *config);
void cg_http_config_clear(CgHttpConfig *config);

#define CG_TYPE_HTTP_SERVER (cg_http_server_get_type())
G_DECLARE_FINAL_TYPE(CgHttpServer, cg_http_server, CG, HTTP_SERVER, GObject)

/* Copies @config; takes references on @auth and @bus. */
CgHttpServer *cg_http_server_new(const CgHttpConfig *config, CgHttpAuth *auth, CgHttpBus *bus);
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

/* For the stream modules (cg-http-sse.c, cg-http-ws.c). */
CgHttpBus *cg_http_server_get_bus(CgHttpServer *self);
const CgHttpConfig *cg_http_server_get_config(CgHttpServer *self);
typedef void (*CgHttpStreamShutdownFunc)(gpointer stream);
/* Registers an open stream whose slot (cg_http_stream_caps_acquire) is held. */
void cg_http_server_add_stream(CgHttpServer *self, gpointer stream, const char *user,
			       CgHttpStreamShutdownFunc shutdown_func);
/* Unregisters it and releases its slot. */
void cg_http_server_remove_stream(CgHttpServer *self, gpointer stream);
/* Takes a stream slot for @user; FALSE with *@error (429 or 503) when full. */
gboolean cg_http_server_acquire_stream_slot(CgHttpServer *self, const char *user,
					    guint *retry_after_s, GError **error);
/* Releases a slot taken but never registered. */
void cg_http_server_release_stream_slot(CgHttpServer *self, const char *user);
/* A stream sent @user the event @sequence of @progress_id (what makes a
 * later resume of it genuine). */
void cg_http_server_note_sent(CgHttpServer *self, const char *user, const char *progress_id,
			      guint64 sequence);

/* Response helpers shared by the modules. */
void cg_http_respond_json(SoupServerMessage *msg, guint status, const char *json);
void cg_http_respond_error(SoupServerMessage *msg, const GError *error, guint retry_after_s);

G_END_DECLS
