/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * certgenctl: the command-line client of certgend, on sd-bus (libsystemd) —
 * an implementation of the D-Bus contract independent of certgend's GDBus.
 *
 * Shape (after systemd's importctl): main() parses the command line into
 * arg_* globals and runs one verb. Verbs return an exit status (>= 0) or a
 * negative errno after logging; the errno is mapped to an exit status at
 * the end (see exit_status()). cg-ctl-bus.c holds the bus helpers,
 * cg-ctl-follow.c follows a generation (match before start, catch up,
 * order by sequence, poll when signals cannot be had, Ctrl-C cancels),
 * cg-ctl-progress.c shows updates (bar, plain lines, JSON), cg-ctl-json.c
 * writes JSON and cg-ctl-file.c reads the data and saves certificates.
 */
#include "config.h"

#include <fcntl.h>
#include <getopt.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <strings.h>
#include <time.h>

#include "cg-ctl-bus.h"
#include "cg-ctl-csv.h"
#include "cg-ctl-file.h"
#include "cg-ctl-follow.h"
#include "cg-ctl-json.h"
#include "cg-ctl-pdf.h"
#include "cg-ctl-progress.h"
#include "cg-ctl-record.h"
#include "cg-ctl-stats.h"
#include "cg-ctl-templates.h"
#include "cg-ctl-util.h"
#include "cg-verify-input.h"

/* Options that only some commands take; the others refuse them. */
enum {
	OPT_JSON = 1 << 0,
	OPT_TEMPLATE = 1 << 1,
	OPT_TRANSACTION = 1 << 2,
	OPT_DATA = 1 << 3,
	OPT_OUTPUT = 1 << 4,
	OPT_TIMEOUT = 1 << 5,
	OPT_NO_WAIT = 1 << 6,
	OPT_POLL = 1 << 7,
	OPT_PERSIST = 1 << 8,
	OPT_DRY_RUN = 1 << 9,
	OPT_CSV = 1 << 10,
	OPT_SET = 1 << 11,
	OPT_ZIP = 1 << 12,
	OPT_PAGE = 1 << 13,
	OPT_REASON = 1 << 14,
};

static CgBusScope arg_scope = CG_BUS_SYSTEM;
static bool arg_json = false;
static const char *arg_template = "classic";
static const char *arg_transaction = NULL;
static const char *arg_data = NULL;
static const char *arg_csv = NULL;
static char **arg_set = NULL; /* --set FIELD=VALUE..., NULL-terminated */
static size_t arg_n_set = 0;
static const char *arg_output = NULL;
static uint32_t arg_timeout_ms = 0; /* 0: the service's default */
static bool arg_no_wait = false;
static bool arg_poll = false;
static bool arg_persist = false;
static bool arg_dry_run = false;
static bool arg_zip = false;	      /* --zip, or --output FILE.zip */
static uint32_t arg_page = 1;	      /* preview: 1-based */
static const char *arg_reason = NULL; /* revoke */
static bool arg_help = false;
static unsigned arg_given = 0; /* OPT_* seen on the command line */

static const char *const stage_names[] = {CG_STAGE_NAMES};

typedef struct Verb {
	const char *name;
	unsigned min_args; /* positional arguments after the verb */
	unsigned max_args;
	unsigned options;
	int (*run)(char **args);
	const char *synopsis;
	const char *summary; /* one line for --help */
	const char *help;
} Verb;

/* ---- helpers ---- */

static int
connect_bus(sd_bus **ret)
{
	return cg_bus_connect(arg_scope, ret);
}

/* Logs why a reply could not be read. */
static int
log_read_error(int r)
{
	return r == -ENOMEM ? cg_log_oom() : cg_bus_log_parse_error(r);
}

/* The end of a command's output on stdout: 0, or a negative errno
 * (logged) when it did not all get out (a full disk, a closed pipe). */
static int
flush_stdout(void)
{
	if (fflush(stdout) == EOF || ferror(stdout))
		return cg_log_error_errno(errno != 0 ? errno : EIO,
					  "Could not write to standard output: %s",
					  cg_strerror(errno != 0 ? errno : EIO));
	return 0;
}

/* connect_bus() once --output (if given) names a file that can be written:
 * nothing is asked of certgend when the result could not be saved. */
static int
connect_bus_for_output(sd_bus **ret)
{
	if (arg_output != NULL) {
		int r = cg_check_output_path(arg_output);

		if (r < 0)
			return r;
	}
	return connect_bus(ret);
}

/* Connects and calls @member, a method without arguments. */
static int
connect_and_call(sd_bus **bus, const char *member, sd_bus_message **ret_reply)
{
	int r = connect_bus(bus);

	if (r < 0)
		return r;
	return cg_bus_call(*bus, arg_scope, member, ret_reply, NULL);
}

/* Reads a reply's a{sv} into @data (json, or NULL, gets it as one
 * object) / prints what was read. */
typedef int (*ReplyReader)(sd_bus_message *m, CgCtlJson *json, void *data);
typedef void (*ReplyPrinter)(const void *data);

/* Reads @reply with @read, then prints it: one JSON line with --json,
 * else with @print. Logs what fails. */
static int
show_reply(sd_bus_message *reply, ReplyReader read, ReplyPrinter print, void *data)
{
	_cleanup_(cg_ctl_json_done) CgCtlJson j = {0};
	_cleanup_free_ char *text = NULL;
	int r = 0;

	if (arg_json)
		r = cg_ctl_json_open(&j);
	if (r >= 0)
		r = read(reply, arg_json ? &j : NULL, data);
	if (r >= 0 && arg_json)
		r = cg_ctl_json_finish(&j, &text);
	if (r < 0)
		return log_read_error(r);
	if (arg_json)
		return cg_print_json_line(text);
	print(data);
	return flush_stdout();
}

/* Connects (connect_bus_for_output) and reads GetProgress of
 * @progress_id (logs). */
static int
get_progress(sd_bus **bus, const char *progress_id, bool want_json, CgUpdate **ret)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	int r;

	r = connect_bus_for_output(bus);
	if (r < 0)
		return r;
	r = cg_bus_call(*bus, arg_scope, "GetProgress", &reply, "s", progress_id);
	if (r < 0)
		return r;
	r = cg_update_read(reply, want_json, ret);
	if (r < 0)
		return cg_bus_log_parse_error(r);
	return 0;
}

static int
json_print_update(const CgUpdate *u)
{
	return cg_print_json_line(u->json);
}

/* Saves the file whose descriptor @reply carries (its one "h") to @path
 * (cg_save_fd); @what names it in messages. Logs. */
static int
save_passed_fd(sd_bus_message *reply, const char *what, const char *path, uint64_t expected_size)
{
	_cleanup_close_ int fd = -1;
	int r, passed;

	r = sd_bus_message_read(reply, "h", &passed);
	if (r < 0)
		return cg_bus_log_parse_error(r);
	/* The message owns the passed descriptor: take our own copy. */
	fd = fcntl(passed, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return cg_log_error_errno(errno, "Failed to duplicate the %s's file descriptor: %s",
					  what, cg_strerror(errno));
	return cg_save_fd(fd, path, expected_size);
}

static int
save_certificate(sd_bus *bus, const char *progress_id, const char *path, uint64_t expected_size)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	int r;

	r = cg_bus_call(bus, arg_scope, "OpenCertificate", &reply, "s", progress_id);
	if (r < 0)
		return r;
	return save_passed_fd(reply, "certificate", path, expected_size);
}

/* --output as fetch and preview take it: required, "-" for standard
 * output but never a terminal (@what is binary). Logs. */
