/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-zip.h"

#include <archive.h>
#include <archive_entry.h>
#include <string.h>

#include "cg-error.h"

#define CG_ZIP_NAME_MAX 64

/*
 * libarchive is never told that a write failed: an archive in its fatal
 * state is freed without closing its client, which leaks the client's
 * block buffer (libarchive 3.6). A failed write (or an archive abandoned
 * unclosed) makes the write callback discard everything from then on, and
 * the writer's own calls report the failure.
 */
struct _CgZipWriter {
	struct archive *archive;
	cairo_write_func_t write;
	void *closure;
	gint64 mtime_s;
	gboolean closed;
	gboolean discard; /* nothing more reaches @write */
	gboolean failed;  /* a write to @write failed */
};

typedef struct archive_entry CgArchiveEntry;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgArchiveEntry, archive_entry_free)

static la_ssize_t
cg_zip_write_cb(struct archive *archive, void *client_data, const void *buffer, size_t length)
{
	CgZipWriter *writer = client_data;

	if (writer->discard)
		return (la_ssize_t)length;
	/* libarchive writes blocks of bytes_per_block (10240) bytes at most */
	if (length > G_MAXUINT ||
	    writer->write(writer->closure, buffer, (unsigned int)length) != CAIRO_STATUS_SUCCESS) {
		writer->discard = TRUE;
		writer->failed = TRUE;
	}
	return (la_ssize_t)length;
}

/* After a libarchive call: FALSE (with @error) when a write failed. */
static gboolean
cg_zip_check_written(CgZipWriter *writer, const char *name, GError **error)
{
	if (!writer->failed)
		return TRUE;
	g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "Cannot write %s to the ZIP archive", name);
	return FALSE;
}

static gboolean
cg_zip_set_error(GError **error, struct archive *archive, const char *what)
{
	const char *message = archive_error_string(archive);

	g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "Cannot %s the ZIP archive: %s", what,
		    message != NULL ? message : "unknown error");
	return FALSE;
}

gboolean
cg_zip_member_name_is_valid(const char *name)
{
	gsize len;

	g_return_val_if_fail(name != NULL, FALSE);

	len = strlen(name);
	if (len == 0 || len > CG_ZIP_NAME_MAX || name[0] == '.')
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isalnum(name[i]) && name[i] != '.' && name[i] != '_' && name[i] != '-')
			return FALSE;
	}
	return TRUE;
}

CgZipWriter *
cg_zip_writer_new(cairo_write_func_t write, void *closure, gint64 mtime_s, GError **error)
{
	g_autoptr(CgZipWriter) writer = NULL;

	g_return_val_if_fail(write != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	writer = g_new0(CgZipWriter, 1);
	writer->write = write;
	writer->closure = closure;
	writer->mtime_s = mtime_s;
	writer->archive = archive_write_new();
	if (writer->archive == NULL) {
		g_set_error_literal(error, CG_ERROR, CG_ERROR_FAILED,
				    "Cannot create the ZIP archive: out of memory");
		return NULL;
	}
	if (archive_write_set_format_zip(writer->archive) != ARCHIVE_OK ||
	    archive_write_zip_set_compression_store(writer->archive) != ARCHIVE_OK ||
	    /* no padding of the last block: the file ends with the archive */
	    archive_write_set_bytes_in_last_block(writer->archive, 1) != ARCHIVE_OK ||
	    archive_write_open2(writer->archive, writer, NULL, cg_zip_write_cb, NULL, NULL) !=
		ARCHIVE_OK) {
		cg_zip_set_error(error, writer->archive, "start");
		return NULL;
	}
	return g_steal_pointer(&writer);
}

void
cg_zip_writer_free(CgZipWriter *writer)
{
	/* not closed: the rest of the archive goes nowhere */
	if (writer != NULL)
		writer->discard = TRUE;
	if (writer != NULL)
		archive_write_free(writer->archive); /* closes it; NULL: nothing */
	g_free(writer);
}

gboolean
cg_zip_writer_add(CgZipWriter *writer, const char *name, const void *data, gsize length,
		  GError **error)
{
	g_autoptr(CgArchiveEntry) entry = NULL;
	la_ssize_t written;

	g_return_val_if_fail(writer != NULL, FALSE);
	g_return_val_if_fail(name != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (!cg_zip_member_name_is_valid(name)) {
		g_autofree char *escaped = g_strescape(name, NULL);

		g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "Not a plain ZIP member name: \"%s\"",
			    escaped);
		return FALSE;
	}
	if (writer->closed || length > (gsize)G_MAXINT64) {
		g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "Cannot add %s to the ZIP archive",
			    name);
		return FALSE;
	}
	entry = archive_entry_new();
	archive_entry_set_pathname(entry, name);
	archive_entry_set_filetype(entry, AE_IFREG);
	archive_entry_set_perm(entry, 0644);
	archive_entry_set_uid(entry, 0);
	archive_entry_set_gid(entry, 0);
	archive_entry_set_mtime(entry, (time_t)writer->mtime_s, 0);
	archive_entry_set_size(entry, (la_int64_t)length);
	if (archive_write_header(writer->archive, entry) != ARCHIVE_OK)
		return cg_zip_set_error(error, writer->archive, "write a member header of");
	if (!cg_zip_check_written(writer, name, error))
		return FALSE;
	written = archive_write_data(writer->archive, data, length);
	if (written < 0 || (gsize)written != length)
		return cg_zip_set_error(error, writer->archive, "write a member of");
	if (archive_write_finish_entry(writer->archive) != ARCHIVE_OK)
		return cg_zip_set_error(error, writer->archive, "finish a member of");
	return cg_zip_check_written(writer, name, error);
}

