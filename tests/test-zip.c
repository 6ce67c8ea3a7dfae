/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ZIP output (issue 10 item 4): the libarchive writer (cg-zip.c), the
 * manifest's CSV quoting (cg-manifest.c) and a ZIP batch rendered by two
 * threads (cg-zip-batch.c) into a CgOutput, read back with libarchive and
 * poppler. */
#include <archive.h>
#include <archive_entry.h>
#include <glib/gstdio.h>
#include <poppler.h>
#include <string.h>

#include "cg-error.h"
#include "cg-manifest.h"
#include "cg-output.h"
#include "cg-template.h"
#include "cg-test-progress.h"
#include "cg-test-util.h"
#include "cg-zip-batch.h"
#include "cg-zip.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PopplerDocument, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PopplerPage, g_object_unref)

/* 2026-11-28T10:00:00Z */
#define ISSUED_AT_US (G_GINT64_CONSTANT(1795860000) * G_USEC_PER_SEC)

typedef struct {
	GBytes *data;
	gint64 mtime;
	guint mode;
	char name[80];
} Member;

static void
member_free(Member *member)
{
	g_bytes_unref(member->data);
	g_free(member);
}

/* Every member of the ZIP in @zip, in order. */
static GPtrArray *
read_members(GBytes *zip)
{
	GPtrArray *members = g_ptr_array_new_with_free_func((GDestroyNotify)member_free);
	struct archive *archive = archive_read_new();
	struct archive_entry *entry;
	gsize size;
	const void *bytes = g_bytes_get_data(zip, &size);
	int r;

	g_assert_cmpint(archive_read_support_format_zip(archive), ==, ARCHIVE_OK);
	g_assert_cmpint(archive_read_open_memory(archive, bytes, size), ==, ARCHIVE_OK);
	while ((r = archive_read_next_header(archive, &entry)) == ARCHIVE_OK) {
		Member *member = g_new0(Member, 1);
		GByteArray *data = g_byte_array_new();
		char buffer[4096];
		la_ssize_t n;

		g_strlcpy(member->name, archive_entry_pathname(entry), sizeof(member->name));
		member->mtime = archive_entry_mtime(entry);
		member->mode = archive_entry_perm(entry);
		while ((n = archive_read_data(archive, buffer, sizeof(buffer))) > 0)
			g_byte_array_append(data, (const guint8 *)buffer, (guint)n);
		g_assert_cmpint(n, ==, 0);
		member->data = g_byte_array_free_to_bytes(data);
		g_ptr_array_add(members, member);
	}
	g_assert_cmpint(r, ==, ARCHIVE_EOF);
	archive_read_free(archive);
	return members;
}

static cairo_status_t
failing_write(void *closure, const unsigned char *data, unsigned int length)
{
	return CAIRO_STATUS_WRITE_ERROR;
}

static GBytes *
write_two_members(gint64 mtime_s)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GByteArray) out = g_byte_array_new();
	g_autoptr(CgZipWriter) zip =
	    cg_zip_writer_new(cg_render_write_to_byte_array, out, mtime_s, &error);

	g_assert_no_error(error);
	g_assert_true(cg_zip_writer_add(zip, "CERT2026000001.pdf", "%PDF-1 one", 10, &error));
	g_assert_true(cg_zip_writer_add(zip, "manifest.csv", "a,b\r\n", 5, &error));
	g_assert_no_error(error);
	g_assert_true(cg_zip_writer_close(zip, &error));
	g_assert_no_error(error);
	return g_byte_array_free_to_bytes(g_steal_pointer(&out));
}

/* Members come back in order with their names, bytes, time and mode; the
 * same members give the same archive, byte for byte. */
static void
test_zip_writer(void)
{
	g_autoptr(GBytes) zip = write_two_members(ISSUED_AT_US / G_USEC_PER_SEC);
	g_autoptr(GBytes) again = write_two_members(ISSUED_AT_US / G_USEC_PER_SEC);
	g_autoptr(GPtrArray) members = read_members(zip);
	const Member *first, *second;
	gsize size;

	g_assert_cmpuint(members->len, ==, 2);
	first = members->pdata[0];
	second = members->pdata[1];
	g_assert_cmpstr(first->name, ==, "CERT2026000001.pdf");
	g_assert_cmpstr(second->name, ==, "manifest.csv");
	g_assert_cmpmem(g_bytes_get_data(first->data, &size), size, "%PDF-1 one", 10);
	g_assert_cmpmem(g_bytes_get_data(second->data, &size), size, "a,b\r\n", 5);
	g_assert_cmpint(first->mtime, ==, ISSUED_AT_US / G_USEC_PER_SEC);
	g_assert_cmpint(second->mtime, ==, ISSUED_AT_US / G_USEC_PER_SEC);
	g_assert_cmpuint(first->mode, ==, 0644);
	g_assert_true(g_bytes_equal(zip, again));
}

