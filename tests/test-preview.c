/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Previews (cg-preview.c): a PNG of one page at CG_PREVIEW_DPI, the page
 * the data's recipient N makes, marked as a preview, in a sealed memfd. */
#define _GNU_SOURCE /* the file seals */
#include "config.h"

#include <cairo.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "cg-data.h"
#include "cg-error.h"
#include "cg-preview.h"
#include "cg-template.h"
#include "cg-test-util.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(cairo_surface_t, cairo_surface_destroy)

#define TWO_RECIPIENTS                                                                             \
	"{\"recipients\": [{\"recipientName\": \"Ada Lovelace\"}, {\"recipientName\": "            \
	"\"Grace Hopper\"}], \"courseName\": \"Engines\", \"issueDate\": \"2024-05-17\"}"

static CgTemplateStore *store;

/* Template @id, and @json parsed for it. */
static CgData *
template_data(const char *id, const char *json, CgTemplate **tmpl)
{
	g_autoptr(GError) error = NULL;
	CgData *data;

	*tmpl = cg_template_store_load(store, id, NULL, &error);
	g_assert_no_error(error);
	data = cg_data_parse(json, strlen(json), cg_template_get_rules(*tmpl), 1 << 24, 1000, NULL,
			     &error);
	g_assert_no_error(error);
	return data;
}

/* Everything in @fd from its current position. */
static GBytes *
read_fd(int fd)
{
	GByteArray *bytes = g_byte_array_new();
	guint8 buf[65536];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		g_byte_array_append(bytes, buf, (guint)n);
	g_assert_cmpint(n, ==, 0);
	return g_byte_array_free_to_bytes(bytes);
}

typedef struct {
	const guint8 *data;
	gsize left;
} PngReader;

static cairo_status_t
png_read(void *closure, unsigned char *data, unsigned int length)
{
	PngReader *reader = closure;

	if (length > reader->left)
		return CAIRO_STATUS_READ_ERROR;
	memcpy(data, reader->data, length);
	reader->data += length;
	reader->left -= length;
	return CAIRO_STATUS_SUCCESS;
}

/* Page @page of @json on template @id, as PNG bytes; checks the fd. */
static GBytes *
preview(const char *id, const char *json, guint page)
{
	g_autoptr(CgTemplate) tmpl = NULL;
	g_autoptr(CgData) data = template_data(id, json, &tmpl);
	g_autoptr(GError) error = NULL;
	GBytes *png;
	int fd = cg_preview_render(tmpl, data, page, &error);

	g_assert_no_error(error);
	g_assert_cmpint(fd, >=, 0);
	/* close-on-exec, sealed: what the receiver reads cannot change */
	g_assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	g_assert_cmpint(fcntl(fd, F_GET_SEALS) & (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW), ==,
			F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW);
	g_assert_cmpint(write(fd, "x", 1), ==, -1);
	png = read_fd(fd);
	close(fd);
	return png;
}

static cairo_surface_t *
decode(GBytes *png)
{
	PngReader reader = {g_bytes_get_data(png, NULL), g_bytes_get_size(png)};
	cairo_surface_t *surface = cairo_image_surface_create_from_png_stream(png_read, &reader);

	g_assert_cmpint(cairo_surface_status(surface), ==, CAIRO_STATUS_SUCCESS);
	return surface;
}

/* Pixels whose red stands out (the watermark), and pixels unlike the
 * first one (anything drawn). */
static void
count_pixels(cairo_surface_t *surface, guint *reddish, guint *drawn)
{
	const guint8 *bytes = cairo_image_surface_get_data(surface);
	int stride = cairo_image_surface_get_stride(surface);
	guint32 first = *(const guint32 *)bytes;

	*reddish = *drawn = 0;
	for (int y = 0; y < cairo_image_surface_get_height(surface); y++) {
		const guint32 *row = (const guint32 *)(bytes + (gsize)y * (gsize)stride);

		for (int x = 0; x < cairo_image_surface_get_width(surface); x++) {
			guint r = (row[x] >> 16) & 0xff, g = (row[x] >> 8) & 0xff,
			      b = row[x] & 0xff;

			if ((row[x] & 0xffffff) != (first & 0xffffff))
				(*drawn)++;
			if (r > g + 60 && r > b + 60)
				(*reddish)++;
		}
	}
}

