/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-ctl-bus.h"

#include <stdarg.h>
#include <stddef.h>

const char *
cg_bus_scope_to_string(CgBusScope scope)
{
	return scope == CG_BUS_USER ? "user" : "system";
}

int
cg_bus_connect(CgBusScope scope, sd_bus **ret)
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	int r;

	if (scope == CG_BUS_USER)
		r = sd_bus_open_user_with_description(&bus, "certgenctl");
	else
		r = sd_bus_open_system_with_description(&bus, "certgenctl");
	if (r < 0) {
		cg_log_error_errno(r, "Failed to connect to the %s bus: %s",
				   cg_bus_scope_to_string(scope), cg_strerror(r));
		return -CG_ERRNO_UNREACHABLE;
	}
	*ret = TAKE_PTR(bus);
	return 0;
}

/* Sentences for the service's errors; the service's own message follows
 * after a colon. */
static const struct {
	const char *name; /* after CG_ERROR_PREFIX */
	const char *sentence;
} cg_error_sentences[] = {
    {"NotFound", "Not found"},
    {"PermissionDenied", "Permission denied"},
    {"InvalidArgument", "Invalid argument"},
    {"InvalidData", "Invalid data"},
    {"TemplateNotFound", "Unknown template"},
    {"RateLimited", "Rate limited"},
    {"LimitExceeded", "Limit reached"},
    {"NotCancellable", "The generation cannot be cancelled"},
    {"AlreadyFinished", "The generation has already finished"},
    {"NotReady", "The certificate is not ready"},
    {"Failed", "certgend failed"},
    {"Cancelled", "Cancelled"},
    {"TimedOut", "Timed out"},
    {"AlreadyRevoked", "The certificate is revoked already"},
};

static const struct {
	const char *name;
	const char *sentence;
} bus_error_sentences[] = {
    {SD_BUS_ERROR_ACCESS_DENIED, "Access denied by the bus policy"},
    {SD_BUS_ERROR_NO_REPLY, "certgend did not answer in time"},
    {SD_BUS_ERROR_TIMEOUT, "certgend did not answer in time"},
    {SD_BUS_ERROR_DISCONNECTED, "Lost the connection to the bus"},
    {SD_BUS_ERROR_UNKNOWN_METHOD, "certgend does not know this method (version mismatch?)"},
    {SD_BUS_ERROR_INVALID_ARGS, "certgend rejected the arguments"},
    {SD_BUS_ERROR_LIMITS_EXCEEDED, "A limit of the bus was reached"},
};