/* No path separator, no dot file, nothing but a plain name. */
static void
test_zip_member_names(void)
{
	const char *bad[] = {"",   "../x.pdf", "a/b.pdf", "/abs.pdf", ".hidden",
			     "..", "a\\b.pdf", "a b.pdf", "x\n.pdf",  "é.pdf"};
	g_autoptr(GByteArray) out = g_byte_array_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(CgZipWriter) zip =
	    cg_zip_writer_new(cg_render_write_to_byte_array, out, 0, &error);
	g_autofree char *long_name = g_strnfill(65, 'a');

	g_assert_true(cg_zip_member_name_is_valid("CERT2026000001.pdf"));
	g_assert_true(cg_zip_member_name_is_valid("manifest.csv"));
	g_assert_false(cg_zip_member_name_is_valid(long_name));
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_assert_false(cg_zip_member_name_is_valid(bad[i]));
		g_assert_false(cg_zip_writer_add(zip, bad[i], "x", 1, &error));
		g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
		g_clear_error(&error);
	}
}

/* A write that fails is an error of the add or of the close, never a
 * success. */
static void
test_zip_write_error(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CgZipWriter) zip = cg_zip_writer_new(failing_write, NULL, 0, &error);
	g_autofree char *big = g_malloc0(100000);
	gboolean ok;

	g_assert_no_error(error);
	ok = cg_zip_writer_add(zip, "a.pdf", big, 100000, &error) &&
	     cg_zip_writer_close(zip, &error);
	g_assert_false(ok);
	g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
}

static char *
csv_field(const char *value)
{
	GString *out = g_string_new(NULL);

	cg_manifest_append_field(out, value);
	return g_string_free(out, FALSE);
}

/* RFC 4180 quoting, and formulas neutralised. */
static void
test_manifest_quoting(void)
{
	const struct {
		const char *in, *out;
	} cases[] = {
	    {"Ada Lovelace", "Ada Lovelace"},
	    {"", ""},
	    {"Smith, Jr.", "\"Smith, Jr.\""},
	    {"The \"Great\"", "\"The \"\"Great\"\"\""},
	    {"two\nlines", "\"two\nlines\""},
	    {"cr\rhere", "\"cr\rhere\""},
	    {"=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""},
	    {"+1", "\"'+1\""},
	    {"-2+3", "\"'-2+3\""},
	    {"@SUM(A1)", "\"'@SUM(A1)\""},
	    {"\tTab", "\"'\tTab\""},
	    {"a=b", "a=b"},
	    {"Zoë Ångström 山田", "Zoë Ångström 山田"},
	};
	g_autoptr(CgManifest) manifest = cg_manifest_new();
	gsize length;
	const char *csv;

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *got = csv_field(cases[i].in);

		g_assert_cmpstr(got, ==, cases[i].out);
	}
	cg_manifest_add(manifest, "CERT2026000001", "Smith, \"Jr\"", "ab12");
	csv = cg_manifest_get_data(manifest, &length);
	g_assert_cmpstr(
	    csv, ==,
	    "number,recipient_name,sha256\r\nCERT2026000001,\"Smith, \"\"Jr\"\"\",ab12\r\n");
	g_assert_cmpuint(length, ==, strlen(csv));
}

/* ---- a batch --------------------------------------------------------------------------- */

typedef struct {
	char *root;
	char *dir;
	CgTemplateStore *store;
	CgTemplate *tmpl;
} Fixture;

static void
fixture_set_up(Fixture *f, gconstpointer user_data)
{
	g_autofree char *templates = cg_test_shipped_templates_dir();
	const char *dirs[] = {templates, NULL};
	g_autoptr(GError) error = NULL;

	f->store = cg_template_store_new(dirs);
	f->root = cg_test_make_scratch_dir("cg-test-zip-XXXXXX");
	f->dir = g_build_filename(f->root, "certificates", NULL);
	f->tmpl = cg_template_store_load(f->store, "classic", NULL, &error);
	g_assert_no_error(error);
}

static void
fixture_tear_down(Fixture *f, gconstpointer user_data)
{
	g_clear_pointer(&f->tmpl, cg_template_unref);
	g_clear_pointer(&f->store, cg_template_store_free);
	cg_test_remove_tree(f->root);
	g_clear_pointer(&f->dir, g_free);
	g_clear_pointer(&f->root, g_free);
}

static guint
count_dir(const char *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	guint n = 0;

	if (dir == NULL)
		return 0;
	while (g_dir_read_name(dir) != NULL)
		n++;
	return n;
}

static const char *const names[] = {
    "Ada Lovelace",  "=HYPERLINK(\"http://evil\",\"x\")",
    "Smith, \"Jr\"", "-1+1",
    "Grace Hopper",  "Zoë Ångström",
    "Alan Turing",
};