static int
check_binary_output(const char *verb, const char *what, const char *file)
{
	if (arg_output == NULL) {
		cg_log_error("%s needs --output %s (or --output - for standard output).", verb,
			     file);
		return -EINVAL;
	}
	if (streq(arg_output, "-") && isatty(STDOUT_FILENO)) {
		cg_log_error("Refusing to write %s to the terminal: redirect standard "
			     "output, or use --output %s.",
			     what, file);
		return -EINVAL;
	}
	return 0;
}

static void print_field(const char *name, const char *format, ...) _printf_(2, 3);

static void
print_field(const char *name, const char *format, ...)
{
	va_list ap;

	printf("%16s: ", name);
	va_start(ap, format);
	vprintf(format, ap);
	va_end(ap);
	putchar('\n');
}

/* ---- generate ---- */

static bool
has_zip_suffix(const char *path)
{
	size_t n = strlen(path);

	return n > 4 && strcasecmp(path + n - 4, ".zip") == 0;
}

/* The --data or --csv file, as messages name it. */
static const char *
data_source(void)
{
	const char *path = arg_csv != NULL ? arg_csv : arg_data;

	return streq(path, "-") ? "on standard input" : path;
}

/* Reads the --data or --csv file; logs. */
static int
read_data(char **ret, size_t *ret_size)
{
	const char *path = arg_csv != NULL ? arg_csv : arg_data;
	int r;

	r = cg_read_file(path, CG_DATA_MAX_BYTES, ret, ret_size);
	if (r == -EFBIG)
		return cg_log_error_errno(r, "Data %s is larger than %u MiB.", data_source(),
					  CG_DATA_MAX_BYTES / 1024 / 1024);
	if (r < 0)
		return cg_log_error_errno(r, "Failed to read the data from %s: %s",
					  streq(path, "-") ? "standard input" : path,
					  cg_strerror(r));
	return 0;
}

/* The data JSON of --data FILE, or of --csv FILE and its --set fields;
 * logs. */
static int
load_data(char **ret)
{
	_cleanup_free_ char *text = NULL;
	size_t size = 0;
	int r;

	r = read_data(&text, &size);
	if (r < 0)
		return r;
	if (arg_csv != NULL)
		/* the CSV text is freed once converted: one copy at a time */
		return cg_ctl_csv_to_json(streq(arg_csv, "-") ? "standard input" : arg_csv, text,
					  size, arg_set, ret);
	if (memchr(text, '\0', size) != NULL)
		return cg_log_error_errno(
		    EINVAL, "Data %s contains a NUL byte; expected JSON text.", data_source());
	*ret = TAKE_PTR(text);
	return 0;
}

/* load_data() for a command: a bad --set is a usage error (CG_EXIT_USAGE). */
static int
load_verb_data(char **ret)
{
	int r = load_data(ret);

	return r == -E2BIG ? CG_EXIT_USAGE : r;
}

static int
append_options(sd_bus_message *m)
{
	int r;

	r = sd_bus_message_open_container(m, SD_BUS_TYPE_ARRAY, "{sv}");
	if (r < 0)
		return r;
	if (arg_timeout_ms > 0) {
		r = sd_bus_message_append(m, "{sv}", "timeout_ms", "u", arg_timeout_ms);
		if (r < 0)
			return r;
	}
	if (arg_persist) {
		r = sd_bus_message_append(m, "{sv}", "enable_persistence", "b", 1);
		if (r < 0)
			return r;
	}
	if (arg_dry_run) {
		r = sd_bus_message_append(m, "{sv}", "validate_only", "b", 1);
		if (r < 0)
			return r;
	}
	if (arg_zip) {
		r = sd_bus_message_append(m, "{sv}", "output_format", "s", "zip");
		if (r < 0)
			return r;
	}
	return sd_bus_message_close_container(m);
}

/* StartGeneration; logs. */
static int
start_generation(sd_bus *bus, const char *transaction, const char *data, char **ret_id)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	const char *id;
	char *s;
	int r;

	r = sd_bus_message_new_method_call(bus, &m, CG_BUS_NAME, CG_OBJECT_PATH,
					   CG_MANAGER_INTERFACE, "StartGeneration");
	if (r < 0)
		return cg_bus_log_create_error(r);
	r = sd_bus_message_append(m, "ss", transaction, arg_template);
	if (r < 0)
		return cg_log_error_errno(r, "Invalid --transaction or --template: %s",
					  cg_strerror(r));
	r = sd_bus_message_append(m, "s", data);
	if (r < 0)
		/* sd-bus refuses strings that are not UTF-8. */
		return cg_log_error_errno(r, "Data %s is not valid UTF-8 text: %s", data_source(),
					  cg_strerror(r));
	r = append_options(m);
	if (r < 0)
		return cg_bus_log_create_error(r);

	r = sd_bus_call(bus, m, 0, &error, &reply);
	if (r < 0)
		return cg_bus_log_error(&error, r, arg_scope);
	r = sd_bus_message_read(reply, "s", &id);
	if (r < 0)
		return cg_bus_log_parse_error(r);
	s = strdup(id);
	if (s == NULL)
		return cg_log_oom();
	*ret_id = s;
	return 0;
}

static int
print_progress_id(const char *progress_id)
{
	_cleanup_(cg_ctl_json_done) CgCtlJson j = {0};
	_cleanup_free_ char *text = NULL;

	if (!arg_json) {
		_cleanup_(cg_strings_done) CgStrings strings = {0};
		const char *shown = cg_strings_safe(&strings, progress_id);

		if (shown == NULL)
			return cg_log_oom();
		printf("%s\n", shown);
		fflush(stdout);
		return 0;
	}
	if (cg_ctl_json_open(&j) < 0)
		return cg_log_oom();
	cg_ctl_json_begin_object(&j);
	cg_ctl_json_key(&j, "progress_id");
	cg_ctl_json_string(&j, progress_id);
	cg_ctl_json_end_object(&j);
	if (cg_ctl_json_finish(&j, &text) < 0)
		return cg_log_oom();
	return cg_print_json_line(text);
}

/* Follows a generation to its end, saves the PDF when asked and it
 * completed, reports the outcome; returns the exit status. */
static int
follow_to_end(sd_bus *bus, CgFollow *follow, CgProgress *progress, const char *progress_id)
{
	_cleanup_(cg_update_freep) CgUpdate *final = NULL;
	int r, status;

	r = cg_follow_run(follow, progress_id, &final);
	if (r < 0)
		return r;

	status = cg_status_to_exit(final->status);
	if (status == CG_EXIT_SUCCESS && arg_output != NULL) {
		cg_progress_end(progress);
		r = save_certificate(bus, progress_id, arg_output, final->result.file_size);
		if (r < 0)
			return r;
	}
	cg_progress_show_result(progress, final, status == CG_EXIT_SUCCESS ? arg_output : NULL);
	return status;
}

/* --data or --csv (and --set only with --csv), as generate and preview take
 * them. Logs. */
static int
check_data_options(const char *verb)
{
	if (arg_data == NULL && arg_csv == NULL) {
		cg_log_error("%s needs the recipient data: --data FILE or --csv FILE (- for "
			     "standard input).",
			     verb);
		return -EINVAL;
	}
	if (arg_data != NULL && arg_csv != NULL) {
		cg_log_error("--data and --csv cannot be combined: the data is JSON or CSV.");
		return -EINVAL;
	}
	if (arg_n_set > 0 && arg_csv == NULL) {
		cg_log_error("--set applies to CSV data (--csv); JSON data sets shared fields "
			     "beside \"recipients\".");
		return -EINVAL;
	}
	return 0;
}

