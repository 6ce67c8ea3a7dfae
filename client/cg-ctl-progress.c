/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-ctl-progress.h"

#include <langinfo.h>
#include <sys/ioctl.h>

#define ANSI_BOLD "\x1b[1m"
#define ANSI_GREEN "\x1b[32m"
#define ANSI_RED "\x1b[31m"
#define ANSI_YELLOW "\x1b[33m"
#define ANSI_GREY "\x1b[2m"
#define ANSI_RESET "\x1b[0m"
#define ANSI_ERASE_LINE "\x1b[K"

#define LABEL_WIDTH 16 /* "template_loading", "file_preparation" */
#define N_STAGES 7

static CgProgress *active_progress = NULL;
static bool stderr_is_tty = false;

static void
log_prepare(void)
{
	/* Only when the message lands on the terminal the bar is drawn on. */
	if (active_progress != NULL && stderr_is_tty)
		cg_progress_clear(active_progress);
}

void
cg_progress_init(CgProgress *p, bool json)
{
	const char *term = getenv("TERM");
	const char *codeset;

	*p = (CgProgress){0};
	if (json)
		p->mode = CG_OUTPUT_JSON;
	else if (isatty(STDOUT_FILENO))
		p->mode = CG_OUTPUT_TERMINAL;
	else
		p->mode = CG_OUTPUT_PLAIN;

	/* https://no-color.org/: any non-empty value turns colours off. */
	p->colors = p->mode == CG_OUTPUT_TERMINAL && isempty(getenv("NO_COLOR")) &&
		    !streq_ptr(term, "dumb");
	codeset = nl_langinfo(CODESET);
	p->unicode = p->mode == CG_OUTPUT_TERMINAL && codeset != NULL && streq(codeset, "UTF-8") &&
		     !streq_ptr(term, "dumb") && !streq_ptr(term, "linux");

	stderr_is_tty = isatty(STDERR_FILENO);
	active_progress = p;
	cg_log_prepare = log_prepare;
}

void
cg_progress_done(CgProgress *p)
{
	cg_progress_end(p);
	if (active_progress == p) {
		active_progress = NULL;
		cg_log_prepare = NULL;
	}
}

unsigned
cg_terminal_columns(void)
{
	struct winsize ws = {0};
	const char *e;
	uint64_t v;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) >= 0 && ws.ws_col > 0)
		return ws.ws_col;
	e = getenv("COLUMNS");
	if (e != NULL && cg_parse_uint64(e, &v) >= 0 && v > 0 && v < 10000)
		return (unsigned)v;
	return 80;
}

int
cg_print_json_line(const char *text)
{
	if (fputs(text, stdout) == EOF || fputc('\n', stdout) == EOF || fflush(stdout) == EOF)
		return -errno;
	return 0;
}

static void
format_eta(char *buf, size_t size, const CgUpdate *u)
{
	char span[32];
	int64_t left;

	buf[0] = '\0';
	if (u->expected_end_us <= 0 || !streq_ptr(u->status, "in_progress"))
		return;
	left = u->expected_end_us - cg_now_realtime_us();
	/* Whole seconds, rounded up, so the unit does not flip between ms and s
	 * as the end nears: "ETA 1s" down to the end. */
	left = left > 0 ? (left + 999999) / 1000000 * 1000000 : 1000000;
	cg_format_timespan(span, sizeof(span), (uint64_t)left);
	snprintf(buf, size, "ETA %s", span);
}

static const char *
status_color(const CgUpdate *u)
{
	if (streq_ptr(u->status, "failed"))
		return ANSI_RED;
	if (streq_ptr(u->status, "cancelled") || streq_ptr(u->status, "timed_out"))
		return ANSI_YELLOW;
	return ANSI_GREEN;
}

