/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * certgenctl: what "verify FILE.pdf" reads from a certificate file — its
 * SHA-256 and, with poppler-glib, each page's verification link (the link
 * annotation over the QR code, `{base_url}/{number}?c={code}`), taken apart
 * strictly (common/cg-verify-input.h).
 */
#pragma once

#include "cg-ctl-util.h"

/* Larger files are refused (a 10,000-page batch is about 37 MiB). */
#define CG_CTL_PDF_MAX_BYTES (1024ULL * 1024 * 1024)

typedef enum CgCtlPdfLink {
	CG_CTL_PDF_LINK_OK,	 /* number and code are set */
	CG_CTL_PDF_LINK_NONE,	 /* no verification link on the page */
	CG_CTL_PDF_LINK_SEVERAL, /* links to more than one certificate */
} CgCtlPdfLink;

typedef struct CgCtlPdfPage {
	CgCtlPdfLink link;
	char *number; /* g_free()d; fit for a terminal (checked characters) */
	char *code;
} CgCtlPdfPage;

typedef struct CgCtlPdf {
	char sha256[65]; /* lower-case hex of the whole file */
	CgCtlPdfPage *pages;
	size_t n_pages;
} CgCtlPdf;

/* Reads @path (a PDF; "-" is not accepted). Logs and returns a negative
 * errno when it cannot be read or is not a PDF. */
int cg_ctl_pdf_read(const char *path, CgCtlPdf *ret);
void cg_ctl_pdf_done(CgCtlPdf *pdf);

/* "no verification link", ... for a page without a usable one. */
const char *cg_ctl_pdf_link_problem(CgCtlPdfLink link);
