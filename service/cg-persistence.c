/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-persistence.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cg-error.h"

#define RECORD_VERSION 1

static void
add(GVariantBuilder *builder, const char *key, GVariant *value)
{
	g_variant_builder_add(builder, "{sv}", key, value);
}

static void
add_string(GVariantBuilder *builder, const char *key, const char *value)
{
	if (value != NULL)
		add(builder, key, g_variant_new_string(value));
}

GVariant *
cg_persistence_record_to_variant(const CgGenerationRecord *record)
{
	GVariantBuilder builder;
	const CgResult *result = &record->result;

	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	add(&builder, "version", g_variant_new_uint32(RECORD_VERSION));
	add_string(&builder, "id", record->id);
	add_string(&builder, "transaction_id", record->transaction_id);
	add(&builder, "owner_uid", g_variant_new_uint32(record->owner_uid));
	add_string(&builder, "owner_label", record->owner_label);
	add_string(&builder, "template_id", record->template_id);
	add_string(&builder, "output_format", cg_output_format_to_string(record->output_format));
	add_string(&builder, "message", record->message);
	add(&builder, "sequence", g_variant_new_uint64(record->sequence));
	add(&builder, "started_at_us", g_variant_new_int64(record->started_at_us));
	add(&builder, "finished_ms", g_variant_new_uint32(record->finished_ms));
	add(&builder, "last_sent_ms", g_variant_new_uint32(record->last_sent_ms));
	add(&builder, "reached", g_variant_new_byte(record->reached));
	add(&builder, "stage_ms",
	    g_variant_new_fixed_array(G_VARIANT_TYPE_UINT32, record->stage_ms,
				      G_N_ELEMENTS(record->stage_ms), sizeof(guint32)));
	add_string(&builder, "certificate_number", result->certificate_number);
	add_string(&builder, "last_certificate_number", result->last_certificate_number);
	add(&builder, "file_size", g_variant_new_uint64(result->file_size));
	add_string(&builder, "checksum", result->checksum);
	add(&builder, "pages", g_variant_new_uint32(result->pages));
	add_string(&builder, "path", result->path);
	add_string(&builder, "verification_url", result->verification_url);
	return g_variant_builder_end(&builder);
}

/* A key of the record that must be there with its type. */
static gboolean
lookup(GVariant *variant, const char *key, const char *type, gpointer out, const char **missing)
{
	if (*missing != NULL)
		return FALSE;
	if (!g_variant_lookup(variant, key, type, out)) {
		*missing = key;
		return FALSE;
	}
	return TRUE;
}

gboolean
cg_persistence_record_from_variant(GVariant *variant, CgGenerationRecord *record, GError **error)
{
	g_autoptr(GVariant) stage_ms = NULL;
	const char *missing = NULL;
	const char *format = NULL;
	guint32 version = 0;
	const guint32 *stages;
	gsize n_stages = 0;

	memset(record, 0, sizeof(*record));
	if (!g_variant_is_of_type(variant, G_VARIANT_TYPE_VARDICT)) {
		g_set_error_literal(error, CG_ERROR, CG_ERROR_FAILED, "Not a record (a{sv})");
		return FALSE;
	}
	lookup(variant, "version", "u", &version, &missing);
	lookup(variant, "id", "&s", &record->id, &missing);
	lookup(variant, "transaction_id", "&s", &record->transaction_id, &missing);
	lookup(variant, "owner_uid", "u", &record->owner_uid, &missing);
	lookup(variant, "template_id", "&s", &record->template_id, &missing);
	lookup(variant, "output_format", "&s", &format, &missing);
	lookup(variant, "message", "&s", &record->message, &missing);
	lookup(variant, "sequence", "t", &record->sequence, &missing);
	lookup(variant, "started_at_us", "x", &record->started_at_us, &missing);
	lookup(variant, "finished_ms", "u", &record->finished_ms, &missing);
	lookup(variant, "last_sent_ms", "u", &record->last_sent_ms, &missing);
	lookup(variant, "reached", "y", &record->reached, &missing);
	lookup(variant, "stage_ms", "@au", &stage_ms, &missing);
	lookup(variant, "certificate_number", "&s", &record->result.certificate_number, &missing);
	lookup(variant, "last_certificate_number", "&s", &record->result.last_certificate_number,
	       &missing);
	lookup(variant, "file_size", "t", &record->result.file_size, &missing);
	lookup(variant, "checksum", "&s", &record->result.checksum, &missing);
	lookup(variant, "pages", "u", &record->result.pages, &missing);
	lookup(variant, "path", "&s", &record->result.path, &missing);
	if (missing != NULL) {
		g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "The record has no %s of its type",
			    missing);
		return FALSE;
	}
	/* optional */
	g_variant_lookup(variant, "owner_label", "&s", &record->owner_label);
	g_variant_lookup(variant, "verification_url", "&s", &record->result.verification_url);
	stages = g_variant_get_fixed_array(stage_ms, &n_stages, sizeof(guint32));
	if (version != RECORD_VERSION || n_stages != G_N_ELEMENTS(record->stage_ms) ||
	    !cg_output_format_from_string(format, &record->output_format)) {
		g_set_error(error, CG_ERROR, CG_ERROR_FAILED,
			    "The record's version (%u), stages (%zu) or output format is not "
			    "one of this certgend",
			    version, n_stages);
		return FALSE;
	}
	memcpy(record->stage_ms, stages, sizeof(record->stage_ms));
	return TRUE;
}

