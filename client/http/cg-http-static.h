/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* The web files: GET / (index.html) and GET /<name> for a plain file of the
 * web root — no directories, no hidden files, known types only; anything
 * else is a plain-text 404. */

/* The Content-Type served for a file @name, or NULL for types not served. */
const char *cg_http_static_content_type(const char *name);
/* TRUE when @name may be served: a known type, not hidden, at most 128 of
 * [A-Za-z0-9._-]. */
gboolean cg_http_static_name_is_valid(const char *name);
/* Answers @method @path from @web_root. */
void cg_http_static_handle(const char *web_root, SoupServerMessage *msg, const char *path,
			   const char *method);

G_END_DECLS
