/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The request-head parser of the bridge's own accept path. It reads what
 * is there (the caller peeks at the socket) and says whether the head is
 * complete, needs more, or is refused; it copies nothing until the head is
 * complete and sound, so a head that arrives in pieces is parsed again from
 * its start each time (bounded by CG_HTTP_HEAD_MAX_BYTES).
 *
 * Strict on purpose (RFC 9112): a line ends with CRLF (a bare LF is taken,
 * as section 2.2 allows; a bare CR is refused); the request line is exactly
 * "METHOD SP origin-form SP HTTP/1.x" with a token method and a target of
 * visible ASCII only; a field is "token ':' OWS value OWS" with no space
 * before the colon, no obsolete line folding, no control character and a
 * value that is valid UTF-8. Other HTTP versions get 505, too many or too
 * long fields 431, the rest 400.
 */
#include "cg-http-head.h"

#include <string.h>

static CgHttpHeadResult
head_invalid(CgHttpHead *head, guint status, const char *reason)
{
	head->status = status;
	head->reason = reason;
	return CG_HTTP_HEAD_INVALID;
}

/* RFC 9110 tchar */
static gboolean
is_tchar(guchar c)
{
	return g_ascii_isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* The next line of @data from @start: its length without the line end in
 * *@line_size and the offset after the line end in *@next; FALSE when no
 * line end is there yet. A CR not before the LF is refused by the callers'
 * byte checks (it is a control character). */
static gboolean
next_line(const char *data, gsize size, gsize start, gsize *line_size, gsize *next)
{
	const char *lf;
	gsize end;

	if (start >= size) /* memchr() of nothing: data may be NULL */
		return FALSE;
	lf = memchr(data + start, '\n', size - start);
	if (lf == NULL)
		return FALSE;
	end = (gsize)(lf - data);
	*next = end + 1;
	if (end > start && data[end - 1] == '\r')
		end--;
	*line_size = end - start;
	return TRUE;
}

CgHttpHeadResult
cg_http_head_parse_request_line(const char *data, gsize size, CgHttpHead *head)
{
	gsize line_size = 0, next = 0, i = 0, method_end, target_start, target_end;
	const char *version;

	if (!next_line(data, MIN(size, CG_HTTP_HEAD_MAX_BYTES), 0, &line_size, &next)) {
		if (size >= CG_HTTP_HEAD_MAX_BYTES)
			return head_invalid(head, SOUP_STATUS_BAD_REQUEST,
					    "The request line is too long");
		/* what is there must still be able to become a request line */
		for (gsize j = 0; j < size; j++) {
			if (data[j] != '\r' && (guchar)data[j] < 0x20)
				return head_invalid(head, SOUP_STATUS_BAD_REQUEST,
						    "Control character in the request line");
		}
		return CG_HTTP_HEAD_INCOMPLETE;
	}
	while (i < line_size && is_tchar((guchar)data[i]))
		i++;
	if (i == 0 || i >= line_size || data[i] != ' ')
		return head_invalid(head, SOUP_STATUS_BAD_REQUEST, "Malformed request line");
	method_end = i;
	target_start = ++i;
	while (i < line_size && (guchar)data[i] > 0x20 && (guchar)data[i] < 0x7f)
		i++;
	target_end = i;
	if (target_end == target_start || data[target_start] != '/' || i >= line_size ||
	    data[i] != ' ')
		return head_invalid(head, SOUP_STATUS_BAD_REQUEST, "Malformed request target");
	i++;
	version = data + i;
	if (line_size - i != strlen("HTTP/1.1") || strncmp(version, "HTTP/", 5) != 0 ||
	    !g_ascii_isdigit(version[5]) || version[6] != '.' || !g_ascii_isdigit(version[7]))
		return head_invalid(head, SOUP_STATUS_BAD_REQUEST, "Malformed HTTP version");
	if (version[5] != '1' || (version[7] != '0' && version[7] != '1'))
		return head_invalid(head, SOUP_STATUS_HTTP_VERSION_NOT_SUPPORTED,
				    "Only HTTP/1.0 and HTTP/1.1 are served");
	g_clear_pointer(&head->method, g_free);
	g_clear_pointer(&head->path, g_free);
	g_clear_pointer(&head->query, g_free);
	head->method = g_strndup(data, method_end);
	{
		const char *question = memchr(data + target_start, '?', target_end - target_start);
		gsize path_end = question != NULL ? (gsize)(question - data) : target_end;

		head->path = g_strndup(data + target_start, path_end - target_start);
		if (question != NULL)
			head->query = g_strndup(question + 1, target_end - path_end - 1);
	}
	head->version = version[7] == '1' ? SOUP_HTTP_1_1 : SOUP_HTTP_1_0;
	head->line_length = next;
	return CG_HTTP_HEAD_COMPLETE;
}

/* One field line (@line, @line_size bytes, no line end) checked and, when
 * @headers is not NULL, added. */
static CgHttpHeadResult
parse_field(const char *line, gsize line_size, SoupMessageHeaders *headers, CgHttpHead *head)
{
	gsize i = 0, value_start, value_end;

	if (line[0] == ' ' || line[0] == '\t')
		return head_invalid(head, SOUP_STATUS_BAD_REQUEST, "Obsolete line folding");
	while (i < line_size && is_tchar((guchar)line[i]))
		i++;
	if (i == 0 || i >= line_size || line[i] != ':')
		return head_invalid(head, SOUP_STATUS_BAD_REQUEST, "Malformed header field");
	value_start = i + 1;
	for (gsize j = value_start; j < line_size; j++) {
		guchar c = (guchar)line[j];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return head_invalid(head, SOUP_STATUS_BAD_REQUEST,
					    "Control character in a header field");
	}
	while (value_start < line_size && (line[value_start] == ' ' || line[value_start] == '\t'))
		value_start++;
	value_end = line_size;
	while (value_end > value_start &&
	       (line[value_end - 1] == ' ' || line[value_end - 1] == '\t'))
		value_end--;
	if (!g_utf8_validate_len(line + value_start, value_end - value_start, NULL))
		return head_invalid(head, SOUP_STATUS_BAD_REQUEST,
				    "A header field value is not UTF-8");
	if (headers != NULL) {
		g_autofree char *name = g_strndup(line, i);
		g_autofree char *value = g_strndup(line + value_start, value_end - value_start);

		soup_message_headers_append(headers, name, value);
	}
	return CG_HTTP_HEAD_COMPLETE;
}

/* Every field line from @start; with @headers NULL only checked (and the
 * end found), else added. */
static CgHttpHeadResult
parse_fields(const char *data, gsize size, gsize start, SoupMessageHeaders *headers,
	     CgHttpHead *head)
{
	gsize pos = start;
	guint n_fields = 0;

	for (;;) {
		gsize line_size = 0, next = 0;
		CgHttpHeadResult result;

		if (!next_line(data, size, pos, &line_size, &next)) {
			if (size >= CG_HTTP_HEAD_MAX_BYTES)
				return head_invalid(head, CG_HTTP_STATUS_HEADERS_TOO_LARGE,
						    "The request head is too large");
			return CG_HTTP_HEAD_INCOMPLETE;
		}
		if (line_size == 0) {
			head->length = next;
			return CG_HTTP_HEAD_COMPLETE;
		}
		if (++n_fields > CG_HTTP_HEAD_MAX_FIELDS)
			return head_invalid(head, CG_HTTP_STATUS_HEADERS_TOO_LARGE,
					    "Too many header fields");
		result = parse_field(data + pos, line_size, headers, head);
		if (result != CG_HTTP_HEAD_COMPLETE)
			return result;
		pos = next;
	}
}

CgHttpHeadResult
cg_http_head_parse(const char *data, gsize size, CgHttpHead *head)
{
	CgHttpHeadResult result;
	g_autoptr(SoupMessageHeaders) headers = NULL;
	const char *length;

	size = MIN(size, CG_HTTP_HEAD_MAX_BYTES);
	result = cg_http_head_parse_request_line(data, size, head);
	if (result != CG_HTTP_HEAD_COMPLETE)
		return result;
	/* checked first, copied only once complete */
	result = parse_fields(data, size, head->line_length, NULL, head);
	if (result != CG_HTTP_HEAD_COMPLETE)
		return result;
	headers = soup_message_headers_new(SOUP_MESSAGE_HEADERS_REQUEST);
	(void)parse_fields(data, size, head->line_length, headers, head);
	if (head->version == SOUP_HTTP_1_1 &&
	    soup_message_headers_get_list(headers, "Host") == NULL)
		return head_invalid(head, SOUP_STATUS_BAD_REQUEST, "HTTP/1.1 needs a Host field");
	/* the bridge reads no body on these routes */
	length = soup_message_headers_get_list(headers, "Content-Length");
	if (soup_message_headers_get_list(headers, "Transfer-Encoding") != NULL ||
	    (length != NULL && g_strcmp0(length, "0") != 0))
		return head_invalid(head, SOUP_STATUS_BAD_REQUEST, "This request takes no body");
	g_clear_pointer(&head->headers, soup_message_headers_unref);
	head->headers = g_steal_pointer(&headers);
	return CG_HTTP_HEAD_COMPLETE;
}

void
cg_http_head_clear(CgHttpHead *head)
{
	g_free(head->method);
	g_free(head->path);
	g_free(head->query);
	g_clear_pointer(&head->headers, soup_message_headers_unref);
	memset(head, 0, sizeof *head);
}
