/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * certgenctl: bus helpers on sd-bus — connecting, finding certgend's unique
 * name, turning error replies into sentences and exit statuses, reading
 * update dictionaries (a{sv}) into CgUpdate.
 */
#pragma once

#include <stddef.h>
#include <systemd/sd-bus.h>

#include "cg-contract.h"
#include "cg-ctl-json.h"
#include "cg-ctl-util.h"

typedef enum CgBusScope {
	CG_BUS_SYSTEM,
	CG_BUS_USER,
} CgBusScope;

const char *cg_bus_scope_to_string(CgBusScope scope);

/* Connects to the system (or user) bus; honours DBUS_SYSTEM_BUS_ADDRESS.
 * Logs and returns -CG_ERRNO_UNREACHABLE on failure. */
int cg_bus_connect(CgBusScope scope, sd_bus **ret);

/* The unique name owning org.certgen.Certificates1 (activating certgend if
 * the bus can). Logs "certgend is not running ..." and returns
 * -CG_ERRNO_UNREACHABLE when there is none. */
int cg_bus_get_owner(sd_bus *bus, CgBusScope scope, char **ret);

/* Calls a method of the manager; on an error reply logs a sentence for it
 * (prefixed with what, when not NULL) and returns -CG_ERRNO_REFUSED or
 * -CG_ERRNO_UNREACHABLE. */
int cg_bus_call(sd_bus *bus, CgBusScope scope, const char *member, sd_bus_message **ret_reply,
		const char *types, ...);

/* Logs a failed call (error filled in by sd-bus) and returns the negative
 * errno for the exit status. */
int cg_bus_log_error(const sd_bus_error *error, int r, CgBusScope scope);

/* "Invalid data: recipients[1].recipientName: required" for an error name
 * and the service's message. Returns a newly allocated string or NULL. */
char *cg_bus_error_sentence(const char *name, const char *message);

/* Whether an error name means that certgend is not there. */
bool cg_bus_error_is_unreachable(const char *name);

int cg_bus_log_parse_error(int r);
int cg_bus_log_create_error(int r);

/* One update or snapshot (DESIGN.md "update / snapshot keys"). Strings point
 * into message, which the update holds a reference on. */
/* One entry of a failed update's "errors" (InvalidData's problems). */
typedef struct CgUpdateProblem {
	const char *path;
	const char *message;
} CgUpdateProblem;

typedef struct CgUpdate {
	sd_bus_message *message;
	const char *progress_id;
	const char *transaction_id;
	const char *stage;
	const char *status;
	const char *text; /* "message" */
	const char *owner_label;
	const char *template_id;
	const char *output_format; /* "pdf" or "zip"; NULL from an older certgend */
	uint32_t stage_index;
	uint32_t stage_progress;
	uint32_t pages_done;
	uint32_t pages_total;
	double progress;
	uint64_t sequence;
	int64_t timestamp_us;
	int64_t started_at_us;
	int64_t expected_end_us;
	int64_t expires_at_us; /* when certgend forgets it; 0: kept, or not known */
	int cancellable;
	int persistent;
	bool has_result;
	struct {
		const char *certificate_number;
		const char *last_certificate_number;
		const char *checksum;
		const char *content_type;     /* "application/pdf" or "application/zip" */
		const char *verification_url; /* the first page's; NULL from an older certgend */
		uint64_t file_size;
		uint32_t pages;
	} result;
	const char *error;
	const char *error_message;
	CgUpdateProblem *errors; /* "errors", at most 100 from certgend */
	size_t n_errors;
	char *json;	   /* the whole dictionary as one JSON object, when asked for */
	CgStrings strings; /* escaped copies of the strings above that needed it */
} CgUpdate;

/* Reads the a{sv} at m's read position; its strings are fit for a terminal
 * (cg_strings_safe()). With want_json also writes it to (*ret)->json, with
 * the strings as they came (JSON escapes control characters itself). */
int cg_update_read(sd_bus_message *m, bool want_json, CgUpdate **ret);
CgUpdate *cg_update_free(CgUpdate *u);
bool cg_update_is_terminal(const CgUpdate *u);

static inline void
cg_update_freep(CgUpdate **u)
{
	cg_update_free(*u);
}

/* A table-driven a{sv} reader: known keys with the expected basic type are
 * stored at base + offset; others are skipped (or written to json). With
 * strings, a string value with control characters is stored as an escaped
 * copy kept there (json gets the value as it came). */
typedef struct CgBusField {
	const char *key;
	char type;
	size_t offset;
} CgBusField;

/* A table row: @key of D-Bus type @type goes to Struct's @member. */
#define CG_BUS_FIELD(Struct, key, type, member)                                                    \
	{                                                                                          \
		(key), (type), offsetof(Struct, member)                                            \
	}

/* Called for keys not in the table; returns > 0 when it has consumed the
 * variant, 0 to let the reader skip it. */
typedef int (*CgBusFieldHook)(sd_bus_message *m, const char *key, const char *contents, void *base,
			      CgCtlJson *json);

int cg_bus_read_dict(sd_bus_message *m, const CgBusField *fields, size_t n_fields, void *base,
		     CgBusFieldHook hook, CgCtlJson *json, CgStrings *strings);

/* Called with m at each element of an array; reads it (and writes it to
 * json when not NULL). */
typedef int (*CgBusElementFunc)(sd_bus_message *m, void *userdata, CgCtlJson *json);

/* Reads the array at m's read position (in_variant: the variant holding it,
 * of type contents, e.g. "a{st}" or "aa{sv}") element by element with read;
 * json gets an object for an array of dictionary entries, else an array.
 * Returns 1 (consumed, as a CgBusFieldHook returns) or a negative errno. */
int cg_bus_read_array(sd_bus_message *m, bool in_variant, const char *contents,
		      CgBusElementFunc read, void *userdata, CgCtlJson *json);

/* Reads the dictionary entry {s<type>} at m's read position (@type a basic
 * type: 't', 'd', ...): *ret_key, fit for a terminal (an escaped copy in
 * strings when it has control characters), and *ret_value; json (or NULL)
 * gets "key": value. */
int cg_bus_read_entry(sd_bus_message *m, char type, CgStrings *strings, const char **ret_key,
		      CgCtlBusBasic *ret_value, CgCtlJson *json);

/* Makes room for one more element of size bytes in *items (n of them);
 * -ENOMEM when there is none. */
int cg_grow(void **items, size_t n, size_t size);
