/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-pipeline.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cg-data.h"
#include "cg-error.h"
#include "cg-issue.h"
#include "cg-output.h"
#include "cg-pdf-batch.h"
#include "cg-render.h"
#include "cg-verification.h"
#include "cg-zip-batch.h"
#include "cg-zip.h"

/* Where a job is; changed under CgPipeline.jobs_lock. */
typedef enum {
	CG_JOB_NEW,	  /* being submitted */
	CG_JOB_QUEUED,	  /* waiting for a worker, in CgPipeline.jobs */
	CG_JOB_TAKEN,	  /* a worker runs it */
	CG_JOB_WITHDRAWN, /* cancelled while waiting: no worker will see it */
} CgJobState;

typedef struct {
	CgGeneration *generation; /* a reference; its id is immutable, read by the worker */
	char *template_id;
	char *data_json;
	guint32 owner_uid;
	char *owner_label;
	gint64 issued_at_us;
	gboolean validate_only; /* stop after data_validation: no file, no numbers */
	CgOutputFormat output_format;
	GCancellable *cancellable;
	gulong cancelled_id; /* g_cancellable_connect() while queued */
	CgPipeline *pipeline;
	CgJobState state;
	GList link; /* in CgPipeline.jobs while queued */
} CgJob;

typedef struct {
	CgGeneration *generation; /* a reference */
	gboolean done;
	CgStage stage;
	guint stage_progress;
	guint pages_done;
	guint pages_total;
	char *message;
	CgResult *result;
	GError *error;
	CgProblems *problems; /* of data validation, beside its error */
	CgJob *withdrawn;     /* freed on the main context, once delivered */
} CgEvent;

/*
 * The workers are the pipeline's own joinable threads, not a GThreadPool:
 * a pool's threads outlive g_thread_pool_free() (GLib keeps idle ones for
 * other pools, or lets them exit whenever), and a worker's thread-local
 * render cache (poppler documents, pango contexts) is freed when its thread
 * exits. cg_pipeline_free() joins every worker, so that happens before it
 * returns, never during exit() (where it raced poppler's static
 * destructors: a double free at SIGTERM).
 */
struct _CgPipeline {
	CgPipelineConfig config;
	char *output_dir;
	GMainContext *context;
	CgPipelineProgressFunc progress;
	CgPipelineDoneFunc done;
	gpointer user_data;

	GMutex lock; /* protects events and source */
	GQueue events;
	GSource *source;

	GMutex jobs_lock; /* protects jobs, help, threads, n_idle, stopping */
	GCond jobs_cond;
	GQueue jobs; /* CgJob, oldest first */
	/* CgHelp: ZIP and PDF batches running, whose pages idle workers
	 * render too (queued jobs come first) */
	GQueue help;
	GPtrArray *threads;
	guint n_idle;
	gboolean stopping;
};

/* A batch other workers may help with: one of the two is set (a
 * reference). */
typedef struct {
	CgZipBatch *zip;
	CgPdfBatch *pdf;
} CgHelp;

static void
cg_help_free(CgHelp *help)
{
	cg_zip_batch_unref(help->zip);
	cg_pdf_batch_unref(help->pdf);
	g_free(help);
}

static CgHelp *
cg_help_copy(const CgHelp *help)
{
	CgHelp *copy = g_new0(CgHelp, 1);

	copy->zip = help->zip != NULL ? cg_zip_batch_ref(help->zip) : NULL;
	copy->pdf = help->pdf != NULL ? cg_pdf_batch_ref(help->pdf) : NULL;
	return copy;
}

static gboolean
cg_help_wanted(const CgHelp *help)
{
	return help->zip != NULL ? cg_zip_batch_wants_help(help->zip)
				 : cg_pdf_batch_wants_help(help->pdf);
}

/* What a running job needs to report. */
typedef struct {
	CgPipeline *pipeline;
	const CgJob *job;
	guint pages_total;
} CgReporter;

