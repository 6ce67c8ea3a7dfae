/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-http-auth.h"

#include <errno.h>
#include <gio/gio.h>
#include <sys/random.h>

#define CG_HTTP_DIGEST_LEN 32
#define CG_HTTP_MAX_TOKENS 100000
#define CG_HTTP_MAX_TOKEN_LEN 4096

typedef struct {
	char *user;
	guint8 digest[CG_HTTP_DIGEST_LEN];
} CgHttpToken;

typedef struct {
	char *user;
	gint64 created_us;
	gint64 expires_us; /* monotonic */
} CgHttpSession;

struct _CgHttpAuth {
	GObject parent_instance;
	GArray *tokens;	      /* CgHttpToken */
	GHashTable *sessions; /* id -> CgHttpSession */
	guint session_ttl_s;
	guint max_sessions_per_user;
	guint max_sessions;
	/* --redis: the one credential resolved for the request being
	 * dispatched (cg_http_auth_set_resolved) */
	gboolean remote;
	char *resolved_credential;
	char *resolved_user;
};

G_DEFINE_TYPE(CgHttpAuth, cg_http_auth, G_TYPE_OBJECT)

static void
token_clear(gpointer data)
{
	CgHttpToken *token = data;

	g_clear_pointer(&token->user, g_free);
}

static void
session_free(gpointer data)
{
	CgHttpSession *session = data;

	if (session == NULL)
		return;
	g_free(session->user);
	g_free(session);
}

static void
cg_http_auth_finalize(GObject *object)
{
	CgHttpAuth *self = CG_HTTP_AUTH(object);

	g_clear_pointer(&self->tokens, g_array_unref);
	g_clear_pointer(&self->sessions, g_hash_table_unref);
	g_clear_pointer(&self->resolved_credential, g_free);
	g_clear_pointer(&self->resolved_user, g_free);
	G_OBJECT_CLASS(cg_http_auth_parent_class)->finalize(object);
}

static void
cg_http_auth_class_init(CgHttpAuthClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = cg_http_auth_finalize;
}

static void
cg_http_auth_init(CgHttpAuth *self)
{
	self->tokens = g_array_new(FALSE, TRUE, sizeof(CgHttpToken));
	g_array_set_clear_func(self->tokens, token_clear);
	self->sessions = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, session_free);
}

CgHttpAuth *
cg_http_auth_new(guint session_ttl_s, guint max_sessions_per_user, guint max_sessions)
{
	CgHttpAuth *self = g_object_new(CG_TYPE_HTTP_AUTH, NULL);

	self->session_ttl_s = MAX(session_ttl_s, 1u);
	self->max_sessions_per_user = MAX(max_sessions_per_user, 1u);
	self->max_sessions = MAX(max_sessions, 1u);
	return self;
}

gboolean
cg_http_user_name_is_valid(const char *name)
{
	gsize len = strlen(name);

	if (len == 0 || len > 64)
		return FALSE;
	for (const char *p = name; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && strchr("._@+-", *p) == NULL)
			return FALSE;
	}
	return TRUE;
}

char *
cg_http_hash_token(const char *token, gsize len)
{
	return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)token, len);
}

