/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * certgen-http: the HTTP/SSE/WebSocket bridge between web clients and
 * certgend. main() parses the command line, loads the tokens, connects to
 * the bus (cg-http-bus.c) and serves (cg-http-server.c) until SIGTERM.
 */
#include "config.h"

#include <errno.h>
#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "cg-http-auth.h"
#include "cg-http-log.h"
#include "cg-http-bus.h"
#include "cg-http-server.h"
#include "cg-command-line.h"
#include "cg-redis.h"

#define CG_HTTP_DEFAULT_LISTEN "127.0.0.1:8080"
#define CG_HTTP_SHUTDOWN_GRACE_MS 3000
#define CG_HTTP_MAX_TOKEN_LEN 4096

typedef struct {
	GMainLoop *loop;
	CgHttpServer *server;
	CgHttpAuth *auth;
	char *tokens_path;
	CgHttpRedis *redis; /* --redis: the server's */
	gint64 shutdown_deadline;
	guint shutdown_id;
} CgHttpApp;

/* Tokens are printable ASCII without spaces. */
static gboolean
token_is_printable(const char *token, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (!g_ascii_isgraph(token[i]))
			return FALSE;
	}
	return TRUE;
}

static gboolean
check_token(const char *token)
{
	size_t len = strlen(token);

	return len > 0 && len <= CG_HTTP_MAX_TOKEN_LEN && token_is_printable(token, len);
}

static int
hash_token_main(void)
{
	char buf[CG_HTTP_MAX_TOKEN_LEN + 2];
	g_autofree char *hex = NULL;
	size_t len = fread(buf, 1, sizeof(buf), stdin);

	if (ferror(stdin)) {
		g_printerr("Could not read the token from standard input\n");
		return EXIT_FAILURE;
	}
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (len == 0 || len > CG_HTTP_MAX_TOKEN_LEN) {
		g_printerr("The token must be 1–%u bytes (read from standard input)\n",
			   CG_HTTP_MAX_TOKEN_LEN);
		return EXIT_FAILURE;
	}
	if (!token_is_printable(buf, len)) {
		g_printerr("The token must be printable ASCII without spaces\n");
		return EXIT_FAILURE;
	}
	hex = cg_http_hash_token(buf, len);
	g_print("%s\n", hex);
	return EXIT_SUCCESS;
}

static gboolean
parse_listen(const char *text, GSocketAddress **out, GError **error)
{
	g_autofree char *host = NULL;
	g_autoptr(GInetAddress) address = NULL;
	const char *port_text;
	guint64 port;

	if (text[0] == '[') {
		const char *end = strchr(text, ']');

		if (end == NULL || end[1] != ':') {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
				    "--listen %s: expected [IPV6]:PORT", text);
			return FALSE;
		}
		host = g_strndup(text + 1, (gsize)(end - text - 1));
		port_text = end + 2;
	} else {
		const char *colon = strrchr(text, ':');

		if (colon == NULL) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
				    "--listen %s: expected ADDR:PORT", text);
			return FALSE;
		}
		host = g_strndup(text, (gsize)(colon - text));
		port_text = colon + 1;
	}
	if (g_str_equal(host, "localhost"))
		address = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	else if (host[0] == '\0')
		address = g_inet_address_new_any(G_SOCKET_FAMILY_IPV4);
	else
		address = g_inet_address_new_from_string(host);
	if (address == NULL) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "--listen %s: '%s' is not a numeric IP address", text, host);
		return FALSE;
	}
	if (!g_ascii_string_to_unsigned(port_text, 10, 0, 65535, &port, NULL)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "--listen %s: '%s' is not a port (0–65535)", text, port_text);
		return FALSE;
	}
	*out = g_inet_socket_address_new(address, (guint16)port);
	return TRUE;
}

