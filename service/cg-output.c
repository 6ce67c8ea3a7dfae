/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-output.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <poppler.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "cg-error.h"
#include "cg-fsutil.h"
#include "cg-getter.h"

struct _CgOutput {
	char *dir;
	char *path;	/* final */
	char *tmp_path; /* NULL once renamed or removed */
	int fd;		/* -1 once closed */
	GChecksum *checksum;
	char *checksum_hex; /* set by a successful commit */
	guint64 size;
	GError *write_error; /* the first failed write */
	gboolean committed;
};

/* The caller learns what failed and why (ENOSPC: "No space left on
 * device"); the path, a detail of the server, goes to the journal only. */
static gboolean
cg_output_set_errno(GError **error, int errsv, const char *what, const char *path)
{
	g_message("Cannot %s %s: %s", what, path, g_strerror(errsv));
	g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "Cannot %s the certificate file: %s", what,
		    g_strerror(errsv));
	return FALSE;
}

static gboolean
cg_output_name_is_valid(const char *name)
{
	return name[0] != '\0' && strchr(name, '/') == NULL && g_strcmp0(name, ".") != 0 &&
	       g_strcmp0(name, "..") != 0;
}

static void
cg_output_close(CgOutput *output)
{
	if (output->fd >= 0) {
		close(output->fd);
		output->fd = -1;
	}
}

/* Closes and removes the temporary file, if any. */
static void
cg_output_discard(CgOutput *output)
{
	cg_output_close(output);
	if (output->tmp_path != NULL) {
		g_unlink(output->tmp_path);
		g_clear_pointer(&output->tmp_path, g_free);
	}
}

CgOutput *
cg_output_new(const char *dir, const char *final_name, GError **error)
{
	g_autoptr(CgOutput) output = NULL;
	g_autofree char *tmp_name = NULL;

	g_return_val_if_fail(dir != NULL, NULL);
	g_return_val_if_fail(final_name != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (!cg_output_name_is_valid(final_name)) {
		g_set_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT,
			    "Not a plain file name: \"%s\"", final_name);
		return NULL;
	}
	if (g_mkdir_with_parents(dir, 0750) < 0) {
		cg_output_set_errno(error, errno, "create directory", dir);
		return NULL;
	}

	output = g_new0(CgOutput, 1);
	output->fd = -1;
	output->dir = g_strdup(dir);
	output->path = g_build_filename(dir, final_name, NULL);
	output->checksum = g_checksum_new(G_CHECKSUM_SHA256);

	tmp_name = g_strdup_printf(".%s.XXXXXX", final_name);
	output->tmp_path = g_build_filename(dir, tmp_name, NULL);
	/* g_mkstemp_full() adds O_CREAT | O_EXCL */
	output->fd = g_mkstemp_full(output->tmp_path, O_RDWR | O_CLOEXEC, 0640);
	if (output->fd < 0) {
		cg_output_set_errno(error, errno, "create temporary file", output->tmp_path);
		g_clear_pointer(&output->tmp_path, g_free);
		return NULL;
	}
	/* the mode whatever the umask is */
	if (fchmod(output->fd, 0640) < 0) {
		cg_output_set_errno(error, errno, "set the mode of", output->tmp_path);
		return NULL;
	}
	return g_steal_pointer(&output);
}

void
cg_output_free(CgOutput *output)
{
	if (output == NULL)
		return;
	cg_output_discard(output);
	g_clear_pointer(&output->checksum, g_checksum_free);
	g_clear_error(&output->write_error);
	g_free(output->checksum_hex);
	g_free(output->dir);
	g_free(output->path);
	g_free(output);
}

cairo_status_t
cg_output_write(void *closure, const unsigned char *data, unsigned int length)
{
	CgOutput *output = closure;
	int errsv;

	g_return_val_if_fail(output != NULL, CAIRO_STATUS_WRITE_ERROR);

	if (output->write_error != NULL)
		return CAIRO_STATUS_WRITE_ERROR;
	if (output->fd < 0 || output->committed) {
		g_set_error(&output->write_error, CG_ERROR, CG_ERROR_FAILED,
			    "Cannot write %s: already closed", output->path);
		return CAIRO_STATUS_WRITE_ERROR;
	}
	errsv = cg_fs_write_all(output->fd, data, length);
	if (errsv != 0) {
		cg_output_set_errno(&output->write_error, errsv, "write", output->tmp_path);
		return CAIRO_STATUS_WRITE_ERROR;
	}
	g_checksum_update(output->checksum, data, length);
	output->size += length;
	return CAIRO_STATUS_SUCCESS;
}