static int
verb_generate(char **args)
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(cg_progress_done) CgProgress progress = {0};
	_cleanup_(cg_follow_freep) CgFollow *follow = NULL;
	_cleanup_free_ char *data = NULL, *transaction = NULL, *progress_id = NULL;
	int r;

	if (check_data_options("generate") < 0)
		return CG_EXIT_USAGE;
	if (arg_output != NULL && arg_dry_run) {
		cg_log_error("--output cannot be combined with --dry-run: a dry run makes no "
			     "file.");
		return CG_EXIT_USAGE;
	}
	if (arg_output != NULL && arg_no_wait) {
		cg_log_error("--output cannot be combined with --no-wait; use "
			     "\"certgenctl fetch ID --output FILE\" later.");
		return CG_EXIT_USAGE;
	}
	if (arg_output != NULL && streq(arg_output, "-")) {
		cg_log_error("generate --output needs a file name; use \"certgenctl fetch ID "
			     "--output -\" for standard output.");
		return CG_EXIT_USAGE;
	}

	r = load_verb_data(&data);
	if (r != 0)
		return r;

	/* Fail before starting anything when the result could not be saved. */
	/* --output FILE.zip asks for a ZIP as --zip does */
	if (arg_output != NULL && has_zip_suffix(arg_output))
		arg_zip = true;
	if (arg_output != NULL) {
		r = cg_check_output_path(arg_output);
		if (r < 0)
			return r;
	}

	if (arg_transaction == NULL &&
	    asprintf(&transaction, "certgenctl-%d-%lld", (int)getpid(), (long long)time(NULL)) < 0)
		return cg_log_oom();

	r = connect_bus(&bus);
	if (r < 0)
		return r;

	cg_progress_init(&progress, arg_json);

	/* Listen first, then start: no update can be missed. SIGINT/SIGTERM
	 * are handled (and so cancel) from here on. */
	if (!arg_no_wait) {
		r = cg_follow_new(bus, arg_scope, &progress,
				  CG_FOLLOW_CANCEL_ON_SIGNAL | (arg_poll ? CG_FOLLOW_POLL : 0) |
				      (arg_csv != NULL ? CG_FOLLOW_CSV_ROWS : 0),
				  &follow);
		if (r < 0)
			return r;
	}

	r = start_generation(bus, transaction ? transaction : arg_transaction, data, &progress_id);
	if (r < 0)
		return r;

	if (arg_no_wait)
		return print_progress_id(progress_id);

	return follow_to_end(bus, follow, &progress, progress_id);
}

/* ---- watch ---- */

static int
verb_watch(char **args)
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(cg_progress_done) CgProgress progress = {0};
	_cleanup_(cg_follow_freep) CgFollow *follow = NULL;
	int r;

	if (arg_output != NULL && streq(arg_output, "-")) {
		cg_log_error("watch --output needs a file name.");
		return CG_EXIT_USAGE;
	}
	r = connect_bus_for_output(&bus);
	if (r < 0)
		return r;

	cg_progress_init(&progress, arg_json);
	/* Match, then Subscribe, then GetProgress (in cg_follow_run). */
	r = cg_follow_new(bus, arg_scope, &progress,
			  CG_FOLLOW_SUBSCRIBE | (arg_poll ? CG_FOLLOW_POLL : 0), &follow);
	if (r < 0)
		return r;

	return follow_to_end(bus, follow, &progress, args[0]);
}

/* ---- status ---- */

static void
print_update(const CgUpdate *u)
{
	char buf[128], when[64];
	_cleanup_free_ char *sentence = NULL;

	print_field("Generation", "%s", strna(u->progress_id));
	print_field("Transaction", "%s", strna(u->transaction_id));
	print_field("Template", "%s", strna(u->template_id));
	if (u->owner_label != NULL)
		print_field("On behalf of", "%s", u->owner_label);
	if (u->output_format != NULL)
		print_field("Output", "%s", u->output_format);
	print_field("Status", "%s", strna(u->status));
	print_field("Stage", "%s (%u/%u), %u%%", strna(u->stage), u->stage_index + 1,
		    (unsigned)ELEMENTSOF(stage_names), u->stage_progress);
	print_field("Progress", "%.1f%%", u->progress);
	if (u->pages_total > 0)
		print_field("Pages", "%u/%u", u->pages_done, u->pages_total);
	if (!isempty(u->text))
		print_field("Message", "%s", u->text);
	cg_format_timestamp(when, sizeof(when), u->started_at_us);
	print_field("Started", "%s", when);
	if (streq_ptr(u->status, "in_progress") && u->expected_end_us > 0) {
		int64_t left = u->expected_end_us - cg_now_realtime_us();

		cg_format_timestamp(when, sizeof(when), u->expected_end_us);
		cg_format_timespan(buf, sizeof(buf), left > 0 ? (uint64_t)left : 0);
		print_field("Expected end", "%s (in %s)", when, buf);
	}
	cg_format_timestamp(when, sizeof(when), u->timestamp_us);
	print_field("Updated", "%s (update %llu)", when, (unsigned long long)u->sequence);
	print_field("Cancellable", "%s", u->cancellable ? "yes" : "no");
	if (u->persistent) {
		print_field("Kept", "until its owner's cleanup");
	} else if (u->expires_at_us > 0) {
		cg_format_timestamp(when, sizeof(when), u->expires_at_us);
		print_field("Kept", "until %s", when);
	}
	if (u->has_result) {
		if (u->result.pages > 1 && u->result.last_certificate_number != NULL)
			print_field("Certificates", "%s to %s", strna(u->result.certificate_number),
				    u->result.last_certificate_number);
		else
			print_field("Certificate", "%s", strna(u->result.certificate_number));
		cg_format_bytes(buf, sizeof(buf), u->result.file_size);
		print_field("File", "%u page%s, %s (%llu bytes)", u->result.pages,
			    u->result.pages == 1 ? "" : "s", buf,
			    (unsigned long long)u->result.file_size);
		print_field("SHA-256", "%s", strna(u->result.checksum));
		if (u->result.content_type != NULL)
			print_field("Content type", "%s", u->result.content_type);
		if (u->result.verification_url != NULL)
			print_field("Verify at", "%s", u->result.verification_url);
	}
	if (u->error != NULL || u->error_message != NULL) {
		sentence = cg_bus_error_sentence(u->error, u->error_message);
		print_field("Error", "%s", sentence ? sentence : strna(u->error_message));
	}
}

static int
verb_status(char **args)
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(cg_update_freep) CgUpdate *u = NULL;
	int r;

	r = get_progress(&bus, args[0], arg_json, &u);
	if (r < 0)
		return r;

	if (arg_json)
		return json_print_update(u);
	print_update(u);
	return flush_stdout();
}

/* ---- cancel ---- */

static int
verb_cancel(char **args)
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	int r;

	r = connect_bus(&bus);
	if (r < 0)
		return r;
	return cg_bus_call(bus, arg_scope, "Cancel", NULL, "s", args[0]);
}

/* ---- analytics ---- */

typedef struct Analytics {
	uint64_t total_duration_ms;
	double average_progress_rate;
	const char *status;
	int64_t started_at_us;
	int64_t finished_at_us;
	struct {
		const char *stage;
		uint64_t ms;
	} stages[16];
	size_t n_stages;
	CgStrings *strings; /* escaped copies */
} Analytics;

/* One {st} of stage_durations. */
static int
analytics_read_stage(sd_bus_message *m, void *userdata, CgCtlJson *json)
{
	Analytics *a = userdata;
	CgCtlBusBasic ms;
	const char *stage;
	int r = cg_bus_read_entry(m, SD_BUS_TYPE_UINT64, a->strings, &stage, &ms, json);

	if (r < 0)
		return r;
	if (a->n_stages < ELEMENTSOF(a->stages)) {
		a->stages[a->n_stages].stage = stage;
		a->stages[a->n_stages].ms = ms.u64;
		a->n_stages++;
	}
	return 0;
}

static int
analytics_hook(sd_bus_message *m, const char *key, const char *contents, void *base,
	       CgCtlJson *json)
{
	if (!streq(key, "stage_durations") || !streq(contents, "a{st}"))
		return 0;
	return cg_bus_read_array(m, true, contents, analytics_read_stage, base, json);
}

