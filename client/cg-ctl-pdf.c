/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "cg-ctl-pdf.h"

#include <glib.h>
#include <poppler.h>

#include "cg-verify-input.h"

/* poppler-glib 22.02 (Debian 12) declares no autoptr cleanups */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PopplerDocument, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PopplerPage, g_object_unref)

const char *
cg_ctl_pdf_link_problem(CgCtlPdfLink link)
{
	switch (link) {
	case CG_CTL_PDF_LINK_NONE:
		return "no verification link on this page";
	case CG_CTL_PDF_LINK_SEVERAL:
		return "links to more than one certificate on this page";
	case CG_CTL_PDF_LINK_OK:
	default:
		return "";
	}
}

/* The verification link of @page: exactly one certificate (the same URL
 * may be there twice), else NONE or SEVERAL. */
static void
read_page_link(PopplerPage *page, CgCtlPdfPage *ret)
{
	GList *mappings = poppler_page_get_link_mapping(page);

	*ret = (CgCtlPdfPage){.link = CG_CTL_PDF_LINK_NONE};
	for (GList *l = mappings; l != NULL; l = l->next) {
		const PopplerLinkMapping *mapping = l->data;
		g_autofree char *number = NULL, *code = NULL;

		if (mapping->action == NULL || mapping->action->type != POPPLER_ACTION_URI ||
		    !cg_verification_url_parse(mapping->action->uri.uri, &number, &code))
			continue;
		if (ret->link == CG_CTL_PDF_LINK_NONE) {
			ret->link = CG_CTL_PDF_LINK_OK;
			ret->number = g_steal_pointer(&number);
			ret->code = g_steal_pointer(&code);
		} else if (ret->link == CG_CTL_PDF_LINK_OK &&
			   (!streq(ret->number, number) || !streq(ret->code, code))) {
			ret->link = CG_CTL_PDF_LINK_SEVERAL;
		}
	}
	if (ret->link != CG_CTL_PDF_LINK_OK) {
		g_clear_pointer(&ret->number, g_free);
		g_clear_pointer(&ret->code, g_free);
	}
	poppler_page_free_link_mapping(mappings);
}

int
cg_ctl_pdf_read(const char *path, CgCtlPdf *ret)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GMappedFile) mapped = NULL;
	g_autoptr(GBytes) bytes = NULL;
	g_autoptr(PopplerDocument) document = NULL;
	g_autofree char *sha256 = NULL;
	CgCtlPdf pdf = {0};
	int n;

	mapped = g_mapped_file_new(path, FALSE, &error);
	if (mapped == NULL) {
		cg_log_error("Failed to read %s: %s", path, error->message);
		return -EIO;
	}
	if (g_mapped_file_get_length(mapped) > CG_CTL_PDF_MAX_BYTES) {
		cg_log_error("%s is larger than %llu MiB.", path,
			     (unsigned long long)(CG_CTL_PDF_MAX_BYTES / 1024 / 1024));
		return -EFBIG;
	}
	bytes = g_mapped_file_get_bytes(mapped);
	sha256 = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, bytes);
	document = poppler_document_new_from_bytes(bytes, NULL, &error);
	if (document == NULL) {
		cg_log_error("%s is not a PDF that can be read: %s", path, error->message);
		return -EINVAL;
	}
	n = poppler_document_get_n_pages(document);
	if (n <= 0) {
		cg_log_error("%s has no pages.", path);
		return -EINVAL;
	}
	g_strlcpy(pdf.sha256, sha256, sizeof(pdf.sha256));
	pdf.pages = g_new0(CgCtlPdfPage, (gsize)n);
	for (int i = 0; i < n; i++) {
		g_autoptr(PopplerPage) page = poppler_document_get_page(document, i);

		if (page != NULL)
			read_page_link(page, &pdf.pages[i]);
		else
			pdf.pages[i].link = CG_CTL_PDF_LINK_NONE;
		pdf.n_pages++;
	}
	*ret = pdf;
	return 0;
}

void
cg_ctl_pdf_done(CgCtlPdf *pdf)
{
	for (size_t i = 0; i < pdf->n_pages; i++) {
		g_free(pdf->pages[i].number);
		g_free(pdf->pages[i].code);
	}
	g_free(pdf->pages);
	*pdf = (CgCtlPdf){0};
}
