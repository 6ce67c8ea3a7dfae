/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * A list of problems found in one piece of input (data validation): each
 * one a path ("recipients[3].issueDate") and a message ("not a real
 * date: ..."), both text the caller has already made safe to print.
 *
 * At most CG_PROBLEMS_MAX are kept: collection stops there, and the
 * counts below are of what was collected (a list that stopped at 100
 * says "… and 80 more", not how many more a full check would have found).
 */

#define CG_PROBLEMS_MAX 100
/* How many the joined message names before "… and N more". */
#define CG_PROBLEMS_IN_MESSAGE 20

typedef struct _CgProblems CgProblems;

CgProblems *cg_problems_new(void);
void cg_problems_free(CgProblems *problems);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgProblems, cg_problems_free)

/* Adds one problem; FALSE (and nothing added) once the list is full. */
gboolean cg_problems_add(CgProblems *problems, const char *path, const char *message);
/* Appends @other's problems to @problems, as many as fit. */
void cg_problems_append(CgProblems *problems, const CgProblems *other);

guint cg_problems_get_count(const CgProblems *problems);
gboolean cg_problems_is_full(const CgProblems *problems);
const char *cg_problems_get_path(const CgProblems *problems, guint index);
const char *cg_problems_get_message(const CgProblems *problems, guint index);

/* "path: message; path: message; … and 12 more": the first
 * CG_PROBLEMS_IN_MESSAGE, then how many more were collected. One problem
 * is just "path: message". Empty string for no problem. */
char *cg_problems_to_message(const CgProblems *problems);

/* aa{sv} of {"path": s, "message": s}, in order; floating. */
GVariant *cg_problems_to_variant(const CgProblems *problems);

G_END_DECLS
