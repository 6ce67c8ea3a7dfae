/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-ctl-follow.h"

#include <signal.h>

#include "cg-ctl-csv.h"

struct CgFollow {
	sd_bus *bus;
	sd_event *event;
	CgBusScope scope;
	CgProgress *output;
	CgFollowFlags flags;

	char *owner; /* unique name of certgend */
	char *progress_id;

	bool polling;
	bool have_update;
	uint64_t last_sequence;
	CgUpdate *terminal;

	bool cancel_requested;
	bool interrupted;
	bool done; /* stop running the event loop */
	int error; /* negative errno that ended the wait */

	sd_bus_slot *progress_slot;
	sd_bus_slot *owner_slot;
	sd_bus_slot *disconnect_slot;
	sd_bus_slot *cancel_slot;
	sd_bus_slot *poll_slot;
	sd_event_source *poll_timer;
	sd_event_source *sigint_source;
	sd_event_source *sigterm_source;
};

static void
follow_finish(CgFollow *f, int error)
{
	if (f->error == 0)
		f->error = error;
	f->done = true;
}

static void
follow_handle_update(CgFollow *f, CgUpdate *update)
{
	_cleanup_(cg_update_freep) CgUpdate *u = update;

	if (f->terminal != NULL)
		return; /* the terminal update is the last one */
	if (!streq_ptr(u->progress_id, f->progress_id)) {
		cg_log_debug("Ignoring an update for %s.", strna(u->progress_id));
		return;
	}
	if (f->have_update && u->sequence <= f->last_sequence) {
		cg_log_debug("Dropping update %llu (already at %llu).",
			     (unsigned long long)u->sequence, (unsigned long long)f->last_sequence);
		return;
	}
	f->have_update = true;
	f->last_sequence = u->sequence;
	if ((f->flags & CG_FOLLOW_CSV_ROWS) && cg_ctl_csv_map_update(u) < 0) {
		follow_finish(f, cg_log_oom());
		return;
	}
	cg_progress_show(f->output, u);

	if (cg_update_is_terminal(u)) {
		f->terminal = TAKE_PTR(u);
		f->done = true;
	}
}

static int
on_progress_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	CgFollow *f = userdata;
	CgUpdate *u = NULL;
	const char *sender = sd_bus_message_get_sender(m), *id;
	int r;

	/* Anyone may send a signal: accept it only from certgend's unique name
	 * (the match says so too; this is the check that does not depend on
	 * how the bus routed it). */
	if (!streq_ptr(sender, f->owner)) {
		cg_log_debug("Ignoring ProgressChanged from %s: %s owns %s.", strna(sender),
			     strna(f->owner), CG_BUS_NAME);
		return 0;
	}
	if (f->progress_id == NULL)
		return 0;

	r = sd_bus_message_read(m, "s", &id);
	if (r < 0) {
		cg_bus_log_parse_error(r);
		return 0;
	}
	if (!streq(id, f->progress_id))
		return 0;

	r = cg_update_read(m, f->output->mode == CG_OUTPUT_JSON, &u);
	if (r < 0) {
		cg_bus_log_parse_error(r);
		return 0;
	}
	follow_handle_update(f, u);
	return 0;
}

static int
on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	CgFollow *f = userdata;
	const char *name, *old_owner, *new_owner;
	int r;

	r = sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner);
	if (r < 0) {
		cg_bus_log_parse_error(r);
		return 0;
	}
	if (!streq(name, CG_BUS_NAME) || f->owner == NULL || !streq(old_owner, f->owner))
		return 0;

	cg_log_error("certgend left the %s bus before generation %s ended.",
		     cg_bus_scope_to_string(f->scope), strna(f->progress_id));
	follow_finish(f, -CG_ERRNO_UNREACHABLE);
	return 0;
}

static int
on_disconnected(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	CgFollow *f = userdata;

	cg_log_error("Lost the connection to the %s bus.", cg_bus_scope_to_string(f->scope));
	follow_finish(f, -CG_ERRNO_UNREACHABLE);
	return 0;
}

static int
on_cancel_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	CgFollow *f = userdata;
	const sd_bus_error *e;
	int r;

	f->cancel_slot = sd_bus_slot_unref(f->cancel_slot);
	if (!sd_bus_message_is_method_error(reply, NULL))
		return 0; /* the terminal "cancelled" update follows */

	e = sd_bus_message_get_error(reply);
	if (sd_bus_error_has_name(e, CG_ERROR_PREFIX "AlreadyFinished")) {
		/* It ended first; its terminal update tells how. */
		cg_log_debug("Generation %s had already finished.", strna(f->progress_id));
		return 0;
	}
	r = cg_bus_log_error(e, sd_bus_message_get_errno(reply), f->scope);
	if (r == -CG_ERRNO_UNREACHABLE)
		follow_finish(f, r);
	else
		cg_log_info("Still waiting for generation %s; press Ctrl-C again to stop waiting.",
			    strna(f->progress_id));
	return 0;
}