static void
cg_job_free(CgJob *job)
{
	g_clear_pointer(&job->generation, cg_generation_unref);
	g_free(job->template_id);
	g_free(job->data_json);
	g_free(job->owner_label);
	g_clear_object(&job->cancellable);
	g_free(job);
}

static void
cg_event_free(CgEvent *event)
{
	if (event->withdrawn != NULL) {
		/* Its ::cancelled emission is over: the handler can go. */
		g_cancellable_disconnect(event->withdrawn->cancellable,
					 event->withdrawn->cancelled_id);
		cg_job_free(event->withdrawn);
	}
	g_clear_pointer(&event->generation, cg_generation_unref);
	g_free(event->message);
	g_clear_pointer(&event->result, cg_result_free);
	g_clear_error(&event->error);
	g_clear_pointer(&event->problems, cg_problems_free);
	g_free(event);
}

static gboolean
deliver_events_cb(gpointer user_data)
{
	CgPipeline *pipeline = user_data;
	GQueue events = G_QUEUE_INIT;
	CgEvent *event;

	g_mutex_lock(&pipeline->lock);
	events = pipeline->events;
	g_queue_init(&pipeline->events);
	if (pipeline->source != NULL) {
		g_source_destroy(pipeline->source);
		g_clear_pointer(&pipeline->source, g_source_unref);
	}
	g_mutex_unlock(&pipeline->lock);

	while ((event = g_queue_pop_head(&events)) != NULL) {
		if (event->done)
			pipeline->done(event->generation, event->result, event->error,
				       event->problems, pipeline->user_data);
		else
			pipeline->progress(event->generation, event->stage, event->stage_progress,
					   event->pages_done, event->pages_total, event->message,
					   pipeline->user_data);
		cg_event_free(event);
	}
	return G_SOURCE_REMOVE;
}

/* Any thread: queue @event for the main context. */
static void
push_event(CgPipeline *pipeline, CgEvent *event)
{
	g_mutex_lock(&pipeline->lock);
	g_queue_push_tail(&pipeline->events, event);
	if (pipeline->source == NULL) {
		pipeline->source = g_idle_source_new();
		g_source_set_priority(pipeline->source, G_PRIORITY_DEFAULT);
		g_source_set_callback(pipeline->source, deliver_events_cb, pipeline, NULL);
		g_source_set_static_name(pipeline->source, "[certgen] pipeline reports");
		g_source_attach(pipeline->source, pipeline->context);
	}
	g_mutex_unlock(&pipeline->lock);
}

static void
report(CgReporter *reporter, CgStage stage, guint percent, guint pages_done, const char *message)
{
	CgEvent *event = g_new0(CgEvent, 1);

	event->generation = cg_generation_ref(reporter->job->generation);
	event->stage = stage;
	event->stage_progress = percent;
	event->pages_done = pages_done;
	event->pages_total = reporter->pages_total;
	event->message = g_strdup(message);
	push_event(reporter->pipeline, event);
}

static gboolean
page_done_cb(guint pages_done, guint pages_total, gpointer user_data)
{
	CgReporter *reporter = user_data;
	guint percent = pages_total > 0 ? pages_done * 100u / pages_total : 100u;
	g_autofree char *message = NULL;

	if (g_cancellable_is_cancelled(reporter->job->cancellable))
		return FALSE;
	/* Every page is reported; the tracker coalesces to the caller's
	 * update_interval_ms. */
	message = g_strdup_printf("Rendered page %u of %u", pages_done, pages_total);
	report(reporter, CG_STAGE_PDF_GENERATION, percent, pages_done, message);
	return TRUE;
}

static gpointer worker_thread(gpointer user_data);

/* Under jobs_lock: one more worker thread, when the pool is not full. */
static gboolean
start_worker(CgPipeline *pipeline, GError **error)
{
	GThread *thread;

	if (pipeline->threads->len >= pipeline->config.threads)
		return TRUE;
	thread = g_thread_try_new("certgen-worker", worker_thread, pipeline, error);
	if (thread == NULL)
		return pipeline->threads->len > 0;
	g_ptr_array_add(pipeline->threads, thread);
	pipeline->n_idle++;
	return TRUE;
}

