/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* The strict parser of a request head (request line and header fields)
 * that the bridge reads itself (cg-http-accept.h). No allocation until the
 * head is complete and sound; every byte outside what RFC 9112 allows is
 * refused. */

/* The largest head (request line, fields, the blank line) and the most
 * header fields taken: bigger gets 431 (400 for a request line alone
 * longer than the cap). */
#define CG_HTTP_HEAD_MAX_BYTES 8192
#define CG_HTTP_HEAD_MAX_FIELDS 64

/* RFC 6585; libsoup 3.2 has no name for it */
#define CG_HTTP_STATUS_HEADERS_TOO_LARGE 431

typedef enum {
	CG_HTTP_HEAD_INCOMPLETE, /* more bytes are needed */
	CG_HTTP_HEAD_COMPLETE,
	CG_HTTP_HEAD_INVALID, /* @status and @reason say why */
} CgHttpHeadResult;

typedef struct {
	/* request line (cg_http_head_parse_request_line() and _parse()) */
	char *method;
	char *path;  /* the origin-form target before '?', as sent */
	char *query; /* after '?', or NULL */
	SoupHTTPVersion version;
	gsize line_length; /* bytes of the request line with its end */
	/* cg_http_head_parse() */
	SoupMessageHeaders *headers; /* SOUP_MESSAGE_HEADERS_REQUEST */
	gsize length;		     /* bytes of the whole head */
	/* CG_HTTP_HEAD_INVALID */
	guint status; /* 400, 431 or 505 */
	const char *reason;
} CgHttpHead;

/* The request line at the start of @data (@size bytes): COMPLETE with
 * method, path, query, version and line_length set; INCOMPLETE without a
 * line end yet (and fewer than CG_HTTP_HEAD_MAX_BYTES); INVALID. */
CgHttpHeadResult cg_http_head_parse_request_line(const char *data, gsize size, CgHttpHead *head);

/* The whole head at the start of @data: COMPLETE with every field set
 * (headers holds the fields), INCOMPLETE, or INVALID. */
CgHttpHeadResult cg_http_head_parse(const char *data, gsize size, CgHttpHead *head);

/* Frees what @head holds and zeroes it. */
void cg_http_head_clear(CgHttpHead *head);

G_END_DECLS
