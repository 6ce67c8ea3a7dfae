/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Serving the web component and the generation page from the web root. */
#include "cg-http-static.h"
#include "cg-http-log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cg-http-response.h"

#define CG_HTTP_MAX_STATIC_BYTES (8 * 1024 * 1024)
#define CG_HTTP_MAX_STATIC_NAME_LEN 128

const char *
cg_http_static_content_type(const char *name)
{
	static const struct {
		const char *suffix;
		const char *type;
	} types[] = {
	    {".html", "text/html; charset=utf-8"},
	    {".js", "text/javascript; charset=utf-8"},
	    {".mjs", "text/javascript; charset=utf-8"},
	    {".css", "text/css; charset=utf-8"},
	    {".svg", "image/svg+xml"},
	    {".png", "image/png"},
	    {".ico", "image/x-icon"},
	    {".json", "application/json"},
	    {".txt", "text/plain; charset=utf-8"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(types); i++) {
		if (g_str_has_suffix(name, types[i].suffix))
			return types[i].type;
	}
	return NULL;
}

gboolean
cg_http_static_name_is_valid(const char *name)
{
	if (cg_http_static_content_type(name) == NULL || name[0] == '.' ||
	    strchr(name, '/') != NULL || strchr(name, '\\') != NULL || strchr(name, '%') != NULL ||
	    strlen(name) > CG_HTTP_MAX_STATIC_NAME_LEN)
		return FALSE;
	for (const char *p = name; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && *p != '.' && *p != '-' && *p != '_')
			return FALSE;
	}
	return TRUE;
}

static void
respond_not_found_page(SoupServerMessage *msg)
{
	const char *text = "Not found\n";

	soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
	soup_server_message_set_response(msg, "text/plain; charset=utf-8", SOUP_MEMORY_STATIC, text,
					 strlen(text));
}

void
cg_http_static_handle(const char *web_root, SoupServerMessage *msg, const char *path,
		      const char *method)
{
	const char *name = g_str_equal(path, "/") ? "index.html" : path + 1;
	g_autofree char *file = NULL;
	g_autofree char *contents = NULL;
	g_autoptr(GError) error = NULL;
	gsize length = 0;
	struct stat st;
	int fd;

	if (!g_str_equal(method, SOUP_METHOD_GET) && !g_str_equal(method, SOUP_METHOD_HEAD)) {
		cg_http_respond_method_not_allowed(msg, "GET, HEAD");
		return;
	}
	if (!cg_http_static_name_is_valid(name)) {
		respond_not_found_page(msg);
		return;
	}
	file = g_build_filename(web_root, name, NULL);
	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		respond_not_found_page(msg);
		return;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > CG_HTTP_MAX_STATIC_BYTES) {
		close(fd);
		respond_not_found_page(msg);
		return;
	}
	close(fd);
	if (!g_file_get_contents(file, &contents, &length, &error)) {
		cg_http_debug("Could not read %s: %s", file, error->message);
		respond_not_found_page(msg);
		return;
	}
	soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Cache-Control",
				     "no-cache");
	if (g_str_has_suffix(name, ".html"))
		soup_message_headers_replace(soup_server_message_get_response_headers(msg),
					     "X-Frame-Options", "DENY");
	soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
	soup_server_message_set_response(msg, cg_http_static_content_type(name), SOUP_MEMORY_TAKE,
					 g_steal_pointer(&contents), length);
}