/* Offers @help (borrowed) to idle workers (or one more, when the pool has
 * room); returns the queued copy, for offer_end(). */
static CgHelp *
offer_help(CgPipeline *pipeline, const CgHelp *help, gboolean wanted)
{
	CgHelp *queued = NULL;

	if (!wanted || pipeline->config.threads <= 1)
		return NULL;
	g_mutex_lock(&pipeline->jobs_lock);
	queued = cg_help_copy(help);
	g_queue_push_tail(&pipeline->help, queued);
	if (pipeline->n_idle == 0)
		start_worker(pipeline, NULL); /* no helper: this one does it all */
	g_cond_broadcast(&pipeline->jobs_cond);
	g_mutex_unlock(&pipeline->jobs_lock);
	return queued;
}

static void
offer_end(CgPipeline *pipeline, CgHelp *queued)
{
	if (queued == NULL)
		return;
	g_mutex_lock(&pipeline->jobs_lock);
	if (g_queue_remove(&pipeline->help, queued))
		cg_help_free(queued);
	g_mutex_unlock(&pipeline->jobs_lock);
}

/* A ZIP batch's pages are independent PDFs: idle workers render them too,
 * while this one writes them in order; per-page progress comes from the
 * rendering, counted in order (as for a PDF batch). */
static gboolean
run_zip(CgReporter *reporter, CgTemplate *tmpl, const CgData *data, const CgRenderParams *params,
	CgOutput *output, GStrv *member_sha256, GError **error)
{
	CgPipeline *pipeline = reporter->pipeline;
	g_autoptr(CgZipBatch) batch = cg_zip_batch_new(tmpl, data, params, page_done_cb, reporter,
						       reporter->job->cancellable);
	CgHelp help = {batch, NULL};
	CgHelp *queued = offer_help(pipeline, &help, cg_data_get_n_recipients(data) > 1);
	gboolean ok;

	ok = cg_zip_batch_run(batch, cg_output_write, output, error);
	offer_end(pipeline, queued);
	if (ok)
		*member_sha256 = g_strdupv((char **)cg_zip_batch_get_member_sha256(batch));
	return ok;
}

/* A PDF batch of more than one range (cg-pdf-batch.h): idle workers render
 * ranges too; this one joins them. */
static gboolean
run_pdf(CgReporter *reporter, CgTemplate *tmpl, const CgData *data, const CgRenderParams *params,
	CgOutput *output, GError **error)
{
	CgPipeline *pipeline = reporter->pipeline;
	g_autoptr(CgPdfBatch) batch = cg_pdf_batch_new(tmpl, data, params, page_done_cb, reporter,
						       reporter->job->cancellable);
	guint n = cg_data_get_n_recipients(data);
	CgHelp help = {NULL, batch};
	CgHelp *queued = offer_help(pipeline, &help, n > cg_pdf_batch_range_pages(n));
	gboolean ok;

	ok = cg_pdf_batch_run(batch, cg_output_write, output, error);
	offer_end(pipeline, queued);
	return ok;
}

/* The registry rows of the job's pages (file_preparation). */
static gboolean
register_pages(const CgPipelineConfig *config, const CgJob *job, const CgIssue *issue,
	       CgTemplate *tmpl, const CgData *data, const CgRenderParams *params,
	       const CgOutput *output, const char *const *member_sha256, GError **error)
{
	CgRegistryIssue shared = {
	    .progress_id = cg_generation_get_id(job->generation),
	    .owner_uid = job->owner_uid,
	    .owner_label = job->owner_label,
	    .template_id = job->template_id,
	    .issued_at_us = job->issued_at_us,
	    .file_sha256 = cg_output_get_checksum(output),
	};

	/* a ZIP's certificates are its member PDFs: each row has its own hash,
	 * the one `certgenctl verify FILE.pdf` finds in a member */
	return cg_issue_register(issue, config->registry, tmpl, data, &shared, params->first_number,
				 member_sha256, error);
}