bool
cg_bus_error_is_unreachable(const char *name)
{
	return streq_ptr(name, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
	       streq_ptr(name, SD_BUS_ERROR_NAME_HAS_NO_OWNER) ||
	       streq_ptr(name, SD_BUS_ERROR_DISCONNECTED) ||
	       streq_ptr(name, SD_BUS_ERROR_NO_REPLY) || streq_ptr(name, SD_BUS_ERROR_TIMEOUT);
}

char *
cg_bus_error_sentence(const char *name, const char *message)
{
	_cleanup_(cg_strings_done) CgStrings strings = {0};
	const char *sentence = NULL;
	char *s = NULL;
	size_t i;

	/* Both came from the bus: shown escaped. */
	name = name != NULL ? cg_strings_safe(&strings, name) : NULL;
	message = message != NULL ? cg_strings_safe(&strings, message) : NULL;

	if (name != NULL && strncmp(name, CG_ERROR_PREFIX, strlen(CG_ERROR_PREFIX)) == 0) {
		const char *suffix = name + strlen(CG_ERROR_PREFIX);

		for (i = 0; i < ELEMENTSOF(cg_error_sentences); i++)
			if (streq(suffix, cg_error_sentences[i].name))
				sentence = cg_error_sentences[i].sentence;
	}
	for (i = 0; sentence == NULL && i < ELEMENTSOF(bus_error_sentences); i++)
		if (streq_ptr(name, bus_error_sentences[i].name))
			sentence = bus_error_sentences[i].sentence;

	if (sentence == NULL) {
		/* Unknown names are shown as they are. */
		if (asprintf(&s, "%s%s%s", strna(name), isempty(message) ? "" : ": ",
			     isempty(message) ? "" : message) < 0)
			return NULL;
		return s;
	}
	if (asprintf(&s, "%s%s%s", sentence, isempty(message) ? "" : ": ",
		     isempty(message) ? "" : message) < 0)
		return NULL;
	return s;
}

static void
log_unreachable(CgBusScope scope)
{
	cg_log_error("certgend is not running (%s has no owner on the %s bus).", CG_BUS_NAME,
		     cg_bus_scope_to_string(scope));
}

int
cg_bus_log_error(const sd_bus_error *error, int r, CgBusScope scope)
{
	_cleanup_free_ char *sentence = NULL;

	/* Errors sd-bus made up locally ("System.Error.ENOTCONN") are errnos. */
	if (error == NULL || !sd_bus_error_is_set(error) ||
	    strncmp(error->name, "System.Error.", strlen("System.Error.")) == 0) {
		if (r == -ECONNRESET || r == -ENOTCONN || r == -ECONNREFUSED) {
			cg_log_error_errno(r, "Lost the connection to the %s bus: %s",
					   cg_bus_scope_to_string(scope), cg_strerror(r));
			return -CG_ERRNO_UNREACHABLE;
		}
		if (r == -ETIMEDOUT) {
			cg_log_error("certgend did not answer in time.");
			return -CG_ERRNO_UNREACHABLE;
		}
		return cg_log_error_errno(r, "D-Bus call failed: %s", cg_strerror(r));
	}

	if (streq(error->name, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
	    streq(error->name, SD_BUS_ERROR_NAME_HAS_NO_OWNER)) {
		log_unreachable(scope);
		return -CG_ERRNO_UNREACHABLE;
	}

	sentence = cg_bus_error_sentence(error->name, error->message);
	if (sentence == NULL)
		return cg_log_oom();
	cg_log_error("%s%s", sentence, sentence[strlen(sentence) - 1] == '.' ? "" : ".");
	if (cg_bus_error_is_unreachable(error->name))
		return -CG_ERRNO_UNREACHABLE;
	return -CG_ERRNO_REFUSED;
}

int
cg_bus_log_parse_error(int r)
{
	return cg_log_error_errno(r, "Failed to parse a message from certgend: %s", cg_strerror(r));
}

int
cg_bus_log_create_error(int r)
{
	return cg_log_error_errno(r, "Failed to create a D-Bus message: %s", cg_strerror(r));
}

static int
get_name_owner(sd_bus *bus, sd_bus_error *error, char **ret)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	const char *owner;
	char *s;
	int r;

	r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
			       "org.freedesktop.DBus", "GetNameOwner", error, &reply, "s",
			       CG_BUS_NAME);
	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "s", &owner);
	if (r < 0)
		return r;
	s = strdup(owner);
	if (s == NULL)
		return -ENOMEM;
	*ret = s;
	return 0;
}

int
cg_bus_get_owner(sd_bus *bus, CgBusScope scope, char **ret)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	int r;

	r = get_name_owner(bus, &error, ret);
	if (r >= 0)
		return 0;
	if (!sd_bus_error_has_name(&error, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
		return cg_bus_log_error(&error, r, scope);

	/* Not running: let the bus start it when it can (D-Bus activation),
	 * then ask again. */
	sd_bus_error_free(&error);
	r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
			       "org.freedesktop.DBus", "StartServiceByName", &error, &reply, "su",
			       CG_BUS_NAME, (uint32_t)0);
	if (r < 0) {
		cg_log_debug("Could not activate %s: %s", CG_BUS_NAME, error.message);
		log_unreachable(scope);
		return -CG_ERRNO_UNREACHABLE;
	}
	sd_bus_error_free(&error);
	r = get_name_owner(bus, &error, ret);
	if (r < 0) {
		log_unreachable(scope);
		return -CG_ERRNO_UNREACHABLE;
	}
	return 0;
}