/* The result file's name: "<id>.pdf" / "<id>.zip" in the certificates
 * directory, nothing else. */
static char *
file_name_of(const CgGenerationRecord *record)
{
	return g_strdup_printf("%s.%s", record->id,
			       cg_output_format_to_string(record->output_format));
}

gboolean
cg_persistence_keep(CgRegistry *registry, CgGeneration *generation, GError **error)
{
	CgGenerationRecord record;
	CgRegistryGeneration row = {0};
	g_autoptr(GVariant) variant = NULL;
	g_autofree char *file_name = NULL;
	g_autoptr(GBytes) bytes = NULL;

	if (!cg_generation_get_record(generation, &record)) {
		g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "Generation %s has no result to keep",
			    cg_generation_get_id(generation));
		return FALSE;
	}
	variant = g_variant_ref_sink(cg_persistence_record_to_variant(&record));
	bytes = g_variant_get_data_as_bytes(variant);
	file_name = file_name_of(&record);
	row.progress_id = (char *)record.id;
	row.owner_uid = record.owner_uid;
	row.owner_label = (char *)record.owner_label;
	row.file_name = file_name;
	row.file_size = record.result.file_size;
	row.finished_at_us = record.started_at_us + (gint64)record.finished_ms * 1000;
	row.record = bytes;
	return cg_registry_keep_generation(registry, &row, error);
}

void
cg_persistence_forget(CgRegistry *registry, CgGeneration *generation)
{
	g_autoptr(GError) error = NULL;

	if (!cg_registry_forget_generation(registry, cg_generation_get_id(generation), &error))
		g_warning("%s: not removed from the registry: %s", cg_generation_get_id(generation),
			  error->message);
}

/* The file a row names is the generation's own, where it belongs, as it
 * was written: its path is <output_dir>/<id>.<format>, a regular file (not
 * a link) of the recorded size. */
static gboolean
check_file(const CgGenerationRecord *record, const CgRegistryGeneration *row,
	   const char *output_dir, const char **why)
{
	g_autofree char *name = file_name_of(record);
	g_autofree char *expected = g_build_filename(output_dir, name, NULL);
	struct stat st;

	*why = NULL;
	if (g_strcmp0(record->id, row->progress_id) != 0 || g_strcmp0(name, row->file_name) != 0)
		*why = "its record is not its own";
	else if (g_strcmp0(record->result.path, expected) != 0)
		*why = "its file is not in the certificates directory";
	else if (lstat(expected, &st) != 0)
		*why = "its file is gone";
	else if (!S_ISREG(st.st_mode) || (guint64)st.st_size != record->result.file_size)
		*why = "its file was changed";
	return *why == NULL;
}

static gboolean
restore_row(CgTracker *tracker, const CgRegistryGeneration *row, const char *output_dir,
	    GError **error)
{
	g_autoptr(GVariant) variant = g_variant_ref_sink(
	    g_variant_new_from_bytes(G_VARIANT_TYPE_VARDICT, row->record, FALSE));
	CgGenerationRecord record;
	const char *why = NULL;

	if (!cg_persistence_record_from_variant(variant, &record, error))
		return FALSE;
	if (!check_file(&record, row, output_dir, &why)) {
		g_set_error_literal(error, CG_ERROR, CG_ERROR_FAILED, why);
		return FALSE;
	}
	return cg_tracker_restore(tracker, &record, error) != NULL;
}

GHashTable *
cg_persistence_restore(CgRegistry *registry, CgTracker *tracker, const char *output_dir,
		       GError **error)
{
	g_autoptr(GPtrArray) rows = cg_registry_list_generations(registry, error);
	g_autoptr(GHashTable) kept = NULL;

	if (rows == NULL)
		return NULL;
	kept = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (guint i = 0; i < rows->len; i++) {
		CgRegistryGeneration *row = rows->pdata[i];
		g_autoptr(GError) local = NULL;
		g_autoptr(GError) forget_error = NULL;

		if (restore_row(tracker, row, output_dir, &local)) {
			g_hash_table_add(kept, g_strdup(row->file_name));
			continue;
		}
		/* The id is the registry's text: checked before it is logged. */
		g_warning("Persistent generation %s not restored (%s); forgotten",
			  cg_generation_id_is_valid(row->progress_id) ? row->progress_id
								      : "(not an id)",
			  local->message);
		if (!cg_registry_forget_generation(registry, row->progress_id, &forget_error))
			g_warning("%s", forget_error->message);
	}
	if (rows->len > 0)
		g_message("Persistence: %u generation%s restored", g_hash_table_size(kept),
			  g_hash_table_size(kept) == 1 ? "" : "s");
	return g_steal_pointer(&kept);
}

guint64
cg_persistence_owner_bytes(CgTracker *tracker, guint32 uid, const char *owner_label)
{
	g_autoptr(GPtrArray) all = cg_tracker_list(tracker);
	guint64 bytes = 0;

	for (guint i = 0; i < all->len; i++) {
		CgGeneration *generation = all->pdata[i];

		if (cg_generation_get_kept(generation) &&
		    cg_generation_get_owner_uid(generation) == uid &&
		    g_strcmp0(cg_generation_get_owner_label(generation), owner_label) == 0)
			bytes += cg_generation_get_result(generation)->file_size;
	}
	return bytes;
}