static CgResult *
run_job(const CgPipelineConfig *config, const char *output_dir, const CgJob *job,
	CgReporter *reporter, CgProblems **problems, GError **error)
{
	g_autoptr(CgTemplate) tmpl = NULL;
	g_autoptr(CgData) data = NULL;
	g_autoptr(CgOutput) output = NULL;
	g_autoptr(CgResult) result = NULL;
	g_autoptr(CgIssue) issue = NULL;
	g_autofree char *file_name = NULL;
	g_autofree char *message = NULL;
	g_auto(GStrv) member_sha256 = NULL;
	CgRenderParams params = {0};
	gboolean zip = job->output_format == CG_OUTPUT_FORMAT_ZIP;
	guint pages;

	report(reporter, CG_STAGE_INITIALIZING, 100, 0, "Worker started");
	if (g_cancellable_set_error_if_cancelled(job->cancellable, error))
		return NULL;

	message = g_strdup_printf("Loading template %s", job->template_id);
	report(reporter, CG_STAGE_TEMPLATE_LOADING, 0, 0, message);
	tmpl = cg_template_store_load(config->templates, job->template_id, job->cancellable, error);
	if (tmpl == NULL)
		return NULL;
	report(reporter, CG_STAGE_TEMPLATE_LOADING, 100, 0, "Template loaded");
	if (g_cancellable_set_error_if_cancelled(job->cancellable, error))
		return NULL;

	report(reporter, CG_STAGE_DATA_VALIDATION, 0, 0, "Validating data");
	data = cg_data_parse_full(job->data_json, strlen(job->data_json),
				  cg_template_get_rules(tmpl), config->max_data_bytes,
				  config->max_recipients, job->cancellable, problems, error);
	if (data == NULL)
		return NULL;
	pages = data->recipients->len;
	reporter->pages_total = pages;
	g_free(message);
	message = g_strdup_printf("%u recipient%s valid", pages, pages == 1 ? "" : "s");
	report(reporter, CG_STAGE_DATA_VALIDATION, 100, 0, message);
	if (g_cancellable_set_error_if_cancelled(job->cancellable, error))
		return NULL;
	if (job->validate_only) {
		/* no counter reserved, no file: the pages are the whole result */
		result = g_new0(CgResult, 1);
		result->pages = pages;
		return g_steal_pointer(&result);
	}

	report(reporter, CG_STAGE_PDF_GENERATION, 0, 0, "Rendering");
	/* Numbers are committed as used before any page holds one: a crash
	 * from here on skips them, never issues them twice. */
	if (!cg_registry_reserve(config->registry, pages, &params.first_number, error))
		return NULL;
	issue = cg_issue_new(pages, error);
	if (issue == NULL)
		return NULL;
	params.issued_at_us = job->issued_at_us;
	params.base_url = config->base_url;
	params.codes = cg_issue_get_codes(issue);
	file_name = g_strdup_printf("%s.%s", cg_generation_get_id(job->generation),
				    cg_output_format_to_string(job->output_format));
	output = cg_output_new(output_dir, file_name, error);
	if (output == NULL)
		return NULL;
	if (!(zip ? run_zip(reporter, tmpl, data, &params, output, &member_sha256, error)
		  : run_pdf(reporter, tmpl, data, &params, output, error))) {
		cg_output_take_write_error(output, error);
		return NULL;
	}

	report(reporter, CG_STAGE_FILE_PREPARATION, 0, pages, "Writing and verifying the file");
	if (g_cancellable_set_error_if_cancelled(job->cancellable, error))
		return NULL;
	/* a ZIP: the member PDFs and manifest.csv, read back with libarchive */
	if (!(zip ? cg_output_commit_verified(output, cg_zip_verify, GUINT_TO_POINTER(pages + 1),
					      error)
		  : cg_output_commit(output, pages, error)))
		return NULL;
	/* The file is durably in place; its rows are committed now, in one
	 * transaction, or the file goes: never a row without its file (a crash
	 * before the commit leaves a file without rows, which the startup
	 * sweep removes). Cancelled while committing: no file either. */
	if (g_cancellable_set_error_if_cancelled(job->cancellable, error) ||
	    !register_pages(config, job, issue, tmpl, data, &params, output,
			    (const char *const *)member_sha256, error)) {
		if (g_unlink(cg_output_get_path(output)) != 0 && errno != ENOENT)
			g_warning("Could not remove %s: %s", cg_output_get_path(output),
				  g_strerror(errno));
		return NULL;
	}
	report(reporter, CG_STAGE_FILE_PREPARATION, 100, pages, "File ready");

	result = g_new0(CgResult, 1);
	result->certificate_number =
	    cg_render_certificate_number(job->issued_at_us, params.first_number);
	result->last_certificate_number =
	    cg_render_certificate_number(job->issued_at_us, params.first_number + pages - 1);
	result->file_size = cg_output_get_size(output);
	result->checksum = g_strdup(cg_output_get_checksum(output));
	result->pages = pages;
	result->path = g_strdup(cg_output_get_path(output));
	result->verification_url = cg_verification_url(config->base_url, result->certificate_number,
						       cg_issue_get_codes(issue)[0]);
	return g_steal_pointer(&result);
}

