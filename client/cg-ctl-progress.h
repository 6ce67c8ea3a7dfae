/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * certgenctl: showing updates — one line redrawn in place on a terminal
 * (stage, bar sized to the terminal, percentage, pages, ETA), one plain line
 * per update otherwise, or one JSON object per update with --json — and the
 * final result.
 */
#pragma once

#include "cg-ctl-bus.h"

typedef enum CgOutputMode {
	CG_OUTPUT_TERMINAL,
	CG_OUTPUT_PLAIN,
	CG_OUTPUT_JSON,
} CgOutputMode;

typedef struct CgProgress {
	CgOutputMode mode;
	bool colors;
	bool unicode;
	bool line_drawn; /* a bar is on the terminal, no newline after it yet */
} CgProgress;

/* Picks the mode (JSON when asked; terminal when stdout is a tty) and
 * whether to use colours (not with NO_COLOR or TERM=dumb). Installs a log
 * hook that erases a drawn bar before anything goes to stderr. */
void cg_progress_init(CgProgress *p, bool json);
void cg_progress_done(CgProgress *p);

void cg_progress_show(CgProgress *p, const CgUpdate *u);
/* Erases the bar (terminal mode), e.g. before printing a message. */
void cg_progress_clear(CgProgress *p);
/* Ends the drawn line with a newline, so it stays on the screen. */
void cg_progress_end(CgProgress *p);

/* The final report: a summary on stdout (completed) or a sentence on stderr
 * (failed, cancelled, timed out); with --json a final object on stdout
 * {progress_id, transaction_id, status, result | error, error_message,
 * output}. */
void cg_progress_show_result(CgProgress *p, const CgUpdate *u, const char *output_path);

/* Exit status for a terminal update's status. */
int cg_status_to_exit(const char *status);

/* Terminal width: TIOCGWINSZ on stdout, else $COLUMNS, else 80. */
unsigned cg_terminal_columns(void);

/* Writes a JSON line (text + '\n') to stdout and flushes. */
int cg_print_json_line(const char *text);
