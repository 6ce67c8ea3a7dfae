/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "cg-pdf-writer.h"

#include <math.h>
#include <string.h>

/* Numbers are written by hand: a content stream has hundreds of them, and
 * printf() of a double (cairo's way) was a fifth of a page's time once
 * (issue 12's profile). */

void
cg_pdf_put(GByteArray *out, const char *text)
{
	g_byte_array_append(out, (const guint8 *)text, (guint)strlen(text));
}

void
cg_pdf_put_printf(GByteArray *out, const char *format, ...)
{
	char buf[256];
	va_list args;
	int n;

	va_start(args, format);
	n = g_vsnprintf(buf, sizeof(buf), format, args);
	va_end(args);
	if (n >= 0 && (gsize)n < sizeof(buf)) {
		g_byte_array_append(out, (const guint8 *)buf, (guint)n);
	} else {
		g_autofree char *text = NULL;

		va_start(args, format);
		text = g_strdup_vprintf(format, args);
		va_end(args);
		cg_pdf_put(out, text);
	}
}

void
cg_pdf_put_uint(GByteArray *out, guint64 value)
{
	char buf[24];
	guint n = sizeof(buf);

	do {
		buf[--n] = (char)('0' + value % 10);
		value /= 10;
	} while (value != 0);
	g_byte_array_append(out, (const guint8 *)buf + n, sizeof(buf) - n);
}

void
cg_pdf_put_int(GByteArray *out, gint64 value)
{
	if (value < 0)
		cg_pdf_put(out, "-");
	cg_pdf_put_uint(out, value < 0 ? -(guint64)value : (guint64)value);
}

void
cg_pdf_put_real(GByteArray *out, double value, guint decimals)
{
	static const guint64 powers[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
	char buf[48];
	guint n = sizeof(buf);
	gboolean negative;
	guint64 scaled, whole, frac;
	guint digits;

	decimals = MIN(decimals, 6);
	/* a PDF reader's reals are small; anything else is a bug upstream */
	if (!isfinite(value) || fabs(value) > 1e12)
		value = 0;
	negative = value < 0;
	scaled = (guint64)llround(fabs(value) * (double)powers[decimals]);
	whole = scaled / powers[decimals];
	frac = scaled % powers[decimals];
	digits = decimals;
	while (digits > 0 && frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	for (guint i = 0; i < digits; i++) {
		buf[--n] = (char)('0' + frac % 10);
		frac /= 10;
	}
	if (digits > 0)
		buf[--n] = '.';
	do {
		buf[--n] = (char)('0' + whole % 10);
		whole /= 10;
	} while (whole != 0);
	if (negative && scaled != 0)
		buf[--n] = '-';
	g_byte_array_append(out, (const guint8 *)buf + n, sizeof(buf) - n);
}

void
cg_pdf_writer_init(CgPdfWriter *writer, GByteArray *out)
{
	gsize zero = 0;

	writer->out = out;
	writer->start = out->len;
	writer->offsets = g_array_sized_new(FALSE, FALSE, sizeof(gsize), 64);
	g_array_append_val(writer->offsets, zero);
	/* a binary comment: the file is not text */
	cg_pdf_put(out, "%PDF-1.5\n%\xe2\xe3\xcf\xd3\n");
}

void
cg_pdf_writer_clear(CgPdfWriter *writer)
{
	g_clear_pointer(&writer->offsets, g_array_unref);
}

guint
cg_pdf_writer_reserve(CgPdfWriter *writer)
{
	gsize zero = 0;

	g_array_append_val(writer->offsets, zero);
	return writer->offsets->len - 1;
}

void
cg_pdf_writer_mark(CgPdfWriter *writer, guint number, gsize offset)
{
	g_return_if_fail(number > 0 && number < writer->offsets->len);

	g_array_index(writer->offsets, gsize, number) = offset - writer->start;
}

void
cg_pdf_writer_begin(CgPdfWriter *writer, guint number)
{
	cg_pdf_writer_mark(writer, number, writer->out->len);
	cg_pdf_put_uint(writer->out, number);
	cg_pdf_put(writer->out, " 0 obj\n");
}

void
cg_pdf_writer_end(CgPdfWriter *writer)
{
	cg_pdf_put(writer->out, "\nendobj\n");
}

void
cg_pdf_writer_stream(CgPdfWriter *writer, guint number, const char *dict, const guint8 *data,
		     gsize length)
{
	cg_pdf_writer_begin(writer, number);
	cg_pdf_put(writer->out, "<<");
	cg_pdf_put(writer->out, dict);
	cg_pdf_put(writer->out, " /Length ");
	cg_pdf_put_uint(writer->out, length);
	cg_pdf_put(writer->out, " >>\nstream\n");
	g_byte_array_append(writer->out, data, (guint)length);
	cg_pdf_put(writer->out, "\nendstream");
	cg_pdf_writer_end(writer);
}

void
cg_pdf_writer_finish(CgPdfWriter *writer, guint root, guint info)
{
	GByteArray *out = writer->out;
	gsize xref = out->len - writer->start;
	guint size = writer->offsets->len;

	cg_pdf_put_printf(out, "xref\n0 %u\n0000000000 65535 f \n", size);
	for (guint i = 1; i < size; i++) {
		char entry[24];

		g_warn_if_fail(g_array_index(writer->offsets, gsize, i) != 0);
		g_snprintf(entry, sizeof(entry), "%010" G_GSIZE_FORMAT " 00000 n \n",
			   g_array_index(writer->offsets, gsize, i));
		g_byte_array_append(out, (const guint8 *)entry, 20);
	}
	cg_pdf_put_printf(out, "trailer\n<< /Size %u /Root %u 0 R", size, root);
	if (info != 0)
		cg_pdf_put_printf(out, " /Info %u 0 R", info);
	cg_pdf_put_printf(out, " >>\nstartxref\n%" G_GSIZE_FORMAT "\n%%%%EOF\n", xref);
}