/* Under jobs_lock: a batch that wants help (a copy), dropping those that
 * no longer do. */
static CgHelp *
take_help(CgPipeline *pipeline)
{
	CgHelp *help;

	while ((help = g_queue_peek_head(&pipeline->help)) != NULL) {
		if (cg_help_wanted(help))
			return cg_help_copy(help);
		cg_help_free(g_queue_pop_head(&pipeline->help));
	}
	return NULL;
}

/* Worker thread: the next job, else (*@help) a batch to help with, or
 * neither when the pipeline stops. A new worker is counted idle from its
 * start, others once their work is done. */
static CgJob *
take_job(CgPipeline *pipeline, gboolean first, CgHelp **help)
{
	CgJob *job = NULL;

	g_mutex_lock(&pipeline->jobs_lock);
	if (!first)
		pipeline->n_idle++;
	while (!pipeline->stopping && g_queue_is_empty(&pipeline->jobs) &&
	       (*help = take_help(pipeline)) == NULL)
		g_cond_wait(&pipeline->jobs_cond, &pipeline->jobs_lock);
	pipeline->n_idle--;
	if (!pipeline->stopping && *help == NULL) {
		GList *link = g_queue_pop_head_link(&pipeline->jobs);

		job = link->data;
		job->state = CG_JOB_TAKEN;
	}
	g_mutex_unlock(&pipeline->jobs_lock);
	/* Outside the lock: a ::cancelled handler running now in another
	 * thread finishes first (it sees CG_JOB_TAKEN and leaves the job). */
	if (job != NULL) {
		g_cancellable_disconnect(job->cancellable, job->cancelled_id);
		job->cancelled_id = 0;
	}
	return job;
}

/* A helper leaves a batch when jobs wait that no idle worker takes. */
static gboolean
helper_should_leave(gpointer user_data)
{
	CgPipeline *pipeline = user_data;
	gboolean leave;

	g_mutex_lock(&pipeline->jobs_lock);
	leave = pipeline->stopping || pipeline->jobs.length > pipeline->n_idle;
	g_mutex_unlock(&pipeline->jobs_lock);
	return leave;
}

/* Rendering is background work: a worker runs CG_WORKER_NICE steps below
 * the main thread, so the main loop (method replies, ProgressChanged), the
 * bus daemon and the clients on this host are never starved of CPU by the
 * pages. When nothing else wants the CPU the workers get all of it, so a
 * batch alone is as fast as before. On Linux a nice value is per thread. */
#define CG_WORKER_NICE 10

static void
lower_worker_priority(void)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);
	int now;

	errno = 0;
	now = getpriority(PRIO_PROCESS, (id_t)tid);
	if (errno == 0 && now < CG_WORKER_NICE &&
	    setpriority(PRIO_PROCESS, (id_t)tid, CG_WORKER_NICE) != 0)
		g_debug("Could not lower a worker's CPU priority: %s", g_strerror(errno));
}