int
cg_bus_call(sd_bus *bus, CgBusScope scope, const char *member, sd_bus_message **ret_reply,
	    const char *types, ...)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	va_list ap;
	int r;

	va_start(ap, types);
	r = sd_bus_call_methodv(bus, CG_BUS_NAME, CG_OBJECT_PATH, CG_MANAGER_INTERFACE, member,
				&error, &reply, types, ap);
	va_end(ap);
	if (r < 0)
		return cg_bus_log_error(&error, r, scope);
	if (ret_reply != NULL)
		*ret_reply = TAKE_PTR(reply);
	return 0;
}

/* ---- a{sv} dictionaries ---- */

static bool
basic_type_matches(const char *contents, char type)
{
	return contents[0] == type && contents[1] == '\0';
}

int
cg_bus_read_dict(sd_bus_message *m, const CgBusField *fields, size_t n_fields, void *base,
		 CgBusFieldHook hook, CgCtlJson *json, CgStrings *strings)
{
	int r;

	r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "{sv}");
	if (r < 0)
		return r;
	if (json != NULL)
		cg_ctl_json_begin_object(json);

	for (;;) {
		const CgBusField *field = NULL;
		const char *key, *contents = NULL;
		size_t i;

		r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, "sv");
		if (r < 0)
			return r;
		if (r == 0)
			break;
		r = sd_bus_message_read_basic(m, SD_BUS_TYPE_STRING, &key);
		if (r < 0)
			return r;
		r = sd_bus_message_peek_type(m, NULL, &contents);
		if (r < 0)
			return r;
		if (json != NULL)
			cg_ctl_json_key(json, key);

		for (i = 0; i < n_fields; i++)
			if (streq(fields[i].key, key))
				field = &fields[i];

		if (field != NULL && basic_type_matches(contents, field->type)) {
			void *p = (uint8_t *)base + field->offset;

			r = sd_bus_message_read(m, "v", contents, p);
			if (r < 0)
				return r;
			if (json != NULL)
				cg_ctl_json_basic(json, field->type, p);
			if (strings != NULL && field->type == SD_BUS_TYPE_STRING) {
				const char **sp = p;

				*sp = cg_strings_safe(strings, *sp);
				if (*sp == NULL)
					return -ENOMEM;
			}
		} else {
			r = hook != NULL ? hook(m, key, contents, base, json) : 0;
			if (r < 0)
				return r;
			if (r == 0) {
				if (field != NULL)
					cg_log_debug("Key %s has type %s, expected %c; ignored.",
						     key, contents, field->type);
				if (json != NULL)
					r = cg_ctl_json_bus_value(json, m);
				else
					r = sd_bus_message_skip(m, "v");
				if (r < 0)
					return r;
			}
		}

		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}

	if (json != NULL)
		cg_ctl_json_end_object(json);
	return sd_bus_message_exit_container(m);
}

int
cg_bus_read_array(sd_bus_message *m, bool in_variant, const char *contents, CgBusElementFunc read,
		  void *userdata, CgCtlJson *json)
{
	/* "a{st}": dictionary entries, a JSON object; "aa{sv}": an array */
	char bracket = contents[1] == '{' ? '{' : '[';
	int r;

	if (in_variant) {
		r = sd_bus_message_enter_container(m, SD_BUS_TYPE_VARIANT, contents);
		if (r < 0)
			return r;
	}
	r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, contents + 1);
	if (r < 0)
		return r;
	if (json != NULL)
		cg_ctl_json_open_container(json, bracket);
	while ((r = sd_bus_message_peek_type(m, NULL, NULL)) > 0) {
		r = read(m, userdata, json);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	if (json != NULL)
		cg_ctl_json_close_container(json, bracket == '{' ? '}' : ']');
	r = sd_bus_message_exit_container(m);
	if (r >= 0 && in_variant)
		r = sd_bus_message_exit_container(m);
	return r < 0 ? r : 1;
}