static CgData *
batch_data(Fixture *f, guint n)
{
	g_autoptr(GError) error = NULL;
	GString *json = g_string_new("{\"courseName\": \"Zips\", \"issueDate\": \"2026-11-28\", "
				     "\"recipients\": [");
	CgData *data;

	for (guint i = 0; i < n; i++) {
		g_string_append_printf(json, "%s{\"recipientName\": \"", i > 0 ? "," : "");
		for (const char *p = names[i % G_N_ELEMENTS(names)]; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				g_string_append_c(json, '\\');
			g_string_append_c(json, *p);
		}
		g_string_append(json, "\"}");
	}
	g_string_append(json, "]}");
	data = cg_data_parse(json->str, json->len, cg_template_get_rules(f->tmpl), 1 << 20, 1000,
			     NULL, &error);
	g_assert_no_error(error);
	g_string_free(json, TRUE);
	return data;
}

static gpointer
helper_thread(gpointer data)
{
	cg_zip_batch_help(data, NULL, NULL);
	return NULL;
}

/* The text of page 1 of @pdf; asserts it has exactly one page. */
static char *
pdf_text(GBytes *pdf)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(PopplerDocument) doc = poppler_document_new_from_bytes(pdf, NULL, &error);
	g_autoptr(PopplerPage) page = NULL;

	g_assert_no_error(error);
	g_assert_cmpint(poppler_document_get_n_pages(doc), ==, 1);
	page = poppler_document_get_page(doc, 0);
	return poppler_page_get_text(page);
}

static gboolean
run_batch(Fixture *f, const CgData *data, CgOutput *output, CgTestProgress *progress,
	  GCancellable *cancellable, GError **error)
{
	CgRenderParams params = {.first_number = 101, .issued_at_us = ISSUED_AT_US};
	g_autoptr(CgZipBatch) batch = cg_zip_batch_new(
	    f->tmpl, data, &params, cg_test_progress_page_done, progress, cancellable);
	GThread *helper = g_thread_new("zip-helper", helper_thread, cg_zip_batch_ref(batch));
	gboolean ok = cg_zip_batch_run(batch, cg_output_write, output, error);

	g_thread_join(helper);
	cg_zip_batch_unref(batch); /* the helper's */
	if (!ok)
		cg_output_take_write_error(output, error);
	return ok;
}

/* A batch of 7 rendered by two threads: 7 one-page PDFs named by their
 * numbers in order, each with its recipient's name, and manifest.csv with
 * every number, name (quoted, formulas neutralised) and SHA-256. */
static void
test_zip_batch(Fixture *f, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CgData) data = batch_data(f, 7);
	g_autoptr(CgOutput) output = cg_output_new(f->dir, "batch.zip", &error);
	g_autoptr(GMappedFile) file = NULL;
	g_autoptr(GBytes) zip = NULL;
	g_autoptr(GPtrArray) members = NULL;
	g_autoptr(CgManifest) expected = cg_manifest_new();
	CgTestProgress progress = {0};
	const Member *manifest;
	gsize size;

	g_assert_no_error(error);
	g_assert_true(run_batch(f, data, output, &progress, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(progress.calls, ==, 7);
	g_assert_true(
	    cg_output_commit_verified(output, cg_zip_verify, GUINT_TO_POINTER(8), &error));
	g_assert_no_error(error);

	file = g_mapped_file_new(cg_output_get_path(output), FALSE, &error);
	g_assert_no_error(error);
	zip = g_mapped_file_get_bytes(file);
	g_assert_cmpuint(g_bytes_get_size(zip), ==, cg_output_get_size(output));
	members = read_members(zip);
	g_assert_cmpuint(members->len, ==, 8);
	for (guint i = 0; i < 7; i++) {
		const Member *member = members->pdata[i];
		g_autofree char *number = g_strdup_printf("CERT2026%06u", 101 + i);
		g_autofree char *name = g_strconcat(number, ".pdf", NULL);
		g_autofree char *text = pdf_text(member->data);
		g_autofree char *sha =
		    g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, member->data);

		g_assert_cmpstr(member->name, ==, name);
		g_assert_nonnull(strstr(text, names[i]));
		g_assert_nonnull(strstr(text, number));
		cg_manifest_add(expected, number, names[i], sha);
	}
	manifest = members->pdata[7];
	g_assert_cmpstr(manifest->name, ==, "manifest.csv");
	g_assert_cmpmem(g_bytes_get_data(manifest->data, &size), size,
			cg_manifest_get_data(expected, NULL),
			strlen(cg_manifest_get_data(expected, NULL)));
	g_assert_nonnull(strstr(cg_manifest_get_data(expected, NULL),
				",\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\","));
	/* only the final file */
	g_assert_cmpuint(count_dir(f->dir), ==, 1);
}

