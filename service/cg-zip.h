/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <cairo.h>
#include <glib.h>

G_BEGIN_DECLS

/*
 * A ZIP archive written with libarchive through a write function (in the
 * service: cg_output_write() into a CgOutput, so the archive gets the same
 * temporary file, fsync, SHA-256 and rename as a PDF). Members are stored
 * (the PDFs inside are compressed already), in the order they are added,
 * each with the same modification time, mode 0644 and owner 0: the same
 * members give the same bytes.
 */

typedef struct _CgZipWriter CgZipWriter;

/* Every member gets @mtime_s (seconds since the epoch) as its time. */
CgZipWriter *cg_zip_writer_new(cairo_write_func_t write, void *closure, gint64 mtime_s,
			       GError **error);
/* Frees @writer; an archive not closed is abandoned (its bytes so far stay
 * with the write function, e.g. the temporary file a CgOutput removes). */
void cg_zip_writer_free(CgZipWriter *writer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgZipWriter, cg_zip_writer_free)

/* A member @name (see cg_zip_member_name_is_valid()) holding @data. */
gboolean cg_zip_writer_add(CgZipWriter *writer, const char *name, const void *data, gsize length,
			   GError **error);
/* Writes the central directory: the archive is complete. */
gboolean cg_zip_writer_close(CgZipWriter *writer, GError **error);

/* A plain member name: 1–64 of [A-Za-z0-9._-], not starting with a dot, so
 * no path separator, no "..", nothing an unzip tool would place elsewhere. */
gboolean cg_zip_member_name_is_valid(const char *name);

/* Reads the archive at @path back with libarchive: @expected_members members,
 * each with a valid name and its data intact (sizes and CRC-32), the first
 * @expected_members - 1 beginning with "%PDF-". A CgOutputVerifyFunc with
 * GUINT_TO_POINTER(@expected_members) as user data. */
gboolean cg_zip_verify(const char *path, gpointer expected_members, GError **error);

G_END_DECLS