static const CgBusField analytics_fields[] = {
    CG_BUS_FIELD(Analytics, "total_duration_ms", SD_BUS_TYPE_UINT64, total_duration_ms),
    CG_BUS_FIELD(Analytics, "average_progress_rate", SD_BUS_TYPE_DOUBLE, average_progress_rate),
    CG_BUS_FIELD(Analytics, "status", SD_BUS_TYPE_STRING, status),
    CG_BUS_FIELD(Analytics, "started_at_us", SD_BUS_TYPE_INT64, started_at_us),
    CG_BUS_FIELD(Analytics, "finished_at_us", SD_BUS_TYPE_INT64, finished_at_us),
};

static int
analytics_read(sd_bus_message *m, CgCtlJson *json, void *data)
{
	Analytics *a = data;

	return cg_bus_read_dict(m, analytics_fields, ELEMENTSOF(analytics_fields), a,
				analytics_hook, json, a->strings);
}

static void
analytics_print(const void *data)
{
	const Analytics *a = data;
	char when[64];
	size_t i, k;

	print_field("Status", "%s", strna(a->status));
	print_field("Total duration", "%llu ms", (unsigned long long)a->total_duration_ms);
	print_field("Average rate", "%.1f %%/s", a->average_progress_rate);
	cg_format_timestamp(when, sizeof(when), a->started_at_us);
	print_field("Started", "%s", when);
	cg_format_timestamp(when, sizeof(when), a->finished_at_us);
	print_field("Finished", "%s", a->finished_at_us > 0 ? when : "not yet");
	printf("\n%-18s %10s\n", "STAGE", "DURATION");
	/* In pipeline order, then anything this client does not know. */
	for (k = 0; k < ELEMENTSOF(stage_names); k++)
		for (i = 0; i < a->n_stages; i++)
			if (streq(a->stages[i].stage, stage_names[k]))
				printf("%-18s %7llu ms\n", a->stages[i].stage,
				       (unsigned long long)a->stages[i].ms);
	for (i = 0; i < a->n_stages; i++) {
		bool known = false;

		for (k = 0; k < ELEMENTSOF(stage_names); k++)
			known = known || streq(a->stages[i].stage, stage_names[k]);
		if (!known)
			printf("%-18s %7llu ms\n", a->stages[i].stage,
			       (unsigned long long)a->stages[i].ms);
	}
}

static int
verb_analytics(char **args)
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_(cg_strings_done) CgStrings strings = {0};
	Analytics a = {.strings = &strings};
	int r;

	r = connect_bus(&bus);
	if (r < 0)
		return r;
	r = cg_bus_call(bus, arg_scope, "GetAnalytics", &reply, "s", args[0]);
	if (r < 0)
		return r;
	return show_reply(reply, analytics_read, analytics_print, &a);
}

/* ---- list ---- */

typedef struct UpdateList {
	CgUpdate **items;
	size_t n;
} UpdateList;

static void
update_list_done(UpdateList *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		cg_update_free(l->items[i]);
	free(l->items);
	*l = (UpdateList){0};
}

/* Reads an aa{sv} of snapshots. */
static int
update_list_read(sd_bus_message *m, bool want_json, UpdateList *l)
{
	int r;

	r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "a{sv}");
	if (r < 0)
		return r;
	for (;;) {
		CgUpdate *u = NULL, **p;

		r = sd_bus_message_peek_type(m, NULL, NULL);
		if (r < 0)
			return r;
		if (r == 0)
			break;
		r = cg_update_read(m, want_json, &u);
		if (r < 0)
			return r;
		p = realloc(l->items, (l->n + 1) * sizeof(*l->items));
		if (p == NULL) {
			cg_update_free(u);
			return -ENOMEM;
		}
		l->items = p;
		l->items[l->n++] = u;
	}
	return sd_bus_message_exit_container(m);
}

static int
verb_list(char **args)
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_(update_list_done) UpdateList list = {0};
	size_t i, w_tx = strlen("TRANSACTION"), w_id = strlen("ID");
	int r;

	r = connect_and_call(&bus, "ListGenerations", &reply);
	if (r < 0)
		return r;
	r = update_list_read(reply, arg_json, &list);
	if (r < 0)
		return log_read_error(r);

	if (arg_json) {
		/* One array: the snapshots, oldest first. */
		fputc('[', stdout);
		for (i = 0; i < list.n; i++)
			printf("%s%s", i > 0 ? "," : "", list.items[i]->json);
		fputs("]\n", stdout);
		fflush(stdout);
		return 0;
	}

	if (list.n == 0) {
		printf("No generations.\n");
		return 0;
	}
	for (i = 0; i < list.n; i++) {
		size_t l = strlen(strna(list.items[i]->transaction_id));

		if (l > w_tx)
			w_tx = l > 40 ? 40 : l;
		l = strlen(strna(list.items[i]->progress_id));
		if (l > w_id)
			w_id = l;
	}
	printf("%-*s  %-*s  %-11s  %-16s  %6s\n", (int)w_id, "ID", (int)w_tx, "TRANSACTION",
	       "STATUS", "STAGE", "PROGRESS");
	for (i = 0; i < list.n; i++) {
		const CgUpdate *u = list.items[i];

		printf("%-*s  %-*.*s  %-11s  %-16s  %5.1f%%\n", (int)w_id, strna(u->progress_id),
		       (int)w_tx, (int)w_tx, strna(u->transaction_id), strna(u->status),
		       strna(u->stage), u->progress);
	}
	printf("\n%zu generation%s listed.\n", list.n, list.n == 1 ? "" : "s");
	return flush_stdout();
}

/* ---- fetch ---- */

static int
verb_fetch(char **args)
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(cg_update_freep) CgUpdate *u = NULL;
	int r;

	if (check_binary_output("fetch", "a certificate", "FILE") < 0)
		return CG_EXIT_USAGE;
	/* The snapshot says how long the file must be. */
	r = get_progress(&bus, args[0], false, &u);
	if (r < 0)
		return r;

	r = save_certificate(bus, args[0], arg_output, u->has_result ? u->result.file_size : 0);
	if (r < 0)
		return r;
	if (!streq(arg_output, "-")) {
		printf("Saved the certificate of generation %s to %s.\n", args[0], arg_output);
		fflush(stdout);
	}
	return 0;
}

/* ---- cleanup ---- */

static int
verb_cleanup(char **args)
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	uint32_t removed;
	int r;

	r = connect_and_call(&bus, "Cleanup", &reply);
	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "u", &removed);
	if (r < 0)
		return cg_bus_log_parse_error(r);
	if (arg_json)
		printf("{\"removed\":%u}\n", removed);
	else
		printf("Removed %u finished generation%s.\n", removed, removed == 1 ? "" : "s");
	return flush_stdout();
}

/* ---- preview ---- */

static int
verb_preview(char **args)
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_free_ char *data = NULL;
	int r;

	if (check_data_options("preview") < 0 ||
	    check_binary_output("preview", "a PNG image", "FILE.png") < 0)
		return CG_EXIT_USAGE;

	r = load_verb_data(&data);
	if (r != 0)
		return r;
	/* nothing is asked of certgend when the image could not be saved */
	r = connect_bus_for_output(&bus);
	if (r < 0)
		return r;
	r = cg_bus_call(bus, arg_scope, "RenderPreview", &reply, "ssu", arg_template, data,
			arg_page);
	if (r < 0)
		return r;
	r = save_passed_fd(reply, "preview", arg_output, 0);
	if (r < 0)
		return r;
	if (!streq(arg_output, "-"))
		printf("Saved a preview of page %" PRIu32 " to %s.\n", arg_page, arg_output);
	return flush_stdout();
}

/* ---- templates ---- */