static void
test_preview_png(void)
{
	g_autoptr(GBytes) png = preview("classic", TWO_RECIPIENTS, 1);
	g_autoptr(cairo_surface_t) surface = decode(png);
	g_autoptr(CgTemplate) tmpl = NULL;
	g_autoptr(CgData) data = template_data("classic", TWO_RECIPIENTS, &tmpl);
	double width_pt, height_pt;
	int width_px, height_px;
	guint reddish, drawn;
	const char *out = g_getenv("CG_TEST_PREVIEW_OUT");

	g_assert_cmpuint(g_bytes_get_size(png), >, 8);
	g_assert_cmpmem(g_bytes_get_data(png, NULL), 8, "\x89PNG\r\n\x1a\n", 8);
	/* the page size at 96 dpi */
	cg_template_get_page_size(tmpl, &width_pt, &height_pt);
	cg_preview_get_size(width_pt, height_pt, &width_px, &height_px);
	g_assert_cmpint(width_px, ==, (int)(width_pt * 96 / 72 + 0.999));
	g_assert_cmpint(cairo_image_surface_get_width(surface), ==, width_px);
	g_assert_cmpint(cairo_image_surface_get_height(surface), ==, height_px);
	count_pixels(surface, &reddish, &drawn);
	/* not a blank page, and the watermark is there */
	g_assert_cmpuint(drawn, >, (guint)(width_px * height_px / 100));
	g_assert_cmpuint(reddish, >, (guint)(width_px * height_px / 200));
	if (out != NULL)
		g_assert_true(g_file_set_contents(out, g_bytes_get_data(png, NULL),
						  (gssize)g_bytes_get_size(png), NULL));
}

/* Page N is recipient N: the two pages differ, the same page twice does not. */
static void
test_preview_pages(void)
{
	g_autoptr(GBytes) first = preview("classic", TWO_RECIPIENTS, 1);
	g_autoptr(GBytes) again = preview("classic", TWO_RECIPIENTS, 1);
	g_autoptr(GBytes) second = preview("classic", TWO_RECIPIENTS, 2);
	g_autoptr(GBytes) modern = preview("modern", TWO_RECIPIENTS, 2);

	g_assert_true(g_bytes_equal(first, again));
	g_assert_false(g_bytes_equal(first, second));
	g_assert_false(g_bytes_equal(second, modern));
}

static void
test_preview_page_out_of_range(void)
{
	g_autoptr(CgTemplate) tmpl = NULL;
	g_autoptr(CgData) data = template_data("classic", TWO_RECIPIENTS, &tmpl);
	const guint pages[] = {0, 3, G_MAXUINT};

	for (gsize i = 0; i < G_N_ELEMENTS(pages); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *expected = g_strdup_printf("page: %u is out of range", pages[i]);

		g_assert_cmpint(cg_preview_render(tmpl, data, pages[i], &error), ==, -1);
		g_assert_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT);
		g_assert_nonnull(strstr(error->message, expected));
		g_assert_nonnull(strstr(error->message, "2 pages"));
	}
}

static const CgTestCase cases[] = {
    {"/preview/png", test_preview_png},
    {"/preview/pages", test_preview_pages},
    {"/preview/page-out-of-range", test_preview_page_out_of_range},
};

int
main(int argc, char **argv)
{
	g_autofree char *templates = cg_test_shipped_templates_dir();
	const char *dirs[] = {templates, NULL};
	int ret;

	store = cg_template_store_new(dirs);
	ret = cg_test_run(&argc, &argv, cases, G_N_ELEMENTS(cases), NULL);
	cg_template_store_free(store);
	return ret;
}