static gboolean
check_origins(char **origins, GError **error)
{
	for (guint i = 0; origins != NULL && origins[i] != NULL; i++) {
		const char *origin = origins[i];

		if ((!g_str_has_prefix(origin, "http://") &&
		     !g_str_has_prefix(origin, "https://")) ||
		    g_str_has_suffix(origin, "/") || strchr(origin, ' ') != NULL) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
				    "--allow-origin %s: expected scheme://host[:port] without a "
				    "path, e.g. https://example.org",
				    origin);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
quit_when_idle_cb(gpointer user_data)
{
	CgHttpApp *app = user_data;

	if (cg_http_server_is_idle(app->server) ||
	    g_get_monotonic_time() >= app->shutdown_deadline) {
		app->shutdown_id = 0;
		g_main_loop_quit(app->loop);
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static gboolean
stop_cb(gpointer user_data)
{
	CgHttpApp *app = user_data;

	if (app->shutdown_id != 0)
		return G_SOURCE_CONTINUE;
	g_message("Stopping");
	sd_notify(0, "STOPPING=1");
	if (!cg_http_server_begin_shutdown(app->server)) {
		g_main_loop_quit(app->loop);
		return G_SOURCE_CONTINUE;
	}
	app->shutdown_deadline = g_get_monotonic_time() + CG_HTTP_SHUTDOWN_GRACE_MS * (gint64)1000;
	app->shutdown_id = g_timeout_add(20, quit_when_idle_cb, app);
	return G_SOURCE_CONTINUE;
}

/* --redis: the tokens loaded are what this bridge publishes. */
static void
publish_tokens(CgHttpApp *app)
{
	g_auto(GStrv) pairs = NULL;

	if (app->redis == NULL)
		return;
	pairs = cg_http_auth_dup_token_pairs(app->auth);
	cg_http_redis_publish_tokens(app->redis, (const char *const *)pairs);
}

/* A bridge id goes into Redis member and key names. */
static gboolean
bridge_id_is_valid(const char *id)
{
	gsize len = strlen(id);

	if (len == 0 || len > 64)
		return FALSE;
	for (const char *p = id; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && strchr("._:-", *p) == NULL)
			return FALSE;
	}
	return TRUE;
}

static gboolean
reload_cb(gpointer user_data)
{
	CgHttpApp *app = user_data;
	g_autoptr(GError) error = NULL;

	if (app->tokens_path == NULL)
		return G_SOURCE_CONTINUE;
	if (!cg_http_auth_load_tokens(app->auth, app->tokens_path, &error))
		g_warning("Keeping the old tokens: %s", error->message);
	else {
		g_message("Reloaded %u tokens from %s", cg_http_auth_get_n_tokens(app->auth),
			  app->tokens_path);
		publish_tokens(app);
	}
	return G_SOURCE_CONTINUE;
}

static const char *
default_web_root(void)
{
	if (g_file_test(CG_HTTP_WEB_DIR, G_FILE_TEST_IS_DIR))
		return CG_HTTP_WEB_DIR;
	return CG_HTTP_SOURCE_WEB_DIR;
}

/* Every stream is a connection: the soft limit on descriptors up to the
 * hard one (the caps, --max-streams, are what limits the streams). */
static void
raise_nofile_limit(void)
{
	struct rlimit limit;

	if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max)
		return;
	limit.rlim_cur = limit.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &limit) != 0)
		cg_http_debug("Could not raise RLIMIT_NOFILE: %s", g_strerror(errno));
}

