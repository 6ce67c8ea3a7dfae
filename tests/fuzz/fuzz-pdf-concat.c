/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plain PDF join (cg-pdf-concat.c) on any bytes: the input is cut
 * after its first "%%EOF\n" into two parts (the second, when empty, is the
 * first again) and joined. Besides the sanitizers: whatever it accepts, it
 * joins the same way twice (with object streams, objects shared, both),
 * and its output without object streams is a PDF of the shape it accepts (joined again on its own,
 * it is taken); the first part cut into pages (cg_pdf_split(), 1 to 4 titles) gives pages of that
 * shape too. What it declines is NULL, never a crash. */
#define _GNU_SOURCE /* memmem() */
#include <stdint.h>
#include <string.h>

#include "cg-pdf-concat.h"

#define FUZZ_MAX_BYTES (1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char eof[] = "%%EOF\n";
	const uint8_t *cut = NULL;
	g_autoptr(GBytes) first = NULL;
	g_autoptr(GBytes) second = NULL;
	g_autoptr(GByteArray) joined = NULL;
	g_autoptr(GByteArray) again = NULL;
	GBytes *parts[2];

	if (size > FUZZ_MAX_BYTES)
		return 0;
	if (size >= sizeof(eof) - 1)
		cut = memmem(data, size, eof, sizeof(eof) - 1);
	cut = cut != NULL ? cut + sizeof(eof) - 1 : data + size;
	first = g_bytes_new(data, (gsize)(cut - data));
	second =
	    cut < data + size ? g_bytes_new(cut, (gsize)(data + size - cut)) : g_bytes_ref(first);
	parts[0] = first;
	parts[1] = second;
	/* cut into pages: each page is again of the shape */
	for (guint n = 1; n <= 4; n++) {
		const char *titles[4] = {NULL, "Page", NULL, "Page"};
		g_autoptr(GPtrArray) pages = cg_pdf_split(first, titles, n);

		for (guint i = 0; pages != NULL && i < pages->len; i++) {
			GBytes *alone[] = {pages->pdata[i]};
			g_autoptr(GByteArray) page =
			    cg_pdf_concat(alone, 1, NULL, CG_PDF_CONCAT_NONE);

			g_assert_nonnull(page);
		}
	}
	joined = cg_pdf_concat(parts, 2, "Fuzz – title", CG_PDF_CONCAT_NONE);
	if (joined == NULL)
		return 0;
	again = cg_pdf_concat(parts, 2, "Fuzz – title", CG_PDF_CONCAT_NONE);
	g_assert_nonnull(again);
	g_assert_cmpmem(joined->data, joined->len, again->data, again->len);
	{
		/* with object streams, objects shared, both: taken as well,
		 * the same way twice; shared, of the shape it reads */
		static const CgPdfConcatFlags others[] = {
		    CG_PDF_CONCAT_OBJECT_STREAMS,
		    CG_PDF_CONCAT_SHARE,
		    CG_PDF_CONCAT_OBJECT_STREAMS | CG_PDF_CONCAT_SHARE,
		};

		for (guint k = 0; k < G_N_ELEMENTS(others); k++) {
			g_autoptr(GByteArray) other =
			    cg_pdf_concat(parts, 2, "Fuzz – title", others[k]);
			g_autoptr(GByteArray) other_again =
			    cg_pdf_concat(parts, 2, "Fuzz – title", others[k]);

			g_assert_nonnull(other);
			g_assert_nonnull(other_again);
			g_assert_cmpmem(other->data, other->len, other_again->data,
					other_again->len);
			if ((others[k] & CG_PDF_CONCAT_OBJECT_STREAMS) == 0) {
				g_autoptr(GBytes) out = g_bytes_new(other->data, other->len);
				GBytes *alone[] = {out};
				g_autoptr(GByteArray) rejoined =
				    cg_pdf_concat(alone, 1, NULL, CG_PDF_CONCAT_NONE);

				g_assert_nonnull(rejoined);
			}
		}
	}
	{
		g_autoptr(GBytes) out = g_bytes_new(joined->data, joined->len);
		GBytes *alone[] = {out};
		g_autoptr(GByteArray) rejoined = cg_pdf_concat(alone, 1, NULL, CG_PDF_CONCAT_NONE);

		g_assert_nonnull(rejoined);
	}
	return 0;
}