static gpointer
worker_thread(gpointer user_data)
{
	CgPipeline *pipeline = user_data;
	CgHelp *help = NULL;
	gboolean first = TRUE;
	CgJob *job;

	lower_worker_priority();
	for (; (job = take_job(pipeline, first, &help)) != NULL || help != NULL; first = FALSE) {
		CgReporter reporter = {pipeline, job, 0};
		CgEvent *event;
		gsize data_length;

		if (help != NULL) {
			if (help->zip != NULL)
				cg_zip_batch_help(help->zip, helper_should_leave, pipeline);
			else
				cg_pdf_batch_help(help->pdf, helper_should_leave, pipeline);
			g_clear_pointer(&help, cg_help_free);
			continue;
		}
		event = g_new0(CgEvent, 1);
		event->done = TRUE;
		event->result = run_job(&pipeline->config, pipeline->output_dir, job, &reporter,
					&event->problems, &event->error);
		/* The last reference may go on the main context, not here. */
		event->generation = g_steal_pointer(&job->generation);
		push_event(pipeline, event);
		data_length = strlen(job->data_json);
		cg_job_free(job);
		cg_data_release_memory(data_length);
	}
	return NULL;
}

CgPipeline *
cg_pipeline_new(const CgPipelineConfig *config, CgPipelineProgressFunc progress,
		CgPipelineDoneFunc done, gpointer user_data)
{
	CgPipeline *pipeline = g_new0(CgPipeline, 1);

	pipeline->config = *config;
	pipeline->config.threads = MAX(1u, config->threads);
	pipeline->output_dir = g_strdup(config->output_dir);
	pipeline->config.output_dir = pipeline->output_dir;
	pipeline->progress = progress;
	pipeline->done = done;
	pipeline->user_data = user_data;
	pipeline->context = g_main_context_ref_thread_default();
	g_mutex_init(&pipeline->lock);
	g_queue_init(&pipeline->events);
	g_mutex_init(&pipeline->jobs_lock);
	g_cond_init(&pipeline->jobs_cond);
	g_queue_init(&pipeline->jobs);
	g_queue_init(&pipeline->help);
	pipeline->threads = g_ptr_array_new();
	return pipeline;
}

void
cg_pipeline_free(CgPipeline *pipeline)
{
	if (pipeline == NULL)
		return;
	/* Stop the workers once their current job ends and join them: when
	 * this returns, no worker thread (nor its thread-local state) is
	 * left. Queued jobs are dropped unrun (the caller cancels first, which
	 * withdraws them with a report). */
	g_mutex_lock(&pipeline->jobs_lock);
	pipeline->stopping = TRUE;
	g_cond_broadcast(&pipeline->jobs_cond);
	g_mutex_unlock(&pipeline->jobs_lock);
	for (guint i = 0; i < pipeline->threads->len; i++)
		g_thread_join(pipeline->threads->pdata[i]);
	g_ptr_array_unref(pipeline->threads);
	while (!g_queue_is_empty(&pipeline->jobs)) {
		CgJob *job = g_queue_pop_head_link(&pipeline->jobs)->data;

		g_cancellable_disconnect(job->cancellable, job->cancelled_id);
		cg_job_free(job);
	}
	g_queue_clear_full(&pipeline->help, (GDestroyNotify)cg_help_free);
	/* The workers are gone: hand over their last reports now. */
	deliver_events_cb(pipeline);
	g_mutex_lock(&pipeline->lock);
	if (pipeline->source != NULL) {
		g_source_destroy(pipeline->source);
		g_clear_pointer(&pipeline->source, g_source_unref);
	}
	g_queue_clear_full(&pipeline->events, (GDestroyNotify)cg_event_free);
	g_mutex_unlock(&pipeline->lock);
	g_mutex_clear(&pipeline->lock);
	g_mutex_clear(&pipeline->jobs_lock);
	g_cond_clear(&pipeline->jobs_cond);
	g_main_context_unref(pipeline->context);
	g_free(pipeline->output_dir);
	g_free(pipeline);
}

