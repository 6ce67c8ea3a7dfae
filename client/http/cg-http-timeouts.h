/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* Connection timeouts. libsoup has no timeouts of its own. Each request gets
 * a timer from request-started to got-headers (the header timeout) and from
 * got-headers to got-body (the body timeout), kept as data on the message; a
 * kept-alive connection gets one from request-finished to its next request
 * (the idle timeout: libsoup 3.2 starts the next request only when bytes
 * arrive), kept as data on the socket. When one fires the socket is shut
 * down, libsoup sees end-of-file and drops the connection. A @timeout_ms of
 * 0 means no timeout. */

/* Replaces the request timer of @msg (@what names it in the debug log). */
void cg_http_timeout_arm(SoupServerMessage *msg, guint timeout_ms, const char *what);
void cg_http_timeout_disarm(SoupServerMessage *msg);
/* The idle timer of a kept-alive connection's @socket. */
void cg_http_timeout_arm_idle(GSocket *socket, guint timeout_ms);
void cg_http_timeout_disarm_idle(GSocket *socket);

G_END_DECLS