static int
verb_templates(char **args)
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_(cg_ctl_templates_done) CgCtlTemplates list = {0};
	const CgCtlTemplate *one = NULL;
	int r;

	r = connect_and_call(&bus, "ListTemplates", &reply);
	if (r < 0)
		return r;
	r = cg_ctl_templates_read(reply, &list);
	if (r < 0)
		return log_read_error(r);

	if (args[0] != NULL) {
		one = cg_ctl_templates_find(&list, args[0]);
		if (one == NULL) {
			_cleanup_(cg_strings_done) CgStrings strings = {0};
			_cleanup_free_ char *ids = cg_ctl_templates_ids(&list);
			const char *shown = cg_strings_safe(&strings, args[0]);

			if (ids == NULL || shown == NULL)
				return cg_log_oom();
			cg_log_error("Template '%s' not found; available: %s", shown,
				     isempty(ids) ? "none" : ids);
			return CG_EXIT_REFUSED;
		}
	}

	if (arg_json && one != NULL) {
		r = cg_print_json_line(one->json);
	} else if (arg_json) {
		/* One array: the entries, sorted by id. */
		fputc('[', stdout);
		for (size_t i = 0; i < list.n; i++)
			printf("%s%s", i > 0 ? "," : "", list.items[i].json);
		fputs("]\n", stdout);
	} else if (one != NULL) {
		cg_ctl_template_print(one);
	} else {
		cg_ctl_templates_print_table(&list);
	}
	return r < 0 ? r : flush_stdout();
}

/* ---- stats ---- */

static int
stats_read(sd_bus_message *m, CgCtlJson *json, void *data)
{
	return cg_ctl_stats_read(m, json, data);
}

static void
stats_print(const void *data)
{
	cg_ctl_stats_print(data);
}

static int
verb_stats(char **args)
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_(cg_ctl_stats_done) CgCtlStats stats = {0};
	int r = connect_and_call(&bus, "GetStatistics", &reply);

	if (r < 0)
		return r;
	return show_reply(reply, stats_read, stats_print, &stats);
}

/* ---- verify, revoke ---- */

/* Checks a certificate number and a verification code from the command
 * line before anything is asked of certgend; logs. */
static int
check_number(const char *number)
{
	if (cg_certificate_number_is_valid(number))
		return 0;
	cg_log_error("Invalid certificate number: expected 1 to %u letters, digits or '-' "
		     "(e.g. CERT2026000042).",
		     CG_CERTIFICATE_NUMBER_MAX);
	return -EINVAL;
}

static int
check_code(const char *code)
{
	if (cg_verification_code_is_valid(code))
		return 0;
	cg_log_error("Invalid verification code: expected %u to %u letters, digits, '-' or '_' "
		     "(the c= of the verification URL).",
		     CG_VERIFICATION_CODE_MIN, CG_VERIFICATION_CODE_MAX);
	return -EINVAL;
}

/* Verify(@number, @code): 1 with *@ret_reply, 0 when certgend has no such
 * certificate or the code is wrong (NotFound: it does not say which), or
 * a negative errno (logged). */
static int
call_verify(sd_bus *bus, const char *number, const char *code, sd_bus_message **ret_reply)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	int r;

	r = sd_bus_call_method(bus, CG_BUS_NAME, CG_OBJECT_PATH, CG_MANAGER_INTERFACE, "Verify",
			       &error, ret_reply, "ss", number, code);
	if (r >= 0)
		return 1;
	if (sd_bus_error_has_name(&error, CG_ERROR_PREFIX "NotFound"))
		return 0;
	return cg_bus_log_error(&error, r, arg_scope);
}

static int
record_read(sd_bus_message *m, CgCtlJson *json, void *data)
{
	return cg_ctl_record_read(m, json, data);
}

static void
record_print(const void *data)
{
	cg_ctl_record_print(data);
}

/* verify NUMBER CODE: the record; 0 when valid, 1 when revoked. */
static int
verify_number(const char *number, const char *code)
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_(cg_ctl_record_done) CgCtlRecord record = {0};
	int r;

	if (check_number(number) < 0 || check_code(code) < 0)
		return CG_EXIT_USAGE;
	r = connect_bus(&bus);
	if (r < 0)
		return r;
	r = call_verify(bus, number, code, &reply);
	if (r < 0)
		return r;
	if (r == 0) {
		cg_log_error("No such certificate or wrong code: %s is not a certificate "
			     "certgend issued with this verification code.",
			     number);
		return CG_EXIT_REFUSED;
	}
	r = show_reply(reply, record_read, record_print, &record);
	if (r < 0)
		return r;
	return cg_ctl_record_is_valid(&record) ? CG_EXIT_SUCCESS : CG_EXIT_FAILED;
}

/* What one page of a file turned out to be. */
typedef enum {
	PAGE_VALID,
	PAGE_REVOKED,
	PAGE_NOT_FOUND,
	PAGE_NO_LINK,
} PageVerdict;

static const char *const page_verdict_names[] = {
    [PAGE_VALID] = "valid",
    [PAGE_REVOKED] = "revoked",
    [PAGE_NOT_FOUND] = "not_found",
    [PAGE_NO_LINK] = "no_link",
};

/* One page: Verify of its link, a line (or JSON object) for it; whether
 * its record names @file_sha256 in *@hash_matches. Returns the verdict or
 * a negative errno (logged). */
static int
verify_page(sd_bus *bus, const CgCtlPdf *pdf, size_t i, CgCtlJson *json, bool *hash_matches)
{
	const CgCtlPdfPage *page = &pdf->pages[i];
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_(cg_ctl_record_done) CgCtlRecord record = {0};
	PageVerdict verdict;
	char when[64];
	int r = 0;

	*hash_matches = false;
	if (json != NULL) {
		cg_ctl_json_begin_object(json);
		cg_ctl_json_key(json, "page");
		cg_ctl_json_unsigned(json, i + 1);
	}
	if (page->link != CG_CTL_PDF_LINK_OK) {
		verdict = PAGE_NO_LINK;
	} else {
		r = call_verify(bus, page->number, page->code, &reply);
		if (r < 0)
			return r;
		if (json != NULL) {
			cg_ctl_json_key(json, "certificate_number");
			cg_ctl_json_string(json, page->number);
		}
		verdict = PAGE_NOT_FOUND;
	}
	if (r > 0) {
		if (json != NULL)
			cg_ctl_json_key(json, "record");
		r = cg_ctl_record_read(reply, json, &record);
		if (r < 0)
			return log_read_error(r);
		verdict = cg_ctl_record_is_valid(&record) ? PAGE_VALID : PAGE_REVOKED;
		*hash_matches = streq_ptr(record.file_sha256, pdf->sha256);
	}
	if (json != NULL) {
		cg_ctl_json_key(json, "status");
		cg_ctl_json_string(json, page_verdict_names[verdict]);
		cg_ctl_json_end_object(json);
		return (int)verdict;
	}

	printf("page %zu: ", i + 1);
	switch (verdict) {
	case PAGE_VALID:
		cg_format_timestamp(when, sizeof(when), record.issued_at_us);
		printf("%s valid (issued %s, template %s)\n", page->number, when,
		       strna(record.template_id));
		break;
	case PAGE_REVOKED:
		cg_format_timestamp(when, sizeof(when), record.revoked_at_us);
		printf("%s REVOKED on %s: %s\n", page->number, when,
		       strna(record.revocation_reason));
		break;
	case PAGE_NOT_FOUND:
		printf("%s NOT FOUND: no such certificate or wrong code\n", page->number);
		break;
	case PAGE_NO_LINK:
	default:
		printf("NOT VERIFIABLE: %s\n", cg_ctl_pdf_link_problem(page->link));
		break;
	}
	return (int)verdict;
}

/* verify FILE.pdf: every page's link, then the file's SHA-256 against
 * the records; 0 only when every page is valid and the hash matches. */