static CgJob *
cg_job_new(CgGeneration *generation, const char *template_id, const char *data_json,
	   const CgGenerationOptions *options, gint64 issued_at_us)
{
	CgJob *job = g_new0(CgJob, 1);

	job->output_format = options != NULL ? options->output_format : CG_OUTPUT_FORMAT_PDF;
	job->generation = cg_generation_ref(generation);
	job->template_id = g_strdup(template_id);
	job->data_json = g_strdup(data_json);
	job->owner_uid = cg_generation_get_owner_uid(generation);
	job->owner_label = g_strdup(cg_generation_get_owner_label(generation));
	job->issued_at_us = issued_at_us;
	job->validate_only = cg_generation_get_validate_only(generation);
	job->cancellable = cg_generation_ref_cancellable(generation);
	job->link.data = job;
	return job;
}

/* The job's cancellable fired (in the thread that cancelled it): a job no
 * worker has taken yet leaves the queue at once and its end is reported
 * now, instead of when a worker would have reached it. */
static void
job_cancelled_cb(GCancellable *cancellable, gpointer user_data)
{
	CgJob *job = user_data;
	CgPipeline *pipeline = NULL;
	CgEvent *event;

	g_mutex_lock(&job->pipeline->jobs_lock);
	if (job->state == CG_JOB_QUEUED || job->state == CG_JOB_NEW) {
		if (job->state == CG_JOB_QUEUED)
			g_queue_unlink(&job->pipeline->jobs, &job->link);
		job->state = CG_JOB_WITHDRAWN;
		pipeline = job->pipeline;
	}
	g_mutex_unlock(&job->pipeline->jobs_lock);
	if (pipeline == NULL)
		return;
	event = g_new0(CgEvent, 1);
	event->generation = cg_generation_ref(job->generation);
	event->done = TRUE;
	event->error = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CANCELLED,
					   "Cancelled before a worker started it");
	event->withdrawn = job;
	push_event(pipeline, event);
}

/* Under jobs_lock: a worker for the queued jobs when none is idle. */
static gboolean
maybe_start_worker(CgPipeline *pipeline, GError **error)
{
	if (pipeline->n_idle >= pipeline->jobs.length)
		return TRUE;
	return start_worker(pipeline, error);
}

void
cg_pipeline_submit(CgPipeline *pipeline, CgGeneration *generation, const char *template_id,
		   const char *data_json, const CgGenerationOptions *options, gint64 issued_at_us)
{
	g_autoptr(GError) error = NULL;
	CgJob *job = cg_job_new(generation, template_id, data_json, options, issued_at_us);
	gboolean started;

	job->pipeline = pipeline;
	/* Runs job_cancelled_cb() at once when already cancelled. */
	job->cancelled_id =
	    g_cancellable_connect(job->cancellable, G_CALLBACK(job_cancelled_cb), job, NULL);
	g_mutex_lock(&pipeline->jobs_lock);
	if (job->state != CG_JOB_NEW) {
		g_mutex_unlock(&pipeline->jobs_lock);
		return; /* withdrawn: its report is queued */
	}
	job->state = CG_JOB_QUEUED;
	g_queue_push_tail_link(&pipeline->jobs, &job->link);
	started = maybe_start_worker(pipeline, &error);
	if (!started)
		g_queue_unlink(&pipeline->jobs, &job->link);
	else
		g_cond_signal(&pipeline->jobs_cond);
	g_mutex_unlock(&pipeline->jobs_lock);

	if (!started) {
		CgEvent *event = g_new0(CgEvent, 1);

		event->generation = cg_generation_ref(generation);
		event->done = TRUE;
		event->error =
		    g_error_new(CG_ERROR, CG_ERROR_FAILED, "No worker thread: %s", error->message);
		job->state = CG_JOB_WITHDRAWN;
		event->withdrawn = job;
		push_event(pipeline, event);
	}
}