static int
on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	CgFollow *f = userdata;
	int r;

	if (!(f->flags & CG_FOLLOW_CANCEL_ON_SIGNAL) || f->cancel_requested ||
	    f->progress_id == NULL) {
		if (f->progress_id != NULL)
			cg_log_info("Stopped waiting; generation %s %s.", f->progress_id,
				    f->cancel_requested ? "may still be running" : "keeps running");
		f->interrupted = true;
		f->done = true;
		return 0;
	}

	f->cancel_requested = true;
	cg_log_info("Cancelling generation %s...", f->progress_id);
	r = sd_bus_call_method_async(f->bus, &f->cancel_slot, CG_BUS_NAME, CG_OBJECT_PATH,
				     CG_MANAGER_INTERFACE, "Cancel", on_cancel_reply, f, "s",
				     f->progress_id);
	if (r < 0) {
		cg_log_error_errno(r, "Failed to call Cancel: %s", cg_strerror(r));
		f->interrupted = true;
		f->done = true;
	}
	return 0;
}

static int on_poll_timer(sd_event_source *s, uint64_t usec, void *userdata);

static int
arm_poll_timer(CgFollow *f)
{
	int r;

	if (f->poll_timer == NULL)
		return sd_event_add_time_relative(f->event, &f->poll_timer, CLOCK_MONOTONIC,
						  CG_FOLLOW_POLL_INTERVAL_USEC, 0, on_poll_timer,
						  f);
	r = sd_event_source_set_time_relative(f->poll_timer, CG_FOLLOW_POLL_INTERVAL_USEC);
	if (r < 0)
		return r;
	return sd_event_source_set_enabled(f->poll_timer, SD_EVENT_ONESHOT);
}

static int
on_poll_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	CgFollow *f = userdata;
	CgUpdate *u = NULL;
	int r;

	f->poll_slot = sd_bus_slot_unref(f->poll_slot);
	if (sd_bus_message_is_method_error(reply, NULL)) {
		r = cg_bus_log_error(sd_bus_message_get_error(reply),
				     sd_bus_message_get_errno(reply), f->scope);
		follow_finish(f, r);
		return 0;
	}
	r = cg_update_read(reply, f->output->mode == CG_OUTPUT_JSON, &u);
	if (r < 0) {
		follow_finish(f, cg_bus_log_parse_error(r));
		return 0;
	}
	follow_handle_update(f, u);
	if (f->terminal == NULL) {
		r = arm_poll_timer(f);
		if (r < 0)
			follow_finish(f, cg_log_error_errno(r, "Failed to arm the poll timer: %s",
							    cg_strerror(r)));
	}
	return 0;
}

static int
on_poll_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	CgFollow *f = userdata;
	int r;

	if (f->poll_slot != NULL)
		return 0; /* a call is still on its way */
	r = sd_bus_call_method_async(f->bus, &f->poll_slot, CG_BUS_NAME, CG_OBJECT_PATH,
				     CG_MANAGER_INTERFACE, "GetProgress", on_poll_reply, f, "s",
				     f->progress_id);
	if (r < 0)
		follow_finish(
		    f, cg_log_error_errno(r, "Failed to call GetProgress: %s", cg_strerror(r)));
	return 0;
}

CgFollow *
cg_follow_free(CgFollow *f)
{
	if (f == NULL)
		return NULL;
	sd_bus_slot_unref(f->progress_slot);
	sd_bus_slot_unref(f->owner_slot);
	sd_bus_slot_unref(f->disconnect_slot);
	sd_bus_slot_unref(f->cancel_slot);
	sd_bus_slot_unref(f->poll_slot);
	sd_event_source_disable_unref(f->poll_timer);
	sd_event_source_disable_unref(f->sigint_source);
	sd_event_source_disable_unref(f->sigterm_source);
	if (f->bus != NULL) {
		(void)sd_bus_detach_event(f->bus);
		sd_bus_unref(f->bus);
	}
	sd_event_unref(f->event);
	cg_update_free(f->terminal);
	free(f->owner);
	free(f->progress_id);
	free(f);
	return NULL;
}

bool
cg_follow_is_polling(const CgFollow *f)
{
	return f->polling;
}