static int
verify_file(const char *path)
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(cg_ctl_json_done) CgCtlJson j = {0};
	_cleanup_(cg_ctl_pdf_done) CgCtlPdf pdf = {0};
	_cleanup_free_ char *text = NULL;
	size_t n_valid = 0, n_hash = 0;
	bool valid;
	int r;

	r = cg_ctl_pdf_read(path, &pdf);
	if (r < 0)
		return r;
	r = connect_bus(&bus);
	if (r < 0)
		return r;
	if (arg_json) {
		if (cg_ctl_json_open(&j) < 0)
			return cg_log_oom();
		cg_ctl_json_begin_object(&j);
		cg_ctl_json_key(&j, "file_sha256");
		cg_ctl_json_string(&j, pdf.sha256);
		cg_ctl_json_key(&j, "pages");
		cg_ctl_json_begin_array(&j);
	}
	for (size_t i = 0; i < pdf.n_pages; i++) {
		bool hash_matches;

		r = verify_page(bus, &pdf, i, arg_json ? &j : NULL, &hash_matches);
		if (r < 0)
			return r;
		n_valid += r == PAGE_VALID;
		n_hash += hash_matches;
	}
	valid = n_valid == pdf.n_pages && n_hash == pdf.n_pages;
	if (arg_json) {
		cg_ctl_json_end_array(&j);
		cg_ctl_json_key(&j, "file_sha256_matches");
		cg_ctl_json_boolean(&j, n_hash == pdf.n_pages);
		cg_ctl_json_key(&j, "valid");
		cg_ctl_json_boolean(&j, valid);
		cg_ctl_json_end_object(&j);
		if (cg_ctl_json_finish(&j, &text) < 0)
			return cg_log_oom();
		r = cg_print_json_line(text);
		return r < 0 ? r : valid ? CG_EXIT_SUCCESS : CG_EXIT_FAILED;
	}

	if (n_hash == pdf.n_pages)
		printf("file: SHA-256 %s matches the registry\n", pdf.sha256);
	else
		printf("file: SHA-256 %s is NOT the file certgend issued%s\n", pdf.sha256,
		       n_hash > 0 ? " for every page" : "");
	if (valid)
		printf("Verdict: VALID: %zu page%s, each a valid certificate, in the file "
		       "certgend issued.\n",
		       pdf.n_pages, pdf.n_pages == 1 ? "" : "s");
	else
		printf("Verdict: NOT VALID: %zu of %zu page%s valid%s.\n", n_valid, pdf.n_pages,
		       pdf.n_pages == 1 ? "" : "s",
		       n_hash == pdf.n_pages ? ""
					     : ", and the file was changed since it was issued");
	r = flush_stdout();
	return r < 0 ? r : valid ? CG_EXIT_SUCCESS : CG_EXIT_FAILED;
}

static int
verb_verify(char **args)
{
	if (args[1] != NULL)
		return verify_number(args[0], args[1]);
	return verify_file(args[0]);
}

static int
verb_revoke(char **args)
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	int r;

	if (check_number(args[0]) < 0)
		return CG_EXIT_USAGE;
	if (arg_reason == NULL) {
		cg_log_error(
		    "revoke needs --reason TEXT: the reason is part of the public record.");
		return CG_EXIT_USAGE;
	}
	r = connect_bus(&bus);
	if (r < 0)
		return r;
	r = sd_bus_call_method(bus, CG_BUS_NAME, CG_OBJECT_PATH, CG_MANAGER_INTERFACE, "Revoke",
			       &error, NULL, "ss", args[0], arg_reason);
	if (r == -EINVAL && !sd_bus_error_is_set(&error)) {
		/* sd-bus refuses strings that are not UTF-8. */
		cg_log_error("--reason is not valid UTF-8 text.");
		return CG_EXIT_USAGE;
	}
	if (sd_bus_error_has_name(&error, CG_ERROR_PREFIX "NotFound")) {
		cg_log_error("No such certificate of yours: %s was not issued by one of your "
			     "generations (or does not exist).",
			     args[0]);
		return CG_EXIT_REFUSED;
	}
	if (r < 0)
		return cg_bus_log_error(&error, r, arg_scope);
	printf("Revoked certificate %s.\n", args[0]);
	return flush_stdout();
}

/* ---- command line ---- */