static void
draw_bar(CgProgress *p, const CgUpdate *u, unsigned width)
{
	static const char *const eighths[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
	double fraction = u->progress / 100.0;
	unsigned filled, i, partial = 0;

	if (fraction < 0.0 || fraction != fraction)
		fraction = 0.0;
	if (fraction > 1.0)
		fraction = 1.0;

	fputc('[', stdout);
	if (p->colors)
		fputs(status_color(u), stdout);
	if (p->unicode) {
		unsigned total8 = (unsigned)(fraction * width * 8.0);

		filled = total8 / 8;
		partial = total8 % 8;
		for (i = 0; i < filled; i++)
			fputs("█", stdout);
		if (filled < width && partial > 0) {
			fputs(eighths[partial], stdout);
			filled++;
		}
	} else {
		filled = (unsigned)(fraction * width);
		for (i = 0; i < filled; i++)
			fputc('#', stdout);
	}
	if (p->colors)
		fputs(ANSI_RESET ANSI_GREY, stdout);
	for (i = filled; i < width; i++)
		fputs(p->unicode ? "░" : "-", stdout);
	if (p->colors)
		fputs(ANSI_RESET, stdout);
	fputc(']', stdout);
}

/* The narrowest bar worth drawing; below it the tail gives way. */
#define MIN_BAR_WIDTH 10
/* Columns left free at the end of the line: the last one (some terminals
 * wrap there) and two for the "^C" a terminal echoes on Ctrl-C, which
 * would otherwise wrap and leave a stray "^" behind. */
#define RIGHT_MARGIN 3

static void
show_terminal(CgProgress *p, const CgUpdate *u)
{
	char label[LABEL_WIDTH + 1], percent[16], pages[48] = "", eta[48], total[16];
	char tail[96];
	unsigned columns = cg_terminal_columns();
	size_t fixed, width, reserve_pages = 0, reserve_eta = strlen("  ETA 59m59s");

	/* While running the stage, at the end the outcome. */
	snprintf(label, sizeof(label), "%s",
		 strna(cg_update_is_terminal(u) ? u->status : u->stage));
	snprintf(percent, sizeof(percent), "%5.1f%%", u->progress);
	format_eta(eta, sizeof(eta), u);
	if (u->pages_total > 0) {
		snprintf(pages, sizeof(pages), "  %u/%u page%s", u->pages_done, u->pages_total,
			 u->pages_total == 1 ? "" : "s");
		/* Room for the longest "  N/N pages" of this generation, so the
		 * bar keeps its size while the numbers change. */
		snprintf(total, sizeof(total), "%u", u->pages_total);
		reserve_pages = 2 + 2 * strlen(total) + 1 + 6;
	}

	width = columns > RIGHT_MARGIN ? columns - RIGHT_MARGIN : 1;
	fixed = LABEL_WIDTH + 1 /* space */ + 2 /* [] */ + 1 /* space */ + strlen(percent);
	/* On a narrow terminal the bar stays: the ETA goes first, then the
	 * pages. */
	if (width < fixed + reserve_pages + reserve_eta + MIN_BAR_WIDTH) {
		reserve_eta = 0;
		eta[0] = '\0';
	}
	if (width < fixed + reserve_pages + MIN_BAR_WIDTH) {
		reserve_pages = 0;
		pages[0] = '\0';
	}
	snprintf(tail, sizeof(tail), "%s%s%s", pages, eta[0] != '\0' ? "  " : "", eta);
	if (strlen(tail) < reserve_pages + reserve_eta)
		snprintf(tail + strlen(tail), sizeof(tail) - strlen(tail), "%*s",
			 (int)(reserve_pages + reserve_eta - strlen(tail)), "");
	fixed += strlen(tail);

	fputc('\r', stdout);
	if (p->colors)
		fputs(ANSI_BOLD, stdout);
	fprintf(stdout, "%-*s", LABEL_WIDTH, label);
	if (p->colors)
		fputs(ANSI_RESET, stdout);
	if (width >= fixed + 5) {
		fputc(' ', stdout);
		draw_bar(p, u, (unsigned)(width - fixed));
		fprintf(stdout, " %s%s", percent, tail);
	} else if (width >= LABEL_WIDTH + 1 + strlen(percent)) {
		/* Too narrow for a bar: the percentage. */
		fprintf(stdout, " %s", percent);
	}
	fputs(ANSI_ERASE_LINE, stdout);
	fflush(stdout);
	p->line_drawn = true;
}

static void
show_plain(const CgUpdate *u)
{
	char eta[48], pages[64] = "";

	format_eta(eta, sizeof(eta), u);
	if (u->pages_total > 0 && !cg_update_is_terminal(u))
		snprintf(pages, sizeof(pages), "%u/%u page%s", u->pages_done, u->pages_total,
			 u->pages_total == 1 ? "" : "s");

	if (cg_update_is_terminal(u))
		fprintf(stdout, "[%5.1f%%] %s", u->progress, strna(u->status));
	else
		fprintf(stdout, "[%5.1f%%] %s %u/%u", u->progress, strna(u->stage),
			u->stage_index + 1, N_STAGES);
	if (!isempty(u->text))
		fprintf(stdout, ": %s", u->text);
	if (pages[0] != '\0' || eta[0] != '\0')
		fprintf(stdout, " (%s%s%s)", pages, pages[0] != '\0' && eta[0] != '\0' ? ", " : "",
			eta);
	fputc('\n', stdout);
	fflush(stdout);
}

void
cg_progress_show(CgProgress *p, const CgUpdate *u)
{
	switch (p->mode) {
	case CG_OUTPUT_TERMINAL:
		show_terminal(p, u);
		break;
	case CG_OUTPUT_PLAIN:
		show_plain(u);
		break;
	case CG_OUTPUT_JSON:
		if (u->json != NULL)
			(void)cg_print_json_line(u->json);
		break;
	}
}

void
cg_progress_clear(CgProgress *p)
{
	if (p->mode != CG_OUTPUT_TERMINAL || !p->line_drawn)
		return;
	fputs("\r" ANSI_ERASE_LINE, stdout);
	fflush(stdout);
	p->line_drawn = false;
}

void
cg_progress_end(CgProgress *p)
{
	if (p->mode != CG_OUTPUT_TERMINAL || !p->line_drawn)
		return;
	fputc('\n', stdout);
	fflush(stdout);
	p->line_drawn = false;
}

int
cg_status_to_exit(const char *status)
{
	if (streq_ptr(status, "completed"))
		return CG_EXIT_SUCCESS;
	if (streq_ptr(status, "cancelled"))
		return CG_EXIT_CANCELLED;
	if (streq_ptr(status, "timed_out"))
		return CG_EXIT_TIMED_OUT;
	return CG_EXIT_FAILED;
}

static void
show_result_json(const CgUpdate *u, const char *output_path)
{
	_cleanup_(cg_ctl_json_done) CgCtlJson j = {0};
	_cleanup_free_ char *text = NULL;

	if (cg_ctl_json_open(&j) < 0) {
		cg_log_oom();
		return;
	}
	cg_ctl_json_begin_object(&j);
	cg_ctl_json_key(&j, "progress_id");
	cg_ctl_json_string(&j, u->progress_id);
	cg_ctl_json_key(&j, "transaction_id");
	cg_ctl_json_string(&j, u->transaction_id);
	cg_ctl_json_key(&j, "status");
	cg_ctl_json_string(&j, u->status);
	cg_ctl_json_key(&j, "pages_total");
	cg_ctl_json_unsigned(&j, u->pages_total);
	if (u->output_format != NULL) {
		cg_ctl_json_key(&j, "output_format");
		cg_ctl_json_string(&j, u->output_format);
	}
	if (u->has_result) {
		cg_ctl_json_key(&j, "result");
		cg_ctl_json_begin_object(&j);
		cg_ctl_json_key(&j, "certificate_number");
		cg_ctl_json_string(&j, u->result.certificate_number);
		if (u->result.last_certificate_number != NULL) {
			cg_ctl_json_key(&j, "last_certificate_number");
			cg_ctl_json_string(&j, u->result.last_certificate_number);
		}
		cg_ctl_json_key(&j, "file_size");
		cg_ctl_json_unsigned(&j, u->result.file_size);
		cg_ctl_json_key(&j, "checksum");
		cg_ctl_json_string(&j, u->result.checksum);
		cg_ctl_json_key(&j, "pages");
		cg_ctl_json_unsigned(&j, u->result.pages);
		if (u->result.verification_url != NULL) {
			cg_ctl_json_key(&j, "verification_url");
			cg_ctl_json_string(&j, u->result.verification_url);
		}
		if (u->result.content_type != NULL) {
			cg_ctl_json_key(&j, "content_type");
			cg_ctl_json_string(&j, u->result.content_type);
		}
		cg_ctl_json_end_object(&j);
	}
	if (u->error != NULL) {
		cg_ctl_json_key(&j, "error");
		cg_ctl_json_string(&j, u->error);
		cg_ctl_json_key(&j, "error_message");
		cg_ctl_json_string(&j, u->error_message);
	}
	if (u->n_errors > 0) {
		cg_ctl_json_key(&j, "errors");
		cg_ctl_json_open_container(&j, '[');
		for (size_t i = 0; i < u->n_errors; i++) {
			cg_ctl_json_begin_object(&j);
			cg_ctl_json_key(&j, "path");
			cg_ctl_json_string(&j, u->errors[i].path);
			cg_ctl_json_key(&j, "message");
			cg_ctl_json_string(&j, u->errors[i].message);
			cg_ctl_json_end_object(&j);
		}
		cg_ctl_json_close_container(&j, ']');
	}
	if (output_path != NULL) {
		cg_ctl_json_key(&j, "output");
		cg_ctl_json_string(&j, output_path);
	}
	cg_ctl_json_key(&j, "persistent");
	cg_ctl_json_boolean(&j, u->persistent);
	cg_ctl_json_key(&j, "expires_at_us");
	cg_ctl_json_signed(&j, u->expires_at_us);
	cg_ctl_json_end_object(&j);
	if (cg_ctl_json_finish(&j, &text) < 0) {
		cg_log_oom();
		return;
	}
	(void)cg_print_json_line(text);
}

/* @text and a newline; on a terminal wrapped between words to its width
 * (a word longer than a line stands alone on its own). */
static void
print_wrapped(const CgProgress *p, const char *text)
{
	size_t width = cg_terminal_columns() > 1 ? cg_terminal_columns() - 1 : 1;
	size_t column = 0;

	if (p->mode != CG_OUTPUT_TERMINAL) {
		printf("%s\n", text);
		return;
	}
	while (*text != '\0') {
		size_t len = strcspn(text, " ");

		if (column > 0 && column + 1 + len > width) {
			fputc('\n', stdout);
			column = 0;
		} else if (column > 0) {
			fputc(' ', stdout);
			column++;
		}
		fwrite(text, 1, len, stdout);
		column += len;
		text += len;
		text += strspn(text, " ");
	}
	fputc('\n', stdout);
}

/* Where the result is and until when certgend keeps it. */
static void
show_lifetime(const CgProgress *p, const CgUpdate *u)
{
	_cleanup_free_ char *text = NULL;
	char when[64];
	int r;

	if (u->persistent)
		r = asprintf(&text,
			     "certgend keeps the PDF until you clean it up: certgenctl fetch %s "
			     "--output FILE.",
			     strna(u->progress_id));
	else if (u->expires_at_us > 0) {
		cg_format_timestamp(when, sizeof(when), u->expires_at_us);
		r = asprintf(&text,
			     "certgend keeps the PDF until %s: certgenctl fetch %s --output FILE "
			     "(generate --persist keeps it longer).",
			     when, strna(u->progress_id));
	} else
		return;
	if (r < 0) {
		cg_log_oom();
		return;
	}
	print_wrapped(p, text);
}

void
cg_progress_show_result(CgProgress *p, const CgUpdate *u, const char *output_path)
{
	_cleanup_free_ char *sentence = NULL, *summary = NULL;
	const char *kind;
	char size[32];
	int r;

	cg_progress_end(p);
	if (p->mode == CG_OUTPUT_JSON)
		show_result_json(u, output_path);

	if (streq_ptr(u->status, "completed") && !u->has_result) {
		/* validate_only (--dry-run): nothing was made */
		if (p->mode == CG_OUTPUT_JSON)
			return;
		printf("Generation %s: valid: %u page%s for template %s; nothing generated "
		       "(dry run).\n",
		       strna(u->progress_id), u->pages_total, u->pages_total == 1 ? "" : "s",
		       strna(u->template_id));
		fflush(stdout);
		return;
	}
	if (streq_ptr(u->status, "completed")) {
		if (p->mode == CG_OUTPUT_JSON)
			return;
		cg_format_bytes(size, sizeof(size), u->result.file_size);
		/* a ZIP says so: "(3 pages, ZIP, 120.0 KiB, ...)" */
		kind = streq_ptr(u->output_format, "zip") ? "ZIP, " : "";
		if (u->result.pages > 1 && u->result.last_certificate_number != NULL)
			r = asprintf(
			    &summary,
			    "Generation %s completed: certificates %s to %s (%u pages, %s%s, "
			    "sha256 %s).",
			    strna(u->progress_id), strna(u->result.certificate_number),
			    u->result.last_certificate_number, u->result.pages, kind, size,
			    strna(u->result.checksum));
		else
			r = asprintf(
			    &summary,
			    "Generation %s completed: certificate %s (%u page, %s%s, sha256 "
			    "%s).",
			    strna(u->progress_id), strna(u->result.certificate_number),
			    u->result.pages, kind, size, strna(u->result.checksum));
		if (r < 0) {
			summary = NULL;
			cg_log_oom();
			return;
		}
		print_wrapped(p, summary);
		if (output_path != NULL)
			printf("Saved to %s.\n", output_path);
		show_lifetime(p, u);
		fflush(stdout);
		return;
	}

	if (u->error != NULL || u->error_message != NULL) {
		sentence = cg_bus_error_sentence(u->error, u->error_message);
		if (sentence == NULL) {
			cg_log_oom();
			return;
		}
	}
	if (streq_ptr(u->status, "cancelled"))
		cg_log_error("Generation %s was cancelled.", strna(u->progress_id));
	else if (streq_ptr(u->status, "timed_out"))
		cg_log_error("Generation %s timed out%s%s.", strna(u->progress_id),
			     sentence ? ": " : "", sentence ? sentence : "");
	else
		cg_log_error("Generation %s %s: %s", strna(u->progress_id),
			     streq_ptr(u->status, "failed") ? "failed" : strna(u->status),
			     sentence ? sentence : strna(u->text));
	/* every problem, one a line (the message names only the first 20) */
	for (size_t i = 0; i < u->n_errors; i++)
		cg_log_error("  %s: %s", strna(u->errors[i].path), strna(u->errors[i].message));
}
