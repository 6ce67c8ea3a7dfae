/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-pdf-join.h"

#include <qpdf/qpdf-c.h>

#include "cg-error.h"
#include "cg-pdf-concat.h"

static void
cg_qpdf_cleanup(qpdf_data qpdf)
{
	qpdf_cleanup(&qpdf);
}

/* qpdf_data is a pointer type: a scope's handle, cleaned up at its end. */
typedef struct _qpdf_data CgQpdf;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgQpdf, cg_qpdf_cleanup)

static CgQpdf *
cg_qpdf_new(void)
{
	qpdf_data qpdf = qpdf_init();

	/* errors are read with qpdf_get_error(), warnings are not printed */
	qpdf_silence_errors(qpdf);
	qpdf_set_suppress_warnings(qpdf, QPDF_TRUE);
	return qpdf;
}

/* After a failed call on @qpdf: its error as a GError. */
static gboolean
cg_qpdf_fail(qpdf_data qpdf, const char *what, GError **error)
{
	qpdf_error e = qpdf_get_error(qpdf);

	g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "Could not join the PDFs (%s): %s", what,
		    e != NULL ? qpdf_get_error_full_text(qpdf, e) : "unknown qpdf error");
	return FALSE;
}

static gboolean
cg_qpdf_read(qpdf_data qpdf, GBytes *part, guint index, GError **error)
{
	g_autofree char *description = g_strdup_printf("part %u", index + 1);
	gsize length;
	const char *bytes = g_bytes_get_data(part, &length);

	if ((qpdf_read_memory(qpdf, description, bytes, length, NULL) & QPDF_ERRORS) != 0)
		return cg_qpdf_fail(qpdf, description, error);
	return TRUE;
}

/* Appends every page of @from (read already) to @to. */
static gboolean
cg_qpdf_append_pages(qpdf_data to, qpdf_data from, GError **error)
{
	int n = qpdf_get_num_pages(from);

	if (n < 0)
		return cg_qpdf_fail(from, "pages", error);
	for (int i = 0; i < n; i++) {
		if ((qpdf_add_page(to, from, qpdf_get_page_n(from, (size_t)i), QPDF_FALSE) &
		     QPDF_ERRORS) != 0)
			return cg_qpdf_fail(to, "adding a page", error);
	}
	return TRUE;
}

static void
cg_qpdf_set_title(qpdf_data qpdf, const char *title)
{
	qpdf_oh info = qpdf_oh_get_key(qpdf, qpdf_get_trailer(qpdf), "/Info");

	if (qpdf_oh_is_dictionary(qpdf, info))
		qpdf_oh_replace_key(qpdf, info, "/Title", qpdf_oh_new_unicode_string(qpdf, title));
}

static gboolean
cg_qpdf_write(qpdf_data qpdf, cairo_write_func_t write, void *closure, GError **error)
{
	if ((qpdf_init_write_memory(qpdf) & QPDF_ERRORS) != 0)
		return cg_qpdf_fail(qpdf, "writing", error);
	/* the parts' streams are compressed already: copy them as they are */
	qpdf_set_decode_level(qpdf, qpdf_dl_none);
	qpdf_set_stream_data_mode(qpdf, qpdf_s_preserve);
	qpdf_set_object_stream_mode(qpdf, qpdf_o_generate);
	qpdf_set_deterministic_ID(qpdf, QPDF_TRUE);
	if ((qpdf_write(qpdf) & QPDF_ERRORS) != 0)
		return cg_qpdf_fail(qpdf, "writing", error);
	if (write(closure, qpdf_get_buffer(qpdf), (unsigned int)qpdf_get_buffer_length(qpdf)) !=
	    CAIRO_STATUS_SUCCESS) {
		g_set_error_literal(error, CG_ERROR, CG_ERROR_FAILED,
				    "Could not write the joined PDF");
		return FALSE;
	}
	return TRUE;
}

gboolean
cg_pdf_join(GBytes *const *parts, guint n_parts, const char *title, cairo_write_func_t write,
	    void *closure, GError **error)
{
	g_autoptr(CgQpdf) out = NULL;
	g_autoptr(GByteArray) plain = NULL;
	/* the parts stay open until the output is written: qpdf copies
	 * their stream data then */
	g_autoptr(GPtrArray) others = NULL;

	g_return_val_if_fail(parts != NULL && n_parts > 0, FALSE);
	g_return_val_if_fail(write != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	/* cairo's plain PDFs: joined without qpdf (cg-pdf-concat.h) */
	plain = cg_pdf_concat(parts, n_parts, title,
			      CG_PDF_CONCAT_OBJECT_STREAMS | CG_PDF_CONCAT_SHARE);
	if (plain != NULL) {
		if (write(closure, plain->data, plain->len) != CAIRO_STATUS_SUCCESS) {
			g_set_error_literal(error, CG_ERROR, CG_ERROR_FAILED,
					    "Could not write the joined PDF");
			return FALSE;
		}
		return TRUE;
	}
	out = cg_qpdf_new();
	if (!cg_qpdf_read(out, parts[0], 0, error))
		return FALSE;
	others = g_ptr_array_new_full(n_parts, (GDestroyNotify)cg_qpdf_cleanup);
	for (guint i = 1; i < n_parts; i++) {
		qpdf_data part = cg_qpdf_new();

		g_ptr_array_add(others, part);
		if (!cg_qpdf_read(part, parts[i], i, error) ||
		    !cg_qpdf_append_pages(out, part, error))
			return FALSE;
	}
	if (title != NULL)
		cg_qpdf_set_title(out, title);
	return cg_qpdf_write(out, write, closure, error);
}