static const Verb verbs[] = {
    {"generate", 0, 0,
     OPT_JSON | OPT_TEMPLATE | OPT_TRANSACTION | OPT_DATA | OPT_OUTPUT | OPT_TIMEOUT | OPT_NO_WAIT |
	 OPT_POLL | OPT_PERSIST | OPT_DRY_RUN | OPT_CSV | OPT_SET | OPT_ZIP,
     verb_generate, "generate --data FILE|- | --csv FILE|-",
     "Start a generation and follow it until it ends",
     "Start a generation and follow it until it ends: a progress bar on a terminal,\n"
     "one line per update otherwise, one JSON object per update with --json.\n"
     "Ctrl-C (SIGINT) or SIGTERM cancels the generation and waits for it to stop.\n\n"
     "  -d --data=FILE|-      Recipient data as JSON: one recipient object, or\n"
     "                        {\"recipients\": [...], shared fields}; '-' reads stdin\n"
     "     --csv=FILE|-       Recipient data as CSV (RFC 4180, UTF-8): a header row\n"
     "                        naming the fields, then a row per recipient; an\n"
     "                        empty cell leaves the field out. Errors name the row\n"
     "                        (the header is row 1) and the column\n"
     "     --set=FIELD=VALUE  With --csv: a field shared by every recipient\n"
     "                        (repeatable; not also a column)\n"
     "  -t --template=ID      Template (default: classic)\n"
     "     --transaction=ID   Your own reference (default: certgenctl-PID-TIME)\n"
     "  -o --output=FILE      Save the PDF to FILE once completed (written to a\n"
     "                        temporary file and renamed; nothing otherwise);\n"
     "                        a FILE ending in .zip implies --zip\n"
     "     --zip              A ZIP of one PDF per recipient, named by its\n"
     "                        certificate number, and manifest.csv (number,\n"
     "                        recipient_name, sha256) (option output_format)\n"
     "     --timeout=SECONDS  End the generation as timed out after this long\n"
     "                        (option timeout_ms; certgend's default is 300)\n"
     "     --dry-run          Only load the template and validate the data\n"
     "                        (option validate_only): no file, no numbers\n"
     "     --no-wait          Print the generation's id and return at once\n"
     "     --persist          Keep the PDF in certgend until your cleanup, rather than\n"
     "                        for [cleanup] finished_ttl_s (option enable_persistence)\n"
     "     --poll             Poll GetProgress every 200 ms instead of using signals\n"
     "     --json             One JSON object per update, then a result object\n"},
    {"status", 1, 1, OPT_JSON, verb_status, "status ID", "Show the state of a generation",
     "Show the latest state of a generation (GetProgress).\n\n"
     "     --json             The snapshot as one JSON object\n"},
    {"watch", 1, 1, OPT_JSON | OPT_OUTPUT | OPT_POLL, verb_watch, "watch ID",
     "Follow a generation until it ends",
     "Follow a generation (yours, e.g. started elsewhere) until it ends, like generate.\n"
     "Ctrl-C stops watching; the generation keeps running.\n\n"
     "  -o --output=FILE      Save the PDF to FILE once completed\n"
     "     --poll             Poll GetProgress every 200 ms instead of using signals\n"
     "     --json             One JSON object per update, then a result object\n"},
    {"cancel", 1, 1, 0, verb_cancel, "cancel ID", "Cancel a generation",
     "Cancel a running generation. Prints nothing on success.\n"},
    {"analytics", 1, 1, OPT_JSON, verb_analytics, "analytics ID", "Show how long each stage took",
     "Show how long a generation and each of its stages took (GetAnalytics).\n\n"
     "     --json             The analytics as one JSON object\n"},
    {"list", 0, 0, OPT_JSON, verb_list, "list", "List generations",
     "List your generations (all of them for administrators), oldest first.\n\n"
     "     --json             One JSON array of snapshots\n"},
    {"fetch", 1, 1, OPT_OUTPUT, verb_fetch, "fetch ID --output FILE|-",
     "Save the PDF of a completed generation",
     "Save the PDF of a completed generation (OpenCertificate passes a file\n"
     "descriptor). The file is written to a temporary file and renamed.\n\n"
     "  -o --output=FILE|-    Where to save it; '-' writes to standard output\n"},
    {"preview", 0, 0, OPT_TEMPLATE | OPT_DATA | OPT_CSV | OPT_SET | OPT_PAGE | OPT_OUTPUT,
     verb_preview, "preview --data FILE [--page N] --output FILE.png",
     "Save one page as a PNG preview, issuing no number",
     "Render one page of what generate would make of the same data as a PNG image\n"
     "(RenderPreview, 96 dpi), marked as a preview: a diagonal PREVIEW watermark,\n"
     "and PREVIEW for the certificate number. No number is issued and certgend\n"
     "keeps nothing. The data is checked as generate checks it.\n\n"
     "  -d --data=FILE|-      Recipient data as JSON, as for generate\n"
     "     --csv=FILE|-       Recipient data as CSV, as for generate\n"
     "     --set=FIELD=VALUE  With --csv: a field shared by every recipient\n"
     "  -t --template=ID      Template (default: classic)\n"
     "     --page=N           Which page: recipient N of the data (default: 1)\n"
     "  -o --output=FILE|-    Where to save the PNG (written to a temporary file\n"
     "                        and renamed); '-' writes to standard output, never\n"
     "                        to a terminal\n"},
    {"templates", 0, 1, OPT_JSON, verb_templates, "templates [ID]",
     "List the templates, or show one",
     "List the templates certgend has (ListTemplates), or show one template's\n"
     "title, page size and data fields: the JSON keys of --data, with their\n"
     "labels, types, length limits, whether they are required and whether a\n"
     "batch may share them beside \"recipients\".\n\n"
     "     --json             One JSON array of templates (one object with ID)\n"},
    {"stats", 0, 0, OPT_JSON, verb_stats, "stats", "Show statistics of recent generations",
     "Show what the last finished generations took (GetStatistics): how many\n"
     "ended in each status and, per template, how many generations and pages,\n"
     "the median (p50) and 95th percentile (p95) of each stage and of a page.\n\n"
     "     --json             The statistics as one JSON object\n"},
    {"verify", 1, 2, OPT_JSON, verb_verify, "verify NUMBER CODE | verify FILE.pdf",
     "Check a certificate against certgend's registry",
     "Check a certificate (Verify): anyone may. With NUMBER CODE (the c= of the\n"
     "verification URL) show its public record: status (valid or revoked, with the\n"
     "date and reason), number, issue time, template, the printed fields and the\n"
     "SHA-256 of its data and of its file. With FILE.pdf read every page's\n"
     "verification link (the link over the QR code), verify each page, and check\n"
     "the file's SHA-256 against the registry: one line per page, then a verdict.\n"
     "Exits 0 only when every certificate is valid (and the file is unchanged),\n"
     "1 when one is revoked, changed or has no link, 6 for an unknown number or\n"
     "wrong code (certgend does not say which).\n\n"
     "     --json             The record (or the file's pages and verdict) as one\n"
     "                        JSON object\n"},
    {"revoke", 1, 1, OPT_REASON, verb_revoke, "revoke NUMBER --reason TEXT",
     "Revoke a certificate you issued",
     "Revoke a certificate (Revoke): the owner of the generation that issued it, or\n"
     "an administrator (manage-all). From then on verify shows it as revoked, with\n"
     "the date and the reason. Anyone else gets \"no such certificate\".\n\n"
     "     --reason=TEXT      Why (required; shown to everyone who verifies it)\n"},
    {"cleanup", 0, 0, OPT_JSON, verb_cleanup, "cleanup", "Forget finished generations now",
     "Forget your finished generations now (and delete their files).\n\n"
     "     --json             {\"removed\": N}\n"},
};

static const char exit_status_help[] = "Exit status:\n"
				       "  0  done; the generation completed\n"
				       "  1  the generation failed, a certificate is not "
				       "valid, or a local error\n"
				       "  2  usage error\n"
				       "  3  the generation was cancelled (or waiting was "
				       "interrupted)\n"
				       "  4  the generation timed out\n"
				       "  5  certgend is not running or left the bus, or no bus\n"
				       "  6  certgend refused the request (not found, invalid "
				       "argument, ...)\n";

static const char global_options_help[] =
    "Global options:\n"
    "  -h --help              Show this help, or a command's (COMMAND --help)\n"
    "     --version           Show the version\n"
    "     --system            Talk to certgend on the system bus (default)\n"
    "     --user, --session   Talk to certgend on the user's session bus\n";

static void
help(void)
{
	size_t i;

	printf("%s [OPTIONS...] COMMAND ...\n\n"
	       "Generate certificate PDFs with certgend and follow them live.\n\n"
	       "Commands:\n",
	       program_invocation_short_name);
	for (i = 0; i < ELEMENTSOF(verbs); i++)
		printf("  %-26s %s\n", verbs[i].synopsis, verbs[i].summary);
	printf("\n%s"
	       "\n"
	       "Command options (see COMMAND --help):\n"
	       "  -d --data=FILE|-  --csv=FILE|-  --set=FIELD=VALUE  -t --template=ID\n"
	       "  --transaction=ID  -o --output=FILE\n"
	       "  --timeout=SECONDS  --no-wait  --poll  --dry-run  --page=N  --reason=TEXT\n"
	       "  --json\n"
	       "\n%s\n"
	       "Environment: DBUS_SYSTEM_BUS_ADDRESS names the system bus; NO_COLOR turns\n"
	       "colours off; CERTGENCTL_DEBUG=1 prints debug messages.\n"
	       "See the certgenctl(1) man page for details.\n",
	       global_options_help, exit_status_help);
}

static void
verb_help(const Verb *v)
{
	printf("%s [OPTIONS...] %s\n\n%s\n%s\n%s", program_invocation_short_name, v->synopsis,
	       v->help, global_options_help, exit_status_help);
}

static int
parse_timeout(const char *s)
{
	char *end = NULL;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v <= 0.0)
		return -EINVAL;
	v = ceil(v * 1000.0);
	if (v > (double)UINT32_MAX)
		return -ERANGE;
	arg_timeout_ms = (uint32_t)v;
	return 0;
}

static int
take_timeout(const char *value)
{
	int r = parse_timeout(value);

	if (r < 0)
		cg_log_error("Invalid --timeout \"%s\": expected a number of seconds "
			     "greater than 0 and at most %u.",
			     value, UINT32_MAX / 1000);
	return r;
}

static int
take_page(const char *value)
{
	char *end = NULL;
	unsigned long long v;

	errno = 0;
	v = strtoull(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || value[0] == '-' || v == 0 ||
	    v > UINT32_MAX) {
		cg_log_error("Invalid --page \"%s\": expected a page number from 1 to %u.", value,
			     UINT32_MAX);
		return -EINVAL;
	}
	arg_page = (uint32_t)v;
	return 0;
}

/* --set FIELD=VALUE, once per field: kept in order (cg-csv checks them). */
static int
take_set(const char *value)
{
	char **set = realloc(arg_set, (arg_n_set + 2) * sizeof(*set));

	if (set == NULL)
		return cg_log_oom();
	arg_set = set;
	arg_set[arg_n_set++] = (char *)value;
	arg_set[arg_n_set] = NULL;
	return 0;
}