static gboolean
parse_hex_digest(const char *hex, guint8 *out)
{
	if (strlen(hex) != CG_HTTP_DIGEST_LEN * 2)
		return FALSE;
	for (gsize i = 0; i < CG_HTTP_DIGEST_LEN; i++) {
		int hi = g_ascii_xdigit_value(hex[2 * i]);
		int lo = g_ascii_xdigit_value(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return FALSE;
		out[i] = (guint8)(hi << 4 | lo);
	}
	return TRUE;
}

static gboolean
user_has_token(CgHttpAuth *self, const char *user)
{
	for (guint i = 0; i < self->tokens->len; i++) {
		if (g_str_equal(g_array_index(self->tokens, CgHttpToken, i).user, user))
			return TRUE;
	}
	return FALSE;
}

gboolean
cg_http_auth_load_tokens(CgHttpAuth *self, const char *path, GError **error)
{
	g_autofree char *contents = NULL;
	g_auto(GStrv) lines = NULL;
	g_autoptr(GArray) tokens = g_array_new(FALSE, TRUE, sizeof(CgHttpToken));
	GHashTableIter iter;
	gpointer value;

	g_array_set_clear_func(tokens, token_clear);
	if (!g_file_get_contents(path, &contents, NULL, error))
		return FALSE;
	lines = g_strsplit(contents, "\n", -1);
	for (guint n = 0; lines[n] != NULL; n++) {
		g_auto(GStrv) fields = NULL;
		g_autofree char *line = g_strstrip(g_strdup(lines[n]));
		CgHttpToken token = {0};
		guint n_fields = 0;

		if (line[0] == '\0' || line[0] == '#')
			continue;
		for (char *p = line; *p != '\0'; p++) {
			if (*p == '\t')
				*p = ' ';
		}
		fields = g_strsplit(line, " ", -1);
		for (guint i = 0; fields[i] != NULL; i++) {
			if (fields[i][0] != '\0') {
				char *field = fields[i];

				fields[i] = fields[n_fields];
				fields[n_fields++] = field;
			}
		}
		if (n_fields != 2) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
				    "%s:%u: expected \"NAME SHA256HEX\"", path, n + 1);
			return FALSE;
		}
		if (!cg_http_user_name_is_valid(fields[0])) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
				    "%s:%u: the name must be 1–64 characters of "
				    "A-Z a-z 0-9 . _ @ + -",
				    path, n + 1);
			return FALSE;
		}
		if (!parse_hex_digest(fields[1], token.digest)) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
				    "%s:%u: the hash must be 64 hex digits (certgen-http "
				    "hash-token prints it)",
				    path, n + 1);
			return FALSE;
		}
		for (guint i = 0; i < tokens->len; i++) {
			if (memcmp(g_array_index(tokens, CgHttpToken, i).digest, token.digest,
				   CG_HTTP_DIGEST_LEN) == 0) {
				g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
					    "%s:%u: the same token is listed twice", path, n + 1);
				return FALSE;
			}
		}
		if (tokens->len >= CG_HTTP_MAX_TOKENS) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
				    "%s: more than %u tokens", path, CG_HTTP_MAX_TOKENS);
			return FALSE;
		}
		token.user = g_strdup(fields[0]);
		g_array_append_val(tokens, token);
	}

	g_array_unref(self->tokens);
	self->tokens = g_steal_pointer(&tokens);
	g_hash_table_iter_init(&iter, self->sessions);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		CgHttpSession *session = value;

		if (!user_has_token(self, session->user))
			g_hash_table_iter_remove(&iter);
	}
	return TRUE;
}

guint
cg_http_auth_get_n_tokens(CgHttpAuth *self)
{
	return self->tokens->len;
}

/* --redis: the user resolved for @credential, or NULL. */
static char *
resolved_user(CgHttpAuth *self, const char *credential)
{
	if (self->resolved_credential == NULL || self->resolved_user == NULL ||
	    !g_str_equal(self->resolved_credential, credential))
		return NULL;
	return g_strdup(self->resolved_user);
}

char *
cg_http_auth_check_token(CgHttpAuth *self, const char *token)
{
	g_autoptr(GChecksum) checksum = NULL;
	guint8 digest[CG_HTTP_DIGEST_LEN];
	gsize digest_len = sizeof(digest);
	gsize len = strlen(token);
	const char *user = NULL;

	if (len == 0 || len > CG_HTTP_MAX_TOKEN_LEN)
		return NULL;
	if (self->remote)
		return resolved_user(self, token);
	checksum = g_checksum_new(G_CHECKSUM_SHA256);
	g_checksum_update(checksum, (const guchar *)token, (gssize)len);
	g_checksum_get_digest(checksum, digest, &digest_len);

	/* Constant time: every entry is compared in full, no early exit. */
	for (guint i = 0; i < self->tokens->len; i++) {
		const CgHttpToken *entry = &g_array_index(self->tokens, CgHttpToken, i);
		volatile guint8 diff = 0;

		for (gsize j = 0; j < CG_HTTP_DIGEST_LEN; j++)
			diff |= (guint8)(entry->digest[j] ^ digest[j]);
		if (diff == 0)
			user = entry->user;
	}
	return g_strdup(user);
}

static gboolean
random_hex(char *out, gsize n_bytes)
{
	guint8 buf[64];
	gsize got = 0;

	g_assert(n_bytes <= sizeof(buf));
	while (got < n_bytes) {
		ssize_t r = getrandom(buf + got, n_bytes - got, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return FALSE;
		}
		got += (gsize)r;
	}
	for (gsize i = 0; i < n_bytes; i++)
		g_snprintf(out + 2 * i, 3, "%02x", buf[i]);
	return TRUE;
}

/* Drops the oldest session of @user (any user when NULL). */
static void
drop_oldest(CgHttpAuth *self, const char *user)
{
	GHashTableIter iter;
	gpointer key, value;
	const char *oldest = NULL;
	gint64 oldest_us = G_MAXINT64;

	g_hash_table_iter_init(&iter, self->sessions);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		CgHttpSession *session = value;

		if (user != NULL && !g_str_equal(session->user, user))
			continue;
		if (session->created_us < oldest_us) {
			oldest_us = session->created_us;
			oldest = key;
		}
	}
	if (oldest != NULL)
		g_hash_table_remove(self->sessions, oldest);
}

