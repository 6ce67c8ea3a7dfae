/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-counter.h"

#include <errno.h>
#include <sys/file.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "cg-error.h"
#include "cg-fsutil.h"

#define CG_COUNTER_FILE "counter"
#define CG_COUNTER_TMP_FILE "counter.tmp"

struct _CgCounter {
	GMutex mutex;
	char *state_dir;
	char *path;
	char *tmp_path;
	guint64 last; /* the last number handed out (0: none yet) */
	int lock_fd;  /* flock on counter.lock: one process per state directory */
};

static gboolean
cg_counter_set_errno(GError **error, int errsv, const char *what, const char *path)
{
	g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "Cannot %s %s: %s", what, path,
		    g_strerror(errsv));
	return FALSE;
}

/* Parses the counter file's text: decimal digits and an optional final
 * newline, nothing else. */
static gboolean
cg_counter_parse(const char *path, const char *contents, gsize length, guint64 *value,
		 GError **error)
{
	g_autofree char *text = g_strndup(contents, length);
	g_autoptr(GError) error_local = NULL;
	gsize n_digits = length;

	if (n_digits > 0 && text[n_digits - 1] == '\n')
		n_digits--;
	for (gsize i = 0; i < n_digits; i++) {
		if (!g_ascii_isdigit(text[i]))
			n_digits = 0;
	}
	text[n_digits] = '\0';
	if (n_digits == 0 || strlen(text) != n_digits ||
	    !g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT64, value, &error_local)) {
		g_autofree char *shown = g_strndup(contents, MIN(length, 32));
		g_autofree char *escaped = g_strescape(shown, NULL);

		g_set_error(error, CG_ERROR, CG_ERROR_FAILED,
			    "Counter file %s is corrupt: expected a decimal number, found \"%s%s\"",
			    path, escaped, length > 32 ? "..." : "");
		return FALSE;
	}
	return TRUE;
}

static gboolean
cg_counter_load(CgCounter *counter, GError **error)
{
	g_autofree char *contents = NULL;
	g_autoptr(GError) error_local = NULL;
	gsize length = 0;

	if (!g_file_get_contents(counter->path, &contents, &length, &error_local)) {
		if (g_error_matches(error_local, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
			counter->last = 0;
			return TRUE;
		}
		g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "Cannot read counter file: %s",
			    error_local->message);
		return FALSE;
	}
	return cg_counter_parse(counter->path, contents, length, &counter->last, error);
}

/* Writes @value to the counter file: temporary file, fsync, rename, fsync
 * of the directory. Called with the mutex held. */
static gboolean
cg_counter_store(CgCounter *counter, guint64 value, GError **error)
{
	char text[32];
	const char *step = NULL;
	const char *step_path = NULL;
	gsize length;
	int errsv;

	length = (gsize)g_snprintf(text, sizeof(text), "%" G_GUINT64_FORMAT "\n", value);
	errsv = cg_fs_replace_file(counter->state_dir, counter->path, counter->tmp_path, text,
				   length, 0640, &step, &step_path);
	if (errsv != 0)
		return cg_counter_set_errno(error, errsv, step, step_path);
	return TRUE;
}

/* Two processes handing out numbers from one state directory would repeat
 * them: the second one is refused. */
static gboolean
cg_counter_lock(CgCounter *counter, GError **error)
{
	g_autofree char *lock_path = g_build_filename(counter->state_dir, "counter.lock", NULL);

	counter->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (counter->lock_fd < 0) {
		cg_counter_set_errno(error, errno, "open", lock_path);
		return FALSE;
	}
	if (flock(counter->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		int saved_errno = errno;

		if (saved_errno == EWOULDBLOCK) {
			g_set_error(error, CG_ERROR, CG_ERROR_FAILED,
				    "%s is in use by another process (is another certgend "
				    "running with this state directory?)",
				    counter->state_dir);
			return FALSE;
		}
		cg_counter_set_errno(error, saved_errno, "lock", lock_path);
		return FALSE;
	}
	return TRUE;
}

CgCounter *
cg_counter_new(const char *state_dir, GError **error)
{
	g_autoptr(CgCounter) counter = NULL;

	g_return_val_if_fail(state_dir != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (g_mkdir_with_parents(state_dir, 0750) < 0) {
		cg_counter_set_errno(error, errno, "create directory", state_dir);
		return NULL;
	}

	counter = g_new0(CgCounter, 1);
	counter->lock_fd = -1;
	g_mutex_init(&counter->mutex);
	counter->state_dir = g_strdup(state_dir);
	counter->path = g_build_filename(state_dir, CG_COUNTER_FILE, NULL);
	counter->tmp_path = g_build_filename(state_dir, CG_COUNTER_TMP_FILE, NULL);
	if (!cg_counter_lock(counter, error))
		return NULL;
	if (!cg_counter_load(counter, error))
		return NULL;
	return g_steal_pointer(&counter);
}

void
cg_counter_free(CgCounter *counter)
{
	if (counter == NULL)
		return;
	if (counter->lock_fd >= 0)
		close(counter->lock_fd);
	g_mutex_clear(&counter->mutex);
	g_free(counter->state_dir);
	g_free(counter->path);
	g_free(counter->tmp_path);
	g_free(counter);
}

gboolean
cg_counter_reserve(CgCounter *counter, guint n, guint64 *first, GError **error)
{
	g_autoptr(GMutexLocker) locker = NULL;
	guint64 next;

	g_return_val_if_fail(counter != NULL, FALSE);
	g_return_val_if_fail(first != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (n == 0) {
		g_set_error_literal(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT,
				    "Cannot reserve 0 certificate numbers");
		return FALSE;
	}

	locker = g_mutex_locker_new(&counter->mutex);
	if (n > G_MAXUINT64 - counter->last) {
		g_set_error(error, CG_ERROR, CG_ERROR_FAILED,
			    "Counter %s would overflow: %" G_GUINT64_FORMAT " + %u", counter->path,
			    counter->last, n);
		return FALSE;
	}
	next = counter->last + n;
	if (!cg_counter_store(counter, next, error))
		return FALSE;
	*first = counter->last + 1;
	counter->last = next;
	return TRUE;
}