/* The options only some commands take: how each is spelled and where its
 * value goes (a string that must not be empty, a flag, or a parser). */
typedef struct {
	unsigned bit;
	const char *name;
	char short_name;
	const char **string;
	const char *needs; /* what an empty string option lacks */
	bool *flag;
	int (*parse)(const char *value);
} VerbOption;

static const VerbOption verb_options[] = {
    {OPT_JSON, "--json", 0, NULL, NULL, &arg_json, NULL},
    {OPT_TEMPLATE, "--template", 't', &arg_template, "a template id", NULL, NULL},
    {OPT_TRANSACTION, "--transaction", 0, &arg_transaction, "a non-empty id", NULL, NULL},
    {OPT_DATA, "--data", 'd', &arg_data, "a file name, or - for standard input", NULL, NULL},
    {OPT_OUTPUT, "--output", 'o', &arg_output, "a file name", NULL, NULL},
    {OPT_TIMEOUT, "--timeout", 0, NULL, NULL, NULL, take_timeout},
    {OPT_NO_WAIT, "--no-wait", 0, NULL, NULL, &arg_no_wait, NULL},
    {OPT_POLL, "--poll", 0, NULL, NULL, &arg_poll, NULL},
    {OPT_PERSIST, "--persist", 0, NULL, NULL, &arg_persist, NULL},
    {OPT_DRY_RUN, "--dry-run", 0, NULL, NULL, &arg_dry_run, NULL},
    {OPT_CSV, "--csv", 0, &arg_csv, "a file name, or - for standard input", NULL, NULL},
    {OPT_SET, "--set", 0, NULL, NULL, NULL, take_set},
    {OPT_ZIP, "--zip", 0, NULL, NULL, &arg_zip, NULL},
    {OPT_PAGE, "--page", 0, NULL, NULL, NULL, take_page},
    {OPT_REASON, "--reason", 0, &arg_reason, "a reason", NULL, NULL},
};

/* getopt's value for a verb option without a short name. */
#define ARG_VERB_OPTION 0x200

static int
take_verb_option(int c, const char *value)
{
	for (size_t i = 0; i < ELEMENTSOF(verb_options); i++) {
		const VerbOption *o = &verb_options[i];
		int r = 0;

		if (c != (o->short_name != 0 ? o->short_name : ARG_VERB_OPTION + (int)i))
			continue;
		if (o->flag != NULL) {
			*o->flag = true;
		} else if (o->parse != NULL) {
			r = o->parse(value);
		} else if (isempty(value)) {
			cg_log_error("%s needs %s.", o->name, o->needs);
			r = -EINVAL;
		} else {
			*o->string = value;
		}
		arg_given |= o->bit;
		return r;
	}
	return -EINVAL;
}

static int
parse_argv(int argc, char *argv[], bool *ret_version)
{
	enum {
		ARG_VERSION = 0x100,
		ARG_SYSTEM,
		ARG_USER,
	};
	static const struct option global_options[] = {
	    {"help", no_argument, NULL, 'h'},	       {"version", no_argument, NULL, ARG_VERSION},
	    {"system", no_argument, NULL, ARG_SYSTEM}, {"user", no_argument, NULL, ARG_USER},
	    {"session", no_argument, NULL, ARG_USER},
	};
	struct option options[ELEMENTSOF(global_options) + ELEMENTSOF(verb_options) + 1];
	char short_options[2 * ELEMENTSOF(verb_options) + 2] = "h";
	size_t n = 0;
	int c, r;

	memset(options, 0, sizeof(options));
	for (size_t i = 0; i < ELEMENTSOF(global_options); i++)
		options[n++] = global_options[i];
	for (size_t i = 0; i < ELEMENTSOF(verb_options); i++) {
		const VerbOption *o = &verb_options[i];
		bool takes_value = o->flag == NULL;

		options[n++] = (struct option){
		    o->name + 2, takes_value ? required_argument : no_argument, NULL,
		    o->short_name != 0 ? o->short_name : ARG_VERB_OPTION + (int)i};
		if (o->short_name != 0) {
			size_t len = strlen(short_options);

			short_options[len] = o->short_name;
			short_options[len + 1] = takes_value ? ':' : '\0';
		}
	}

	*ret_version = false;
	while ((c = getopt_long(argc, argv, short_options, options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			arg_help = true;
			break;
		case ARG_VERSION:
			*ret_version = true;
			break;
		case ARG_SYSTEM:
			arg_scope = CG_BUS_SYSTEM;
			break;
		case ARG_USER:
			arg_scope = CG_BUS_USER;
			break;
		case '?':
			/* getopt_long said what was wrong. */
			return -EINVAL;
		default:
			r = take_verb_option(c, optarg);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static const Verb *
find_verb(const char *name)
{
	size_t i;

	for (i = 0; i < ELEMENTSOF(verbs); i++)
		if (streq(verbs[i].name, name))
			return &verbs[i];
	return NULL;
}

/* Checks the verb's arguments and options; logs. */
static int
verify_usage(const Verb *v, int n_args)
{
	size_t i;

	if (n_args < (int)v->min_args) {
		cg_log_error("Missing argument: usage: %s %s", program_invocation_short_name,
			     v->synopsis);
		return -EINVAL;
	}
	if (n_args > (int)v->max_args) {
		cg_log_error("Too many arguments: usage: %s %s", program_invocation_short_name,
			     v->synopsis);
		return -EINVAL;
	}
	for (i = 0; i < ELEMENTSOF(verb_options); i++)
		if ((arg_given & verb_options[i].bit) && !(v->options & verb_options[i].bit)) {
			cg_log_error("Option %s does not apply to \"%s\".", verb_options[i].name,
				     v->name);
			return -EINVAL;
		}
	return 0;
}

/* A verb's result: >= 0 is the exit status, a negative errno is mapped. */
static int
exit_status(int r)
{
	if (r >= 0)
		return r;
	if (r == -CG_ERRNO_UNREACHABLE)
		return CG_EXIT_UNREACHABLE;
	if (r == -CG_ERRNO_REFUSED)
		return CG_EXIT_REFUSED;
	if (r == -EINTR)
		return CG_EXIT_CANCELLED;
	return CG_EXIT_FAILED;
}

int
main(int argc, char *argv[])
{
	const Verb *verb;
	bool version;
	int r;

	/* Only the character set: numbers (JSON!) stay in the C locale. */
	(void)setlocale(LC_CTYPE, "");
	cg_log_set_debug(!isempty(getenv("CERTGENCTL_DEBUG")) &&
			 !streq(getenv("CERTGENCTL_DEBUG"), "0"));

	r = parse_argv(argc, argv, &version);
	if (r < 0) {
		fprintf(stderr, "See \"%s --help\".\n", program_invocation_short_name);
		return CG_EXIT_USAGE;
	}
	if (version) {
		printf("certgenctl %s (sd-bus, libsystemd)\n", CG_VERSION);
		return CG_EXIT_SUCCESS;
	}

	if (optind >= argc) {
		if (arg_help) {
			help();
			return CG_EXIT_SUCCESS;
		}
		cg_log_error("Missing command. See \"%s --help\".", program_invocation_short_name);
		return CG_EXIT_USAGE;
	}
	verb = find_verb(argv[optind]);
	if (verb == NULL) {
		cg_log_error("Unknown command \"%s\". See \"%s --help\".", argv[optind],
			     program_invocation_short_name);
		return CG_EXIT_USAGE;
	}
	if (arg_help) {
		verb_help(verb);
		return CG_EXIT_SUCCESS;
	}
	if (verify_usage(verb, argc - optind - 1) < 0)
		return CG_EXIT_USAGE;

	r = exit_status(verb->run(argv + optind + 1));
	free(arg_set);
	return r;
}