gboolean
cg_zip_writer_close(CgZipWriter *writer, GError **error)
{
	g_return_val_if_fail(writer != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (writer->closed) {
		g_set_error_literal(error, CG_ERROR, CG_ERROR_FAILED,
				    "The ZIP archive is closed already");
		return FALSE;
	}
	writer->closed = TRUE;
	if (archive_write_close(writer->archive) != ARCHIVE_OK)
		return cg_zip_set_error(error, writer->archive, "finish");
	return cg_zip_check_written(writer, "the central directory", error);
}

typedef struct archive CgArchiveReader;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgArchiveReader, archive_read_free)

/* Reads the current member's data to its end (libarchive checks its CRC-32
 * there); TRUE when it starts with @magic (NULL: anything). */
static gboolean
cg_zip_read_member(struct archive *archive, const char *name, const char *magic, GError **error)
{
	char buffer[8192];
	gsize total = 0;
	gboolean magic_ok = magic == NULL;

	for (;;) {
		la_ssize_t n = archive_read_data(archive, buffer, sizeof(buffer));

		if (n < 0)
			return cg_zip_set_error(error, archive, "read back");
		if (n == 0)
			break;
		if (total == 0 && magic != NULL && (gsize)n >= strlen(magic) &&
		    memcmp(buffer, magic, strlen(magic)) == 0)
			magic_ok = TRUE;
		total += (gsize)n;
	}
	if (!magic_ok) {
		g_set_error(error, CG_ERROR, CG_ERROR_FAILED,
			    "Written ZIP archive: member %s is not a PDF", name);
		return FALSE;
	}
	return TRUE;
}

gboolean
cg_zip_verify(const char *path, gpointer expected_members, GError **error)
{
	g_autoptr(CgArchiveReader) archive = archive_read_new();
	guint expected = GPOINTER_TO_UINT(expected_members);
	struct archive_entry *entry;
	guint n = 0;
	int r;

	g_return_val_if_fail(path != NULL, FALSE);

	if (archive == NULL) {
		g_set_error_literal(error, CG_ERROR, CG_ERROR_FAILED,
				    "Cannot read the ZIP archive back: out of memory");
		return FALSE;
	}
	if (archive_read_support_format_zip(archive) != ARCHIVE_OK ||
	    archive_read_open_filename(archive, path, 65536) != ARCHIVE_OK)
		return cg_zip_set_error(error, archive, "open");
	while ((r = archive_read_next_header(archive, &entry)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(entry);

		if (name == NULL || !cg_zip_member_name_is_valid(name)) {
			g_set_error_literal(error, CG_ERROR, CG_ERROR_FAILED,
					    "Written ZIP archive: a member has a bad name");
			return FALSE;
		}
		n++;
		if (n > expected)
			break;
		if (!cg_zip_read_member(archive, name, n < expected ? "%PDF-" : NULL, error))
			return FALSE;
	}
	if (r != ARCHIVE_OK && r != ARCHIVE_EOF)
		return cg_zip_set_error(error, archive, "read back");
	if (n != expected) {
		g_set_error(error, CG_ERROR, CG_ERROR_FAILED,
			    "Written ZIP archive has %s%u member%s, expected %u",
			    n > expected ? "more than " : "", MIN(n, expected), n == 1 ? "" : "s",
			    expected);
		return FALSE;
	}
	return TRUE;
}
