/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "cg-ctl-record.h"

#include <stddef.h>

#include "cg-ctl-bus.h"

static const CgBusField record_fields[] = {
    CG_BUS_FIELD(CgCtlRecord, "certificate_number", SD_BUS_TYPE_STRING, certificate_number),
    CG_BUS_FIELD(CgCtlRecord, "status", SD_BUS_TYPE_STRING, status),
    CG_BUS_FIELD(CgCtlRecord, "issued_at_us", SD_BUS_TYPE_INT64, issued_at_us),
    CG_BUS_FIELD(CgCtlRecord, "revoked_at_us", SD_BUS_TYPE_INT64, revoked_at_us),
    CG_BUS_FIELD(CgCtlRecord, "revocation_reason", SD_BUS_TYPE_STRING, revocation_reason),
    CG_BUS_FIELD(CgCtlRecord, "template_id", SD_BUS_TYPE_STRING, template_id),
    CG_BUS_FIELD(CgCtlRecord, "data_sha256", SD_BUS_TYPE_STRING, data_sha256),
    CG_BUS_FIELD(CgCtlRecord, "file_sha256", SD_BUS_TYPE_STRING, file_sha256),
};

/* One {ss} of "fields", appended. */
static int
read_field(sd_bus_message *m, void *userdata, CgCtlJson *json)
{
	CgCtlRecord *record = userdata;
	CgCtlRecordField field;
	CgCtlBusBasic value;
	int r = cg_grow((void **)&record->fields, record->n_fields, sizeof(*record->fields));

	if (r >= 0)
		r = cg_bus_read_entry(m, SD_BUS_TYPE_STRING, &record->strings, &field.name, &value,
				      json);
	if (r < 0)
		return r;
	field.value = cg_strings_safe(&record->strings, value.s);
	if (field.value == NULL)
		return -ENOMEM;
	record->fields[record->n_fields++] = field;
	return 0;
}

static int
record_hook(sd_bus_message *m, const char *key, const char *contents, void *base, CgCtlJson *json)
{
	if (!streq(key, "fields") || !streq(contents, "a{ss}"))
		return 0;
	return cg_bus_read_array(m, true, contents, read_field, base, json);
}

int
cg_ctl_record_read(sd_bus_message *m, CgCtlJson *json, CgCtlRecord *ret)
{
	*ret = (CgCtlRecord){0};
	return cg_bus_read_dict(m, record_fields, ELEMENTSOF(record_fields), ret, record_hook, json,
				&ret->strings);
}

void
cg_ctl_record_done(CgCtlRecord *record)
{
	free(record->fields);
	cg_strings_done(&record->strings);
	*record = (CgCtlRecord){0};
}

bool
cg_ctl_record_is_valid(const CgCtlRecord *record)
{
	return streq_ptr(record->status, "valid");
}

static void
print_line(const char *name, const char *value)
{
	printf("%18s: %s\n", name, value);
}

void
cg_ctl_record_print(const CgCtlRecord *record)
{
	char when[64];

	print_line("Status", cg_ctl_record_is_valid(record) ? "valid" : strna(record->status));
	print_line("Certificate", strna(record->certificate_number));
	cg_format_timestamp(when, sizeof(when), record->issued_at_us);
	print_line("Issued", when);
	if (record->revoked_at_us > 0) {
		cg_format_timestamp(when, sizeof(when), record->revoked_at_us);
		print_line("Revoked", when);
		print_line("Reason", strna(record->revocation_reason));
	}
	print_line("Template", strna(record->template_id));
	for (size_t i = 0; i < record->n_fields; i++)
		print_line(record->fields[i].name, record->fields[i].value);
	print_line("Data SHA-256", strna(record->data_sha256));
	print_line("File SHA-256", strna(record->file_sha256));
}
