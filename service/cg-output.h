/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <cairo.h>
#include <glib.h>

G_BEGIN_DECLS

/*
 * File preparation: a PDF is written to a temporary file in the state
 * directory (hashed with SHA-256 while written), then fsynced, re-opened with
 * poppler to check its page count, and renamed into place; the directory is
 * fsynced. No partial file is ever visible under the final name, and
 * cg_output_free() on an uncommitted output removes the temporary file.
 */

typedef struct _CgOutput CgOutput;

/* Temporary file in @dir for the final name @final_name (a plain file name). */
CgOutput *cg_output_new(const char *dir, const char *final_name, GError **error);
void cg_output_free(CgOutput *output);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgOutput, cg_output_free)

/* A cairo_write_func_t; @closure is the CgOutput. */
cairo_status_t cg_output_write(void *closure, const unsigned char *data, unsigned int length);

/* After a failed render: when a write to the file failed, that error (it
 * names the cause, e.g. "No space left on device") replaces *@error, which
 * may already hold cairo's generic one. TRUE when it did. */
gboolean cg_output_take_write_error(CgOutput *output, GError **error);

/* fsync, verify @expected_pages with poppler, rename into place, fsync dir. */
gboolean cg_output_commit(CgOutput *output, guint expected_pages, GError **error);

/* Checks the written file at @path (still the temporary one) before it is
 * renamed into place. */
typedef gboolean (*CgOutputVerifyFunc)(const char *path, gpointer user_data, GError **error);

/* cg_output_commit() for a file that is not one PDF (a ZIP): the same steps,
 * with @verify instead of poppler's page count. */
gboolean cg_output_commit_verified(CgOutput *output, CgOutputVerifyFunc verify, gpointer user_data,
				   GError **error);

const char *cg_output_get_path(const CgOutput *output); /* final path */
guint64 cg_output_get_size(const CgOutput *output);
const char *cg_output_get_checksum(const CgOutput *output); /* sha256 hex, after commit */

G_END_DECLS
