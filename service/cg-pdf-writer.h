/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The bottom of certgen's own PDF writer (used for a single certificate,
 * cg-pdf-page.c): numbered objects appended to a byte array, a classic
 * cross-reference table and a trailer at the end. It knows nothing of
 * pages or fonts; it keeps each object's offset and formats numbers
 * without the locale (no printf of floating point: a fixed number of
 * decimals, trailing zeros dropped), so the same calls give the same
 * bytes anywhere.
 */

typedef struct {
	GByteArray *out; /* borrowed */
	gsize start;	 /* where the PDF starts in @out */
	GArray *offsets; /* gsize by object number; 0: not written (yet) */
} CgPdfWriter;

/* Starts a PDF at the end of @out: its header. Object 0 is the free head
 * of the table; numbers are handed out from 1. */
void cg_pdf_writer_init(CgPdfWriter *writer, GByteArray *out);
void cg_pdf_writer_clear(CgPdfWriter *writer);

/* A new object number, for an object written later. */
guint cg_pdf_writer_reserve(CgPdfWriter *writer);
/* Object @number starts here ("N 0 obj" follows); cg_pdf_writer_end()
 * closes it. */
void cg_pdf_writer_begin(CgPdfWriter *writer, guint number);
void cg_pdf_writer_end(CgPdfWriter *writer);
/* Object @number starts at @offset of the output: for objects appended
 * whole by someone else (cg_pdf_underlay_write()). */
void cg_pdf_writer_mark(CgPdfWriter *writer, guint number, gsize offset);
/* Object @number as a stream: "<< @dict /Length N >>" (@dict: entries,
 * may be "") and @length bytes of @data. */
void cg_pdf_writer_stream(CgPdfWriter *writer, guint number, const char *dict, const guint8 *data,
			  gsize length);
/* The table and the trailer naming @root and @info (0: none). Every
 * number reserved must have been written. */
void cg_pdf_writer_finish(CgPdfWriter *writer, guint root, guint info);

void cg_pdf_put(GByteArray *out, const char *text);
void cg_pdf_put_printf(GByteArray *out, const char *format, ...) G_GNUC_PRINTF(2, 3);
void cg_pdf_put_uint(GByteArray *out, guint64 value);
void cg_pdf_put_int(GByteArray *out, gint64 value);
/* @value rounded to @decimals (at most 6) decimals, without trailing
 * zeros or a trailing point, "-" only before a non-zero figure. */
void cg_pdf_put_real(GByteArray *out, double value, guint decimals);

G_END_DECLS