/* The same batch gives the same ZIP, whichever thread rendered a page. */
static void
test_zip_batch_reproducible(Fixture *f, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CgData) data = batch_data(f, 5);
	g_autofree char *first = NULL;
	g_autofree char *second = NULL;

	for (guint run = 0; run < 2; run++) {
		g_autofree char *name = g_strdup_printf("run%u.zip", run);
		g_autoptr(CgOutput) output = cg_output_new(f->dir, name, &error);
		CgTestProgress progress = {0};

		g_assert_true(run_batch(f, data, output, &progress, NULL, &error));
		g_assert_true(
		    cg_output_commit_verified(output, cg_zip_verify, GUINT_TO_POINTER(6), &error));
		g_assert_no_error(error);
		*(run == 0 ? &first : &second) = g_strdup(cg_output_get_checksum(output));
	}
	g_assert_cmpstr(first, ==, second);
}

/* Cancelled in the middle (by the cancellable, or by the page callback),
 * the batch fails as cancelled and the output leaves no file behind. */
static void
test_zip_batch_cancel(Fixture *f, gconstpointer user_data)
{
	for (guint how = 0; how < 2; how++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(CgData) data = batch_data(f, 40);
		g_autoptr(GCancellable) cancellable = g_cancellable_new();
		CgOutput *output = cg_output_new(f->dir, "cancelled.zip", &error);
		CgTestProgress progress = {.stop_after = 3,
					   .cancellable = how == 0 ? cancellable : NULL};

		g_assert_no_error(error);
		g_assert_false(run_batch(f, data, output, &progress, cancellable, &error));
		g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
		g_assert_cmpuint(progress.calls, <, 40);
		g_assert_cmpuint(count_dir(f->dir), ==, 1); /* the temporary file */
		cg_output_free(output);
		g_assert_cmpuint(count_dir(f->dir), ==, 0);
	}
}

/* A failed write (the disk is full) fails the batch with the write's error. */
static cairo_status_t
fail_after_first_block(void *closure, const unsigned char *data, unsigned int length)
{
	guint *blocks = closure;

	return (*blocks)++ < 1 ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

static void
test_zip_batch_write_error(Fixture *f, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CgData) data = batch_data(f, 6);
	CgRenderParams params = {.first_number = 1, .issued_at_us = ISSUED_AT_US};
	g_autoptr(CgZipBatch) batch = cg_zip_batch_new(f->tmpl, data, &params, NULL, NULL, NULL);
	GThread *helper = g_thread_new("zip-helper", helper_thread, cg_zip_batch_ref(batch));
	guint blocks = 0;

	g_assert_false(cg_zip_batch_run(batch, fail_after_first_block, &blocks, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
	g_thread_join(helper);
	cg_zip_batch_unref(batch);
}

/* The check before the rename: member count, names, PDF content. */
static void
test_zip_verify(Fixture *f, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) zip = write_two_members(0);
	g_autofree char *path = g_build_filename(f->root, "two.zip", NULL);
	g_autofree char *junk = g_build_filename(f->root, "junk.zip", NULL);

	g_assert_true(g_file_set_contents(path, g_bytes_get_data(zip, NULL),
					  (gssize)g_bytes_get_size(zip), NULL));
	g_assert_true(cg_zip_verify(path, GUINT_TO_POINTER(2), &error));
	g_assert_no_error(error);
	g_assert_false(cg_zip_verify(path, GUINT_TO_POINTER(3), &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
	g_clear_error(&error);
	g_assert_false(cg_zip_verify(path, GUINT_TO_POINTER(1), &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
	g_clear_error(&error);
	g_assert_true(g_file_set_contents(junk, "not a zip at all", -1, NULL));
	g_assert_false(cg_zip_verify(junk, GUINT_TO_POINTER(2), &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
}

static const CgTestCase cases[] = {
    {"/zip/writer", test_zip_writer, NULL},
    {"/zip/member-names", test_zip_member_names, NULL},
    {"/zip/write-error", test_zip_write_error, NULL},
    {"/zip/manifest-quoting", test_manifest_quoting, NULL},
    CG_TEST_FIXTURE_CASE("/zip/batch", test_zip_batch),
    CG_TEST_FIXTURE_CASE("/zip/batch-reproducible", test_zip_batch_reproducible),
    CG_TEST_FIXTURE_CASE("/zip/batch-cancel", test_zip_batch_cancel),
    CG_TEST_FIXTURE_CASE("/zip/batch-write-error", test_zip_batch_write_error),
    CG_TEST_FIXTURE_CASE("/zip/verify", test_zip_verify),
};

CG_TEST_MAIN_WITH_FIXTURE(cases, Fixture, fixture_set_up, fixture_tear_down)