int
cg_follow_new(sd_bus *bus, CgBusScope scope, CgProgress *output, CgFollowFlags flags,
	      CgFollow **ret)
{
	_cleanup_(cg_follow_freep) CgFollow *f = NULL;
	_cleanup_free_ char *rule = NULL;
	int r;

	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return cg_log_oom();
	f->bus = sd_bus_ref(bus);
	f->scope = scope;
	f->output = output;
	f->flags = flags;

	r = sd_event_default(&f->event);
	if (r < 0)
		return cg_log_error_errno(r, "Failed to get an event loop: %s", cg_strerror(r));
	r = sd_bus_attach_event(bus, f->event, SD_EVENT_PRIORITY_NORMAL);
	if (r < 0)
		return cg_log_error_errno(r, "Failed to attach the bus to the event loop: %s",
					  cg_strerror(r));

	/* sd-bus synthesizes this local signal when the connection closes. */
	r = sd_bus_match_signal(bus, &f->disconnect_slot, "org.freedesktop.DBus.Local",
				"/org/freedesktop/DBus/Local", "org.freedesktop.DBus.Local",
				"Disconnected", on_disconnected, f);
	if (r < 0)
		return cg_log_error_errno(r, "Failed to watch for disconnection: %s",
					  cg_strerror(r));

	/* Watch the owner before asking for it, so a restart in between is
	 * noticed. Not fatal: without it a vanished certgend shows as a failed
	 * call or a disconnection later. */
	r = sd_bus_add_match(bus, &f->owner_slot,
			     "type='signal',sender='org.freedesktop.DBus',"
			     "path='/org/freedesktop/DBus',interface='org.freedesktop.DBus',"
			     "member='NameOwnerChanged',arg0='" CG_BUS_NAME "'",
			     on_name_owner_changed, f);
	if (r < 0)
		cg_log_debug("Cannot watch the owner of %s: %s", CG_BUS_NAME, strerror(-r));

	r = cg_bus_get_owner(bus, scope, &f->owner);
	if (r < 0)
		return r;
	cg_log_debug("%s is owned by %s.", CG_BUS_NAME, f->owner);

	if (flags & CG_FOLLOW_POLL)
		f->polling = true;
	else {
		if (asprintf(&rule,
			     "type='signal',sender='%s',path='" CG_OBJECT_PATH "',"
			     "interface='" CG_MANAGER_INTERFACE "',member='ProgressChanged'",
			     f->owner) < 0)
			return cg_log_oom();
		r = sd_bus_add_match(bus, &f->progress_slot, rule, on_progress_changed, f);
		if (r < 0) {
			/* Graceful degradation: follow by asking. */
			cg_log_warning(
			    "Cannot receive ProgressChanged signals (%s); polling "
			    "GetProgress every %llu ms instead.",
			    strerror(-r),
			    (unsigned long long)(CG_FOLLOW_POLL_INTERVAL_USEC / USEC_PER_MSEC));
			f->polling = true;
		}
	}

	r = sd_event_add_signal(f->event, &f->sigint_source, SIGINT | SD_EVENT_SIGNAL_PROCMASK,
				on_signal, f);
	if (r < 0)
		return cg_log_error_errno(r, "Failed to handle SIGINT: %s", cg_strerror(r));
	r = sd_event_add_signal(f->event, &f->sigterm_source, SIGTERM | SD_EVENT_SIGNAL_PROCMASK,
				on_signal, f);
	if (r < 0)
		return cg_log_error_errno(r, "Failed to handle SIGTERM: %s", cg_strerror(r));

	*ret = TAKE_PTR(f);
	return 0;
}

/* Shows what has arrived already, then the current state. */
static int
follow_catch_up(CgFollow *f)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	CgUpdate *u = NULL;
	int r;

	/* Dispatch what has arrived already (updates sent before the reply to
	 * StartGeneration or Subscribe), so the early stages are shown too. */
	for (;;) {
		r = sd_bus_process(f->bus, NULL);
		if (r < 0)
			return cg_bus_log_error(NULL, r, f->scope);
		if (r == 0 || f->done)
			break;
	}
	if (f->done)
		return 0;

	/* Catch up: everything sent before this reply is at or below its
	 * sequence and will be dropped when the queued signals are dispatched. */
	r = cg_bus_call(f->bus, f->scope, "GetProgress", &reply, "s", f->progress_id);
	if (r < 0)
		return r;
	r = cg_update_read(reply, f->output->mode == CG_OUTPUT_JSON, &u);
	if (r < 0)
		return cg_bus_log_parse_error(r);
	follow_handle_update(f, u);
	return 0;
}

int
cg_follow_run(CgFollow *f, const char *progress_id, CgUpdate **ret_terminal)
{
	int r;

	free(f->progress_id);
	f->progress_id = strdup(progress_id);
	if (f->progress_id == NULL)
		return cg_log_oom();

	if (f->flags & CG_FOLLOW_SUBSCRIBE) {
		r = cg_bus_call(f->bus, f->scope, "Subscribe", NULL, "s", progress_id);
		if (r < 0)
			return r;
	}

	r = follow_catch_up(f);
	if (r < 0)
		return r;

	if (!f->done && f->polling) {
		r = arm_poll_timer(f);
		if (r < 0)
			return cg_log_error_errno(r, "Failed to arm the poll timer: %s",
						  cg_strerror(r));
	}
	/* Not sd_event_loop()/sd_event_exit(): leaving the loop that way runs
	 * sd-bus's exit handler, which closes the connection, and the bus is
	 * still needed afterwards (OpenCertificate). */
	while (!f->done) {
		r = sd_event_run(f->event, UINT64_MAX);
		if (r < 0)
			return cg_log_error_errno(r, "Event loop failed: %s", cg_strerror(r));
	}

	if (f->terminal != NULL) {
		*ret_terminal = TAKE_PTR(f->terminal);
		return 0;
	}
	cg_progress_end(f->output);
	if (f->error < 0)
		return f->error;
	return -EINTR;
}