int
main(int argc, char **argv)
{
	g_autofree char *opt_listen = NULL;
	g_autofree char *opt_tokens = NULL;
	g_autofree char *opt_web_root = NULL;
	g_autofree char *opt_metrics_token = NULL;
	g_auto(GStrv) opt_origins = NULL;
	g_autofree char *opt_redis = NULL;
	g_autofree char *opt_bridge_id = NULL;
	CgHttpConfig config;
	gint64 max_body = 0;
	const GOptionEntry entries[] = {
	    {"listen", 0, 0, G_OPTION_ARG_STRING, &opt_listen,
	     "Listen on ADDR:PORT (default " CG_HTTP_DEFAULT_LISTEN "; [::1]:PORT for IPv6)",
	     "ADDR:PORT"},
	    {"tokens", 0, 0, G_OPTION_ARG_FILENAME, &opt_tokens,
	     "Web users and their token hashes, \"NAME SHA256HEX\" a line "
	     "(default " CG_HTTP_TOKENS_FILE ")",
	     "FILE"},
	    {"web-root", 0, 0, G_OPTION_ARG_FILENAME, &opt_web_root,
	     "Serve the web page from DIR (default " CG_HTTP_WEB_DIR ")", "DIR"},
	    {"allow-origin", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_origins,
	     "Allow cross-origin requests from ORIGIN (repeatable)", "ORIGIN"},
	    {"metrics-token", 0, 0, G_OPTION_ARG_STRING, &opt_metrics_token,
	     "Serve GET /metrics to any address that sends Authorization: Bearer TOKEN "
	     "(default: loopback clients only)",
	     "TOKEN"},
	    {"max-body-bytes", 0, 0, G_OPTION_ARG_INT64, &max_body,
	     "Largest request body (default 1048576)", "BYTES"},
	    {"generations-per-minute", 0, 0, G_OPTION_ARG_INT, &config.starts_per_minute,
	     "Generation requests per minute per web user (default 5)", "N"},
	    {"previews-per-minute", 0, 0, G_OPTION_ARG_INT, &config.previews_per_minute,
	     "Preview requests per minute per web user (default 10)", "N"},
	    {"verifications-per-minute", 0, 0, G_OPTION_ARG_INT, &config.verifications_per_minute,
	     "Verification page requests per minute per client address (default 30)", "N"},
	    {"streams-per-minute", 0, 0, G_OPTION_ARG_INT, &config.streams_per_minute,
	     "New progress streams per minute per web user (default 10)", "N"},
	    {"resumes-per-minute", 0, 0, G_OPTION_ARG_INT, &config.resumes_per_minute,
	     "Stream reconnects with Last-Event-ID per minute per web user (default 60)", "N"},
	    {"max-streams", 0, 0, G_OPTION_ARG_INT, &config.max_streams,
	     "Open progress streams overall (default 5000)", "N"},
	    {"max-streams-per-user", 0, 0, G_OPTION_ARG_INT, &config.max_streams_per_user,
	     "Open progress streams per web user (default 20)", "N"},
	    {"header-timeout-ms", 0, 0, G_OPTION_ARG_INT, &config.header_timeout_ms,
	     "Close connections that send no complete headers within MS (default 10000)", "MS"},
	    {"idle-timeout-ms", 0, 0, G_OPTION_ARG_INT, &config.idle_timeout_ms,
	     "Close idle kept-alive connections after MS (default 60000)", "MS"},
	    {"body-timeout-ms", 0, 0, G_OPTION_ARG_INT, &config.body_timeout_ms,
	     "Close connections whose request body takes longer than MS (default 30000)", "MS"},
	    {"session-ttl", 0, 0, G_OPTION_ARG_INT, &config.session_ttl_s,
	     "Lifetime of browser sessions in seconds (default 43200)", "SECONDS"},
	    {"redis", 0, 0, G_OPTION_ARG_STRING, &opt_redis,
	     "Share generations, limits and sessions with other bridges through the Redis "
	     "server at ADDRESS (/path/to/socket, unix:/path, HOST:PORT or HOST)",
	     "ADDRESS"},
	    {"bridge-id", 0, 0, G_OPTION_ARG_STRING, &opt_bridge_id,
	     "This bridge's name in Redis, unique among the bridges (default HOSTNAME:PID)",
	     "NAME"},
	    {"keepalive-ms", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &config.keepalive_ms,
	     "Keep-alive interval of streams (default 15000)", "MS"},
	    {NULL},
	};
	g_autoptr(GOptionContext) context = NULL;
	int exit_status;
	g_autoptr(GError) error = NULL;
	g_autoptr(GMainLoop) loop = NULL;
	g_autoptr(GSocketAddress) address = NULL;
	g_autoptr(CgHttpAuth) auth = NULL;
	g_autoptr(CgHttpBus) bus = NULL;
	g_autoptr(CgHttpServer) server = NULL;
	CgHttpApp app = {0};
	g_autoptr(GPtrArray) addresses = NULL;
	guint sigterm_id, sigint_id, sighup_id;
	gboolean tokens_loaded = TRUE;
	int n_fds;

	if (argc >= 2 && g_str_equal(argv[1], "hash-token")) {
		if (argc > 2) {
			g_printerr("Usage: %s hash-token < TOKEN\n", argv[0]);
			return 2;
		}
		return hash_token_main();
	}

	cg_http_config_init(&config);
	context = g_option_context_new("[hash-token] - HTTP/SSE bridge for certgend");
	g_option_context_set_summary(
	    context, "Serves certgen's HTTP API (generation, progress as server-sent events and "
		     "WebSocket, cancellation, analytics, download) and its web page.\n"
		     "\"certgen-http hash-token\" reads a token on standard input and prints "
		     "the SHA-256 to put in the tokens file.");
	g_option_context_add_main_entries(context, entries, NULL);
	exit_status = cg_command_line_parse(context, "certgen-http", &argc, &argv);
	if (exit_status >= 0)
		return exit_status;
	if (max_body < 0 || max_body > G_MAXINT32 || (gint)config.starts_per_minute < 0 ||
	    (gint)config.previews_per_minute < 0 || (gint)config.verifications_per_minute < 0 ||
	    (gint)config.streams_per_minute < 0 || (gint)config.resumes_per_minute < 0 ||
	    (gint)config.max_streams < 0 || (gint)config.max_streams_per_user < 0 ||
	    (gint)config.header_timeout_ms < 0 || (gint)config.idle_timeout_ms < 0 ||
	    (gint)config.body_timeout_ms < 0 || (gint)config.session_ttl_s <= 0 ||
	    (gint)config.keepalive_ms <= 0) {
		g_printerr("Limits and timeouts must be positive numbers\n");
		return 2;
	}
	if (max_body > 0)
		config.max_body_bytes = (gsize)max_body;
	if (!check_origins(opt_origins, &error)) {
		g_printerr("%s\n", error->message);
		return 2;
	}
	if (opt_metrics_token != NULL && !check_token(opt_metrics_token)) {
		g_printerr("--metrics-token: the token must be 1–%u printable ASCII characters "
			   "without spaces\n",
			   CG_HTTP_MAX_TOKEN_LEN);
		return 2;
	}
	if (opt_redis != NULL && !cg_redis_address_is_valid(opt_redis, &error)) {
		g_printerr("--redis %s: %s\n", opt_redis, error->message);
		return 2;
	}
	if (opt_bridge_id != NULL && opt_redis == NULL) {
		g_printerr("--bridge-id needs --redis\n");
		return 2;
	}
	if (opt_bridge_id == NULL && opt_redis != NULL)
		opt_bridge_id = g_strdup_printf("%.48s:%d", g_get_host_name(), (int)getpid());
	if (opt_bridge_id != NULL && !bridge_id_is_valid(opt_bridge_id)) {
		g_printerr("--bridge-id %s: 1–64 characters of A-Z a-z 0-9 . _ : -\n",
			   opt_bridge_id);
		return 2;
	}
	if (!parse_listen(opt_listen != NULL ? opt_listen : CG_HTTP_DEFAULT_LISTEN, &address,
			  &error)) {
		g_printerr("%s\n", error->message);
		return 2;
	}

	auth = cg_http_auth_new(config.session_ttl_s, config.max_sessions_per_user,
				config.max_sessions);
	cg_http_auth_set_remote(auth, opt_redis != NULL);
	app.tokens_path = g_strdup(opt_tokens != NULL ? opt_tokens : CG_HTTP_TOKENS_FILE);
	if (!cg_http_auth_load_tokens(auth, app.tokens_path, &error)) {
		if (opt_tokens != NULL ||
		    !g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
			g_printerr("Could not load the tokens: %s\n", error->message);
			g_free(app.tokens_path);
			return EXIT_FAILURE;
		}
		if (opt_redis == NULL)
			g_warning("No tokens file %s: every API request will be refused",
				  app.tokens_path);
		else
			g_message("No tokens file %s: the tokens are those other bridges "
				  "published in Redis",
				  app.tokens_path);
		g_clear_error(&error);
		tokens_loaded = FALSE;
	}
	config.web_root = g_strdup(opt_web_root != NULL ? opt_web_root : default_web_root());
	config.allow_origins = g_steal_pointer(&opt_origins);
	config.redis_address = g_steal_pointer(&opt_redis);
	config.bridge_id = g_steal_pointer(&opt_bridge_id);
	if (opt_metrics_token != NULL)
		config.metrics_token_hash =
		    cg_http_hash_token(opt_metrics_token, strlen(opt_metrics_token));

	raise_nofile_limit();
	bus = cg_http_bus_new(NULL);
	server = cg_http_server_new(&config, auth, bus);
	app.redis = cg_http_server_get_redis(server);
	app.auth = auth;
	/* without a file of its own it publishes nothing (until a SIGHUP
	 * finds one) */
	if (tokens_loaded)
		publish_tokens(&app);
	cg_http_config_clear(&config);

	n_fds = sd_listen_fds(TRUE);
	if (n_fds < 0) {
		g_printerr("Socket activation failed: %s\n", g_strerror(-n_fds));
		g_free(app.tokens_path);
		return EXIT_FAILURE;
	}
	for (int i = 0; i < n_fds; i++) {
		if (!cg_http_server_listen_fd(server, SD_LISTEN_FDS_START + i, &error)) {
			g_printerr("Could not use the socket passed by systemd: %s\n",
				   error->message);
			g_free(app.tokens_path);
			return EXIT_FAILURE;
		}
	}
	if (n_fds == 0 && !cg_http_server_listen(server, address, &error)) {
		g_printerr("Could not listen on %s: %s\n",
			   opt_listen != NULL ? opt_listen : CG_HTTP_DEFAULT_LISTEN,
			   error->message);
		g_free(app.tokens_path);
		return EXIT_FAILURE;
	}
	addresses = cg_http_server_get_addresses(server);
	for (guint i = 0; i < addresses->len; i++)
		g_message("Listening on %s", (const char *)addresses->pdata[i]);

	loop = g_main_loop_new(NULL, FALSE);
	app.loop = loop;
	app.server = server;
	app.auth = auth;
	sigterm_id = g_unix_signal_add(SIGTERM, stop_cb, &app);
	sigint_id = g_unix_signal_add(SIGINT, stop_cb, &app);
	sighup_id = g_unix_signal_add(SIGHUP, reload_cb, &app);
	sd_notify(0, "READY=1");

	g_main_loop_run(loop);

	g_source_remove(sigterm_id);
	g_source_remove(sigint_id);
	g_source_remove(sighup_id);
	g_clear_handle_id(&app.shutdown_id, g_source_remove);
	cg_http_server_disconnect(server);
	/* Let the disconnected requests and streams finish. */
	for (guint i = 0; i < 100 && g_main_context_iteration(NULL, FALSE); i++)
		;
	g_clear_object(&server);
	g_clear_object(&bus);
	for (guint i = 0; i < 100 && g_main_context_iteration(NULL, FALSE); i++)
		;
	g_free(app.tokens_path);
	return EXIT_SUCCESS;
}