gboolean
cg_output_take_write_error(CgOutput *output, GError **error)
{
	g_return_val_if_fail(output != NULL, FALSE);

	if (output->write_error == NULL)
		return FALSE;
	if (error != NULL)
		g_clear_error(error);
	g_propagate_error(error, g_steal_pointer(&output->write_error));
	return TRUE;
}

/* Re-opens the written file with poppler and counts its pages
 * (@user_data: the number expected, GUINT_TO_POINTER). */
static gboolean
cg_output_verify_pdf(const char *path, gpointer user_data, GError **error)
{
	g_autoptr(GError) error_local = NULL;
	PopplerDocument *document;
	g_autofree char *uri = g_filename_to_uri(path, NULL, &error_local);
	guint expected_pages = GPOINTER_TO_UINT(user_data);
	int n_pages;

	if (uri == NULL) {
		g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "Cannot verify %s: %s", path,
			    error_local->message);
		return FALSE;
	}
	document = poppler_document_new_from_file(uri, NULL, &error_local);
	if (document == NULL) {
		g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "Written PDF %s is not readable: %s",
			    path, error_local->message);
		return FALSE;
	}
	n_pages = poppler_document_get_n_pages(document);
	g_object_unref(document);
	if (n_pages < 0 || (guint)n_pages != expected_pages) {
		g_set_error(error, CG_ERROR, CG_ERROR_FAILED,
			    "Written PDF has %d page%s, expected %u", n_pages,
			    n_pages == 1 ? "" : "s", expected_pages);
		return FALSE;
	}
	return TRUE;
}

static gboolean
cg_output_commit_steps(CgOutput *output, CgOutputVerifyFunc verify, gpointer user_data,
		       GError **error)
{
	int errsv;

	if (output->write_error != NULL) {
		g_propagate_error(error, g_steal_pointer(&output->write_error));
		return FALSE;
	}
	if (fsync(output->fd) < 0)
		return cg_output_set_errno(error, errno, "fsync", output->tmp_path);
	if (close(output->fd) < 0) {
		output->fd = -1;
		return cg_output_set_errno(error, errno, "close", output->tmp_path);
	}
	output->fd = -1;
	if (!verify(output->tmp_path, user_data, error))
		return FALSE;
	if (rename(output->tmp_path, output->path) < 0)
		return cg_output_set_errno(error, errno, "rename into place", output->path);
	g_clear_pointer(&output->tmp_path, g_free);
	errsv = cg_fs_fsync_dir(output->dir);
	if (errsv != 0) {
		/* not durable: take it back rather than report a file
		 * that may vanish */
		g_unlink(output->path);
		return cg_output_set_errno(error, errsv, "fsync directory", output->dir);
	}
	return TRUE;
}

gboolean
cg_output_commit(CgOutput *output, guint expected_pages, GError **error)
{
	return cg_output_commit_verified(output, cg_output_verify_pdf,
					 GUINT_TO_POINTER(expected_pages), error);
}

gboolean
cg_output_commit_verified(CgOutput *output, CgOutputVerifyFunc verify, gpointer user_data,
			  GError **error)
{
	g_return_val_if_fail(output != NULL, FALSE);
	g_return_val_if_fail(verify != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (output->committed || output->tmp_path == NULL) {
		g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "%s: already %s", output->path,
			    output->committed ? "committed" : "discarded");
		return FALSE;
	}
	if (!cg_output_commit_steps(output, verify, user_data, error)) {
		cg_output_discard(output);
		return FALSE;
	}
	output->committed = TRUE;
	output->checksum_hex = g_strdup(g_checksum_get_string(output->checksum));
	return TRUE;
}

CG_DEFINE_GETTER(CgOutput, cg_output_get_path, const char *, path, NULL)
CG_DEFINE_GETTER(CgOutput, cg_output_get_size, guint64, size, 0)
CG_DEFINE_GETTER(CgOutput, cg_output_get_checksum, const char *, checksum_hex, NULL)