int
cg_bus_read_entry(sd_bus_message *m, char type, CgStrings *strings, const char **ret_key,
		  CgCtlBusBasic *ret_value, CgCtlJson *json)
{
	const char signature[] = {SD_BUS_TYPE_STRING, type, '\0'};
	const char *key = NULL;
	int r;

	r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, signature);
	if (r >= 0)
		r = sd_bus_message_read_basic(m, SD_BUS_TYPE_STRING, &key);
	if (r >= 0)
		r = sd_bus_message_read_basic(m, type, ret_value);
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	if (r < 0)
		return r;
	if (json != NULL) {
		cg_ctl_json_key(json, key);
		cg_ctl_json_basic(json, type, ret_value);
	}
	*ret_key = cg_strings_safe(strings, key);
	return *ret_key == NULL ? -ENOMEM : 0;
}

int
cg_grow(void **items, size_t n, size_t size)
{
	void *p = realloc(*items, (n + 1) * size);

	if (p == NULL)
		return -ENOMEM;
	*items = p;
	return 0;
}

static const CgBusField update_fields[] = {
    CG_BUS_FIELD(CgUpdate, "progress_id", SD_BUS_TYPE_STRING, progress_id),
    CG_BUS_FIELD(CgUpdate, "transaction_id", SD_BUS_TYPE_STRING, transaction_id),
    CG_BUS_FIELD(CgUpdate, "stage", SD_BUS_TYPE_STRING, stage),
    CG_BUS_FIELD(CgUpdate, "stage_index", SD_BUS_TYPE_UINT32, stage_index),
    CG_BUS_FIELD(CgUpdate, "stage_progress", SD_BUS_TYPE_UINT32, stage_progress),
    CG_BUS_FIELD(CgUpdate, "progress", SD_BUS_TYPE_DOUBLE, progress),
    CG_BUS_FIELD(CgUpdate, "status", SD_BUS_TYPE_STRING, status),
    CG_BUS_FIELD(CgUpdate, "message", SD_BUS_TYPE_STRING, text),
    CG_BUS_FIELD(CgUpdate, "sequence", SD_BUS_TYPE_UINT64, sequence),
    CG_BUS_FIELD(CgUpdate, "timestamp_us", SD_BUS_TYPE_INT64, timestamp_us),
    CG_BUS_FIELD(CgUpdate, "started_at_us", SD_BUS_TYPE_INT64, started_at_us),
    CG_BUS_FIELD(CgUpdate, "expected_end_us", SD_BUS_TYPE_INT64, expected_end_us),
    CG_BUS_FIELD(CgUpdate, "expires_at_us", SD_BUS_TYPE_INT64, expires_at_us),
    CG_BUS_FIELD(CgUpdate, "cancellable", SD_BUS_TYPE_BOOLEAN, cancellable),
    CG_BUS_FIELD(CgUpdate, "persistent", SD_BUS_TYPE_BOOLEAN, persistent),
    CG_BUS_FIELD(CgUpdate, "pages_done", SD_BUS_TYPE_UINT32, pages_done),
    CG_BUS_FIELD(CgUpdate, "pages_total", SD_BUS_TYPE_UINT32, pages_total),
    CG_BUS_FIELD(CgUpdate, "owner_label", SD_BUS_TYPE_STRING, owner_label),
    CG_BUS_FIELD(CgUpdate, "template_id", SD_BUS_TYPE_STRING, template_id),
    CG_BUS_FIELD(CgUpdate, "output_format", SD_BUS_TYPE_STRING, output_format),
    CG_BUS_FIELD(CgUpdate, "error", SD_BUS_TYPE_STRING, error),
    CG_BUS_FIELD(CgUpdate, "error_message", SD_BUS_TYPE_STRING, error_message),
};

