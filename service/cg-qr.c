/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-qr.h"

#include <errno.h>
#include <math.h>
#include <qrencode.h>
#include <string.h>

#include "cg-error.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(QRcode, QRcode_free)

/*
 * The path. cairo's PDF surface writes every point of a path with printf()
 * and deflates it: on a page with a QR code, most of the time goes to the
 * code's numbers. A subpath through the centres of dark modules costs two
 * numbers per point, so a run that turns into the next one costs two
 * numbers, not the four of a separate line, and the fewer subpaths and
 * turns the better.
 *
 * Greedy, in reading order: a subpath starts at the first module not yet
 * drawn; each segment turns at a right angle from the previous one and goes
 * in the direction with the most modules not yet drawn, as far as the last
 * of them (segments may cross drawn modules: strokes of one colour
 * overlap harmlessly, but never a light module). When no direction brings
 * anything new, the subpath is extended the same way from its start, the
 * other way round. For certgen's verification strings (version 6, 41 x 41
 * modules) this gives about 1,300 numbers where one line per horizontal
 * run needs about 1,730. The choice is deterministic: the same text gives
 * the same path, and the same bytes.
 */

#define CG_QR_DARK 1
#define CG_QR_DRAWN 2

struct _CgQr {
	int width; /* modules per side */
	/* The subpaths one after the other: the number of points, then each
	 * point as x, y in half modules (a module's edges are even, its
	 * centre odd). */
	GArray *path; /* of gint16 */
};

/* right, down, left, up: (d ^ 2) is the opposite of d, (d & 1) its axis */
static const int cg_qr_dirs[4][2] = {{1, 0}, {0, 1}, {-1, 0}, {0, -1}};

/* Extends a subpath from the module @start as far as it brings modules not
 * yet drawn, marking them drawn; the modules where segments end go to
 * @ends. Returns the direction of the first segment, -1 if none. */
static int
cg_qr_extend(guint8 *cells, int width, int start, int *ends, int *n_ends)
{
	int cur = start;
	int first = -1, last = -1;

	for (;;) {
		int best_dir = -1, best_new = 0, best_len = 0;
		int x, y;

		for (int d = 0; d < 4; d++) {
			int n_new = 0, len = 0, new_len = 0;

			/* straight on went as far as it could, back is drawn */
			if (last >= 0 && (d & 1) == (last & 1))
				continue;
			x = cur % width;
			y = cur / width;
			for (;;) {
				guint8 cell;

				x += cg_qr_dirs[d][0];
				y += cg_qr_dirs[d][1];
				if (x < 0 || y < 0 || x >= width || y >= width)
					break;
				cell = cells[y * width + x];
				if (!(cell & CG_QR_DARK))
					break;
				len++;
				if (!(cell & CG_QR_DRAWN)) {
					n_new++;
					new_len = len;
				}
			}
			if (n_new > best_new ||
			    (n_new > 0 && n_new == best_new && new_len < best_len)) {
				best_dir = d;
				best_new = n_new;
				best_len = new_len;
			}
		}
		if (best_dir < 0)
			return first;
		x = cur % width;
		y = cur / width;
		for (int i = 0; i < best_len; i++) {
			x += cg_qr_dirs[best_dir][0];
			y += cg_qr_dirs[best_dir][1];
			cells[y * width + x] |= CG_QR_DRAWN;
		}
		cur = y * width + x;
		ends[(*n_ends)++] = cur;
		if (first < 0)
			first = best_dir;
		last = best_dir;
	}
}

static void
cg_qr_append_point(GArray *path, int x, int y)
{
	gint16 point[2] = {(gint16)x, (gint16)y};

	g_array_append_vals(path, point, 2);
}

static int
cg_qr_sign(int value)
{
	return (value > 0) - (value < 0);
}

/* Appends the subpath through the modules @v[0..@n-1] (in half modules: a
 * butt cap on the outer edge of each end, the turns at the centres). */
static void
cg_qr_append_subpath(GArray *path, int width, const int *v, int n)
{
	gint16 count = (gint16)(n == 1 ? 2 : n);

	g_array_append_val(path, count);
	if (n == 1) {
		/* a module alone: a line across it */
		cg_qr_append_point(path, 2 * (v[0] % width), 2 * (v[0] / width) + 1);
		cg_qr_append_point(path, 2 * (v[0] % width) + 2, 2 * (v[0] / width) + 1);
		return;
	}
	for (int i = 0; i < n; i++) {
		int x = 2 * (v[i] % width) + 1;
		int y = 2 * (v[i] / width) + 1;

		/* the ends move half a module outwards, onto the edge */
		if (i == 0) {
			x -= cg_qr_sign(v[1] % width - v[0] % width);
			y -= cg_qr_sign(v[1] / width - v[0] / width);
		} else if (i == n - 1) {
			x += cg_qr_sign(v[i] % width - v[i - 1] % width);
			y += cg_qr_sign(v[i] / width - v[i - 1] / width);
		}
		cg_qr_append_point(path, x, y);
	}
}

