/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-http-resume.h"

#include <libsoup/soup.h>

#define CG_HTTP_RESUME_MAX_DIGITS 20 /* G_MAXUINT64 */

gboolean
cg_http_resume_parse_id(const char *text, guint64 *out)
{
	guint64 value = 0;

	if (text == NULL)
		return FALSE;
	while (*text == ' ')
		text++;
	if (*text == '\0' || strlen(text) > CG_HTTP_RESUME_MAX_DIGITS)
		return FALSE;
	for (const char *p = text; *p != '\0'; p++) {
		if (!g_ascii_isdigit(*p))
			return FALSE;
	}
	if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT64, &value, NULL))
		return FALSE;
	*out = value;
	return TRUE;
}

gboolean
cg_http_resume_parse_query(const char *query, guint64 *out)
{
	g_autoptr(GHashTable) params = NULL;

	if (query == NULL)
		return FALSE;
	params = soup_form_decode(query);
	return cg_http_resume_parse_id(g_hash_table_lookup(params, "lastEventId"), out);
}

CgHttpResumePlan
cg_http_resume_plan(gboolean resume, guint64 since, guint64 sequence, gboolean terminal)
{
	if (!resume || since > sequence)
		return CG_HTTP_RESUME_FROM_START;
	if (terminal && since == sequence)
		return CG_HTTP_RESUME_UP_TO_DATE;
	return CG_HTTP_RESUME_AFTER;
}

/* ---- the table ------------------------------------------------------------ */

typedef struct {
	guint64 sent;	/* the highest sequence sent */
	gint64 sent_us; /* when the last event was sent */
} CgHttpResumeEntry;

struct _CgHttpResumeTable {
	guint max_per_user;
	guint max_total;
	gint64 ttl_us;
	guint total;
	GHashTable *users; /* user -> (progress id -> CgHttpResumeEntry) */
};

CgHttpResumeTable *
cg_http_resume_table_new(guint max_per_user, guint max_total, gint64 ttl_us)
{
	CgHttpResumeTable *self = g_new0(CgHttpResumeTable, 1);

	self->max_per_user = max_per_user;
	self->max_total = max_total;
	self->ttl_us = ttl_us;
	self->users = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					    (GDestroyNotify)g_hash_table_unref);
	return self;
}

void
cg_http_resume_table_free(CgHttpResumeTable *self)
{
	if (self == NULL)
		return;
	g_clear_pointer(&self->users, g_hash_table_unref);
	g_free(self);
}

static gboolean
entry_expired(CgHttpResumeTable *self, const CgHttpResumeEntry *entry, gint64 now_us)
{
	return now_us - entry->sent_us >= self->ttl_us;
}

/* Forgets the expired entries of one user; returns how many remain. */
static guint
prune_user(CgHttpResumeTable *self, GHashTable *ids, gint64 now_us)
{
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, ids);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		if (entry_expired(self, value, now_us)) {
			g_hash_table_iter_remove(&iter);
			self->total--;
		}
	}
	return g_hash_table_size(ids);
}

static void
forget_oldest(CgHttpResumeTable *self, GHashTable *ids)
{
	GHashTableIter iter;
	gpointer key, value;
	gpointer oldest = NULL;
	gint64 oldest_us = G_MAXINT64;

	g_hash_table_iter_init(&iter, ids);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		const CgHttpResumeEntry *entry = value;

		if (entry->sent_us < oldest_us) {
			oldest_us = entry->sent_us;
			oldest = key;
		}
	}
	if (oldest != NULL && g_hash_table_remove(ids, oldest))
		self->total--;
}

void
cg_http_resume_table_note(CgHttpResumeTable *self, const char *user, const char *progress_id,
			  guint64 sequence, gint64 now_us)
{
	GHashTable *ids = g_hash_table_lookup(self->users, user);
	CgHttpResumeEntry *entry = ids != NULL ? g_hash_table_lookup(ids, progress_id) : NULL;

	if (entry != NULL) {
		entry->sent =
		    entry_expired(self, entry, now_us) ? sequence : MAX(entry->sent, sequence);
		entry->sent_us = now_us;
		return;
	}
	if (self->max_per_user == 0 || self->max_total == 0)
		return;
	if (self->total >= self->max_total) {
		cg_http_resume_table_prune(self, now_us);
		ids = g_hash_table_lookup(self->users, user); /* pruning may drop it */
	}
	if (ids != NULL && g_hash_table_size(ids) >= self->max_per_user &&
	    prune_user(self, ids, now_us) >= self->max_per_user)
		forget_oldest(self, ids);
	if (self->total >= self->max_total) {
		/* full: this user's own oldest gives way, or this one is not
		 * remembered (its resumes then count as new streams) */
		if (ids == NULL || g_hash_table_size(ids) == 0)
			return;
		forget_oldest(self, ids);
	}
	if (ids == NULL) {
		ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
		g_hash_table_insert(self->users, g_strdup(user), ids);
	}
	entry = g_new0(CgHttpResumeEntry, 1);
	entry->sent = sequence;
	entry->sent_us = now_us;
	g_hash_table_insert(ids, g_strdup(progress_id), entry);
	self->total++;
}

gboolean
cg_http_resume_table_check(CgHttpResumeTable *self, const char *user, const char *progress_id,
			   guint64 since, gint64 now_us)
{
	GHashTable *ids = g_hash_table_lookup(self->users, user);
	const CgHttpResumeEntry *entry = ids != NULL ? g_hash_table_lookup(ids, progress_id) : NULL;

	return entry != NULL && !entry_expired(self, entry, now_us) && since <= entry->sent;
}

guint
cg_http_resume_table_prune(CgHttpResumeTable *self, gint64 now_us)
{
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, self->users);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		if (prune_user(self, value, now_us) == 0)
			g_hash_table_iter_remove(&iter);
	}
	return self->total;
}

guint
cg_http_resume_table_get_size(CgHttpResumeTable *self)
{
	return self->total;
}

guint
cg_http_resume_table_get_user_size(CgHttpResumeTable *self, const char *user)
{
	GHashTable *ids = g_hash_table_lookup(self->users, user);

	return ids != NULL ? g_hash_table_size(ids) : 0;
}