static const CgBusField result_fields[] = {
    CG_BUS_FIELD(CgUpdate, "certificate_number", SD_BUS_TYPE_STRING, result.certificate_number),
    CG_BUS_FIELD(CgUpdate, "last_certificate_number", SD_BUS_TYPE_STRING,
		 result.last_certificate_number),
    CG_BUS_FIELD(CgUpdate, "checksum", SD_BUS_TYPE_STRING, result.checksum),
    CG_BUS_FIELD(CgUpdate, "file_size", SD_BUS_TYPE_UINT64, result.file_size),
    CG_BUS_FIELD(CgUpdate, "pages", SD_BUS_TYPE_UINT32, result.pages),
    CG_BUS_FIELD(CgUpdate, "content_type", SD_BUS_TYPE_STRING, result.content_type),
    CG_BUS_FIELD(CgUpdate, "verification_url", SD_BUS_TYPE_STRING, result.verification_url),
};

static const CgBusField problem_fields[] = {
    CG_BUS_FIELD(CgUpdateProblem, "path", SD_BUS_TYPE_STRING, path),
    CG_BUS_FIELD(CgUpdateProblem, "message", SD_BUS_TYPE_STRING, message),
};

/* One entry of "errors" (a{sv}) appended to the update's. */
static int
read_problem(sd_bus_message *m, void *userdata, CgCtlJson *json)
{
	CgUpdate *u = userdata;
	CgUpdateProblem problem = {0};
	int r;

	r = cg_bus_read_dict(m, problem_fields, ELEMENTSOF(problem_fields), &problem, NULL, json,
			     &u->strings);
	if (r < 0)
		return r;
	r = cg_grow((void **)&u->errors, u->n_errors, sizeof(*u->errors));
	if (r < 0)
		return r;
	u->errors[u->n_errors++] = problem;
	return 0;
}

static int
update_hook(sd_bus_message *m, const char *key, const char *contents, void *base, CgCtlJson *json)
{
	CgUpdate *u = base;
	int r;

	if (streq(key, "errors") && streq(contents, "aa{sv}"))
		return cg_bus_read_array(m, true, contents, read_problem, u, json);
	if (!streq(key, "result") || !streq(contents, "a{sv}"))
		return 0;
	r = sd_bus_message_enter_container(m, SD_BUS_TYPE_VARIANT, contents);
	if (r < 0)
		return r;
	r = cg_bus_read_dict(m, result_fields, ELEMENTSOF(result_fields), u, NULL, json,
			     &u->strings);
	if (r < 0)
		return r;
	r = sd_bus_message_exit_container(m);
	if (r < 0)
		return r;
	u->has_result = true;
	return 1;
}

CgUpdate *
cg_update_free(CgUpdate *u)
{
	if (u == NULL)
		return NULL;
	sd_bus_message_unref(u->message);
	free(u->errors);
	free(u->json);
	cg_strings_done(&u->strings);
	free(u);
	return NULL;
}

int
cg_update_read(sd_bus_message *m, bool want_json, CgUpdate **ret)
{
	_cleanup_(cg_update_freep) CgUpdate *u = NULL;
	_cleanup_(cg_ctl_json_done) CgCtlJson json = {0};
	int r;

	u = calloc(1, sizeof(*u));
	if (u == NULL)
		return -ENOMEM;
	u->message = sd_bus_message_ref(m);

	if (want_json) {
		r = cg_ctl_json_open(&json);
		if (r < 0)
			return r;
	}
	r = cg_bus_read_dict(m, update_fields, ELEMENTSOF(update_fields), u, update_hook,
			     want_json ? &json : NULL, &u->strings);
	if (r >= 0 && want_json)
		r = cg_ctl_json_finish(&json, &u->json);
	if (r < 0)
		return r;

	*ret = TAKE_PTR(u);
	return 0;
}

bool
cg_update_is_terminal(const CgUpdate *u)
{
	return u != NULL && u->status != NULL && !streq(u->status, "in_progress");
}
