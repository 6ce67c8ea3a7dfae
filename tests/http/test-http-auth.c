/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of web users: tokens and sessions (cg-http-auth.c). */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "cg-http-auth.h"
#include "cg-test-util.h"

static char *
write_tokens(const char *contents)
{
	g_autoptr(GError) error = NULL;
	char *path = NULL;
	int fd = g_file_open_tmp("cg-http-tokens-XXXXXX", &path, &error);

	g_assert_no_error(error);
	close(fd);
	g_assert_true(g_file_set_contents(path, contents, -1, &error));
	g_assert_no_error(error);
	return path;
}

static char *
token_line(const char *name, const char *token)
{
	g_autofree char *hex = cg_http_hash_token(token, strlen(token));

	return g_strdup_printf("%s %s\n", name, hex);
}

static void
test_hash(void)
{
	g_autofree char *hex = cg_http_hash_token("abc", 3);

	g_assert_cmpstr(hex, ==,
			"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void
test_tokens(void)
{
	g_autoptr(CgHttpAuth) auth = cg_http_auth_new(60, 4, 100);
	g_autoptr(GError) error = NULL;
	g_autofree char *alice = token_line("alice", "token-a");
	g_autofree char *bob = token_line("bob", "token-b");
	g_autofree char *alice2 = token_line("alice", "token-a2");
	g_autofree char *contents = g_strconcat("# comment\n\n", alice, "  ", bob, alice2, NULL);
	g_autofree char *path = write_tokens(contents);
	g_autofree char *user = NULL;

	g_assert_true(cg_http_auth_load_tokens(auth, path, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(cg_http_auth_get_n_tokens(auth), ==, 3);
	user = cg_http_auth_check_token(auth, "token-a");
	g_assert_cmpstr(user, ==, "alice");
	g_clear_pointer(&user, g_free);
	user = cg_http_auth_check_token(auth, "token-a2");
	g_assert_cmpstr(user, ==, "alice");
	g_clear_pointer(&user, g_free);
	user = cg_http_auth_check_token(auth, "token-b");
	g_assert_cmpstr(user, ==, "bob");
	g_clear_pointer(&user, g_free);
	g_assert_null(cg_http_auth_check_token(auth, "token-c"));
	g_assert_null(cg_http_auth_check_token(auth, ""));
	g_unlink(path);
}

static void
test_tokens_invalid(void)
{
	g_autofree char *good = token_line("alice", "token-a");
	g_autofree char *dup = g_strconcat(good, "bob", good + strlen("alice"), NULL);
	const char *bad[] = {
	    "alice\n",
	    "alice abc\n",
	    "al ice 0000\n",
	    "alice/x 0123456789012345678901234567890123456789012345678901234567890123\n",
	    "alice 012345678901234567890123456789012345678901234567890123456789012g\n",
	};
	g_autoptr(CgHttpAuth) auth = cg_http_auth_new(60, 4, 100);

	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *path = write_tokens(bad[i]);

		g_assert_false(cg_http_auth_load_tokens(auth, path, &error));
		g_assert_nonnull(error);
		g_assert_nonnull(strstr(error->message, ":1:"));
		g_unlink(path);
	}
	{
		g_autoptr(GError) error = NULL;
		g_autofree char *path = write_tokens(dup);

		g_assert_false(cg_http_auth_load_tokens(auth, path, &error));
		g_assert_nonnull(strstr(error->message, "twice"));
		g_unlink(path);
	}
	g_assert_cmpuint(cg_http_auth_get_n_tokens(auth), ==, 0);
}

static void
test_sessions(void)
{
	g_autoptr(CgHttpAuth) auth = cg_http_auth_new(60, 2, 100);
	g_autoptr(GError) error = NULL;
	g_autofree char *alice = token_line("alice", "token-a");
	g_autofree char *bob = token_line("bob", "token-b");
	g_autofree char *contents = g_strconcat(alice, bob, NULL);
	g_autofree char *path = write_tokens(contents);
	g_autofree char *s1 = NULL, *s2 = NULL, *s3 = NULL, *sb = NULL, *user = NULL;
	guint ttl = 0;

	g_assert_true(cg_http_auth_load_tokens(auth, path, &error));
	s1 = cg_http_auth_session_new(auth, "alice", &ttl);
	g_assert_cmpuint(ttl, ==, 60);
	g_assert_cmpuint(strlen(s1), ==, CG_HTTP_SESSION_ID_LEN);
	user = cg_http_auth_session_lookup(auth, s1);
	g_assert_cmpstr(user, ==, "alice");
	g_clear_pointer(&user, g_free);
	g_assert_null(cg_http_auth_session_lookup(auth, "nothex"));
	g_assert_null(cg_http_auth_session_lookup(auth, NULL));

	/* the per-user cap drops the oldest */
	g_usleep(1000);
	s2 = cg_http_auth_session_new(auth, "alice", NULL);
	g_usleep(1000);
	s3 = cg_http_auth_session_new(auth, "alice", NULL);
	g_assert_null(cg_http_auth_session_lookup(auth, s1));
	sb = cg_http_auth_session_new(auth, "bob", NULL);
	g_assert_cmpuint(cg_http_auth_get_n_sessions(auth), ==, 3);

	/* only the owner removes a session */
	g_assert_false(cg_http_auth_session_remove(auth, s2, "bob"));
	g_assert_true(cg_http_auth_session_remove(auth, s2, "alice"));
	g_assert_null(cg_http_auth_session_lookup(auth, s2));

	/* dropping a user from the tokens ends their sessions */
	g_assert_true(g_file_set_contents(path, bob, -1, &error));
	g_assert_true(cg_http_auth_load_tokens(auth, path, &error));
	g_assert_null(cg_http_auth_session_lookup(auth, s3));
	user = cg_http_auth_session_lookup(auth, sb);
	g_assert_cmpstr(user, ==, "bob");
	g_unlink(path);
}

static void
test_sessions_global_cap(void)
{
	g_autoptr(CgHttpAuth) auth = cg_http_auth_new(60, 4, 2);
	g_autoptr(GError) error = NULL;
	g_autofree char *alice = token_line("alice", "token-a");
	g_autofree char *bob = token_line("bob", "token-b");
	g_autofree char *carol = token_line("carol", "token-c");
	g_autofree char *contents = g_strconcat(alice, bob, carol, NULL);
	g_autofree char *path = write_tokens(contents);
	g_autofree char *sa = NULL, *sb = NULL, *sc = NULL, *user = NULL;

	g_assert_true(cg_http_auth_load_tokens(auth, path, &error));
	g_assert_no_error(error);
	sa = cg_http_auth_session_new(auth, "alice", NULL);
	g_usleep(1000);
	sb = cg_http_auth_session_new(auth, "bob", NULL);
	g_usleep(1000);
	/* the overall cap drops the oldest session of anyone */
	sc = cg_http_auth_session_new(auth, "carol", NULL);
	g_assert_cmpuint(cg_http_auth_get_n_sessions(auth), ==, 2);
	g_assert_null(cg_http_auth_session_lookup(auth, sa));
	user = cg_http_auth_session_lookup(auth, sb);
	g_assert_cmpstr(user, ==, "bob");
	g_clear_pointer(&user, g_free);
	user = cg_http_auth_session_lookup(auth, sc);
	g_assert_cmpstr(user, ==, "carol");
	/* sessions are not tokens, nor tokens sessions */
	g_assert_null(cg_http_auth_check_token(auth, sc));
	g_assert_null(cg_http_auth_session_lookup(auth, "token-c"));
	/* nothing has expired within the TTL */
	g_assert_cmpuint(cg_http_auth_sessions_expire(auth), ==, 0);
	g_unlink(path);
}

static void
test_user_names(void)
{
	g_assert_true(cg_http_user_name_is_valid("alice"));
	g_assert_true(cg_http_user_name_is_valid("a.b_c-d+e@example.org"));
	g_assert_false(cg_http_user_name_is_valid(""));
	g_assert_false(cg_http_user_name_is_valid("a b"));
	g_assert_false(cg_http_user_name_is_valid("a/b"));
	g_assert_false(cg_http_user_name_is_valid(
	    "0123456789012345678901234567890123456789012345678901234567890123456789"));
}

static const CgTestCase cases[] = {
    {"/http/auth/hash", test_hash},
    {"/http/auth/tokens", test_tokens},
    {"/http/auth/tokens-invalid", test_tokens_invalid},
    {"/http/auth/sessions", test_sessions},
    {"/http/auth/sessions-global-cap", test_sessions_global_cap},
    {"/http/auth/user-names", test_user_names},
};

CG_TEST_MAIN(cases)