char *
cg_http_auth_session_new(CgHttpAuth *self, const char *user, guint *ttl_s)
{
	char id[CG_HTTP_SESSION_ID_LEN + 1];
	CgHttpSession *session;
	GHashTableIter iter;
	gpointer value;
	guint n_user = 0;
	gint64 now = g_get_monotonic_time();

	if (!random_hex(id, CG_HTTP_SESSION_ID_LEN / 2)) {
		g_warning("getrandom failed: %s", g_strerror(errno));
		return NULL;
	}
	cg_http_auth_sessions_expire(self);
	g_hash_table_iter_init(&iter, self->sessions);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		if (g_str_equal(((CgHttpSession *)value)->user, user))
			n_user++;
	}
	if (n_user >= self->max_sessions_per_user)
		drop_oldest(self, user);
	if (g_hash_table_size(self->sessions) >= self->max_sessions)
		drop_oldest(self, NULL);

	session = g_new0(CgHttpSession, 1);
	session->user = g_strdup(user);
	session->created_us = now;
	session->expires_us = now + (gint64)self->session_ttl_s * G_USEC_PER_SEC;
	g_hash_table_insert(self->sessions, g_strdup(id), session);
	if (ttl_s != NULL)
		*ttl_s = self->session_ttl_s;
	return g_strdup(id);
}

gboolean
cg_http_session_id_is_valid(const char *id)
{
	if (strlen(id) != CG_HTTP_SESSION_ID_LEN)
		return FALSE;
	for (const char *p = id; *p != '\0'; p++) {
		if (!g_ascii_isxdigit(*p))
			return FALSE;
	}
	return TRUE;
}

char *
cg_http_auth_session_lookup(CgHttpAuth *self, const char *session_id)
{
	CgHttpSession *session;

	if (session_id == NULL || !cg_http_session_id_is_valid(session_id))
		return NULL;
	if (self->remote)
		return resolved_user(self, session_id);
	session = g_hash_table_lookup(self->sessions, session_id);
	if (session == NULL)
		return NULL;
	if (session->expires_us <= g_get_monotonic_time() || !user_has_token(self, session->user)) {
		g_hash_table_remove(self->sessions, session_id);
		return NULL;
	}
	return g_strdup(session->user);
}

gboolean
cg_http_auth_session_remove(CgHttpAuth *self, const char *session_id, const char *user)
{
	CgHttpSession *session;

	if (session_id == NULL || !cg_http_session_id_is_valid(session_id))
		return FALSE;
	session = g_hash_table_lookup(self->sessions, session_id);
	if (session == NULL || !g_str_equal(session->user, user))
		return FALSE;
	return g_hash_table_remove(self->sessions, session_id);
}

guint
cg_http_auth_sessions_expire(CgHttpAuth *self)
{
	GHashTableIter iter;
	gpointer value;
	gint64 now = g_get_monotonic_time();
	guint removed = 0;

	g_hash_table_iter_init(&iter, self->sessions);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		if (((CgHttpSession *)value)->expires_us <= now) {
			g_hash_table_iter_remove(&iter);
			removed++;
		}
	}
	return removed;
}

guint
cg_http_auth_get_n_sessions(CgHttpAuth *self)
{
	return g_hash_table_size(self->sessions);
}

void
cg_http_auth_set_remote(CgHttpAuth *self, gboolean remote)
{
	self->remote = remote;
}

gboolean
cg_http_auth_is_remote(CgHttpAuth *self)
{
	return self->remote;
}

void
cg_http_auth_set_resolved(CgHttpAuth *self, const char *credential, const char *user)
{
	g_clear_pointer(&self->resolved_credential, g_free);
	g_clear_pointer(&self->resolved_user, g_free);
	self->resolved_credential = g_strdup(credential);
	self->resolved_user = g_strdup(user);
}

char **
cg_http_auth_dup_token_pairs(CgHttpAuth *self)
{
	GPtrArray *pairs = g_ptr_array_new();

	for (guint i = 0; i < self->tokens->len; i++) {
		const CgHttpToken *token = &g_array_index(self->tokens, CgHttpToken, i);
		GString *hex = g_string_sized_new(2 * CG_HTTP_DIGEST_LEN);

		for (guint j = 0; j < CG_HTTP_DIGEST_LEN; j++)
			g_string_append_printf(hex, "%02x", token->digest[j]);
		g_ptr_array_add(pairs, g_string_free(hex, FALSE));
		g_ptr_array_add(pairs, g_strdup(token->user));
	}
	g_ptr_array_add(pairs, NULL);
	return (char **)g_ptr_array_free(pairs, FALSE);
}

char *
cg_http_auth_new_session_id(void)
{
	char id[CG_HTTP_SESSION_ID_LEN + 1];

	if (!random_hex(id, CG_HTTP_SESSION_ID_LEN / 2)) {
		g_warning("getrandom failed: %s", g_strerror(errno));
		return NULL;
	}
	return g_strdup(id);
}