CgQr *
cg_qr_new(const char *text, GError **error)
{
	g_autoptr(QRcode) code = NULL;
	g_autofree guint8 *cells = NULL;
	g_autofree int *forward = NULL;
	g_autofree int *backward = NULL;
	g_autofree int *vertices = NULL;
	CgQr *qr;
	int width, n_cells;

	g_return_val_if_fail(text != NULL, NULL);

	/* Version 0: the smallest that holds the text; case-sensitive. */
	code = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (code == NULL) {
		int saved_errno = errno;

		g_set_error(error, CG_ERROR, CG_ERROR_FAILED,
			    "Cannot encode a QR code of %zu bytes: %s", strlen(text),
			    g_strerror(saved_errno));
		return NULL;
	}
	width = code->width;
	n_cells = width * width;

	cells = g_new(guint8, n_cells);
	/* Bit 0 of each byte is the module's colour (1 = dark). */
	for (int i = 0; i < n_cells; i++)
		cells[i] = code->data[i] & CG_QR_DARK;
	/* every segment draws at least one module */
	forward = g_new(int, n_cells);
	backward = g_new(int, n_cells);
	vertices = g_new(int, n_cells + 1);

	qr = g_new0(CgQr, 1);
	qr->width = width;
	qr->path = g_array_sized_new(FALSE, FALSE, sizeof(gint16), 2048);
	for (int start = 0; start < n_cells; start++) {
		int n_forward = 0, n_backward = 0, n = 0;
		int forward_dir, backward_dir;

		if (cells[start] != CG_QR_DARK)
			continue;
		cells[start] |= CG_QR_DRAWN;
		forward_dir = cg_qr_extend(cells, width, start, forward, &n_forward);
		backward_dir = cg_qr_extend(cells, width, start, backward, &n_backward);

		for (int i = n_backward - 1; i >= 0; i--)
			vertices[n++] = backward[i];
		/* straight through the start, or a turn there */
		if (n_backward == 0 || backward_dir != (forward_dir ^ 2))
			vertices[n++] = start;
		for (int i = 0; i < n_forward; i++)
			vertices[n++] = forward[i];
		cg_qr_append_subpath(qr->path, width, vertices, n);
	}
	return qr;
}

void
cg_qr_free(CgQr *qr)
{
	if (qr == NULL)
		return;
	g_array_unref(qr->path);
	g_free(qr);
}

void
cg_qr_draw_code(cairo_t *cr, const CgQr *qr, double x, double y, double size, guint quiet_zone,
		const double color[3], const double background[3])
{
	const gint16 *p, *end;
	cairo_rectangle_t extents = {0, 0, 0, 0};
	cairo_surface_t *code;
	cairo_t *code_cr;
	double module, x0, y0;
	int width;

	g_return_if_fail(cr != NULL);
	g_return_if_fail(qr != NULL);

	p = (const gint16 *)(gpointer)qr->path->data;
	end = p + qr->path->len;
	width = qr->width;
	extents.width = extents.height = 2.0 * width;

	/* The module size and origin are multiples of 1/256 pt, cairo's fixed
	 * point. */
	module = floor(size / (width + 2.0 * quiet_zone) * 256) / 256;
	x0 = floor((x + (size - module * width) / 2) * 256) / 256;
	y0 = floor((y + (size - module * width) / 2) * 256) / 256;

	cairo_save(cr);
	cairo_set_source_rgb(cr, background[0], background[1], background[2]);
	cairo_rectangle(cr, x, y, size, size);
	cairo_fill(cr);

	/* The path goes into a recording surface of its own in half modules
	 * (cairo writes it as a form XObject whose /Matrix places and scales
	 * it): every coordinate is a small integer, about a third of the
	 * characters of page coordinates, so a third of the printing and the
	 * deflating of what is most of a page. */
	code = cairo_recording_surface_create(CAIRO_CONTENT_COLOR_ALPHA, &extents);
	code_cr = cairo_create(code);
	cairo_set_line_width(code_cr, 2.0);
	cairo_set_line_cap(code_cr, CAIRO_LINE_CAP_BUTT);
	/* a right-angled mitre fills the corner module (limit: sqrt(2)) */
	cairo_set_line_join(code_cr, CAIRO_LINE_JOIN_MITER);
	cairo_set_miter_limit(code_cr, 10.0);
	while (p < end) {
		int n = *p++;

		cairo_move_to(code_cr, p[0], p[1]);
		for (int i = 1; i < n; i++)
			cairo_line_to(code_cr, p[2 * i], p[2 * i + 1]);
		p += 2 * n;
	}
	cairo_set_source_rgb(code_cr, color[0], color[1], color[2]);
	cairo_stroke(code_cr);
	cairo_destroy(code_cr);

	cairo_translate(cr, x0, y0);
	cairo_scale(cr, module / 2, module / 2);
	/* an error of the recording reaches @cr through the source */
	cairo_set_source_surface(cr, code, 0, 0);
	cairo_paint(cr);
	cairo_surface_destroy(code);
	cairo_restore(cr);
}
