/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-ctl-json.h"

#include <math.h>

int
cg_ctl_json_open(CgCtlJson *j)
{
	*j = (CgCtlJson){0};
	j->f = open_memstream(&j->buf, &j->size);
	if (j->f == NULL)
		return -errno;
	return 0;
}

int
cg_ctl_json_finish(CgCtlJson *j, char **ret)
{
	int r = 0;

	if (j->f == NULL)
		return -EINVAL;
	if (ferror(j->f))
		r = -EIO;
	if (fclose(j->f) != 0 && r == 0)
		r = -errno;
	j->f = NULL;
	if (r < 0) {
		free(j->buf);
		j->buf = NULL;
		return r;
	}
	*ret = TAKE_PTR(j->buf);
	return 0;
}

void
cg_ctl_json_done(CgCtlJson *j)
{
	if (j->f != NULL)
		(void)fclose(j->f);
	j->f = NULL;
	free(j->buf);
	j->buf = NULL;
}

static void
separate(CgCtlJson *j)
{
	if (j->comma)
		fputc(',', j->f);
	j->comma = true;
}

void
cg_ctl_json_begin_object(CgCtlJson *j)
{
	separate(j);
	fputc('{', j->f);
	j->comma = false;
}

void
cg_ctl_json_end_object(CgCtlJson *j)
{
	fputc('}', j->f);
	j->comma = true;
}

void
cg_ctl_json_begin_array(CgCtlJson *j)
{
	separate(j);
	fputc('[', j->f);
	j->comma = false;
}

void
cg_ctl_json_end_array(CgCtlJson *j)
{
	fputc(']', j->f);
	j->comma = true;
}

void
cg_ctl_json_write_string(FILE *f, const char *s)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\b':
			fputs("\\b", f);
			break;
		case '\f':
			fputs("\\f", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			/* D-Bus strings are valid UTF-8: bytes >= 0x80 pass through. */
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", (unsigned)*p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

void
cg_ctl_json_key(CgCtlJson *j, const char *key)
{
	separate(j);
	cg_ctl_json_write_string(j->f, key);
	fputc(':', j->f);
	j->comma = false;
}

void
cg_ctl_json_string(CgCtlJson *j, const char *s)
{
	separate(j);
	cg_ctl_json_write_string(j->f, s ? s : "");
}

void
cg_ctl_json_unsigned(CgCtlJson *j, uint64_t v)
{
	separate(j);
	fprintf(j->f, "%llu", (unsigned long long)v);
}

void
cg_ctl_json_signed(CgCtlJson *j, int64_t v)
{
	separate(j);
	fprintf(j->f, "%lld", (long long)v);
}

void
cg_ctl_json_double(CgCtlJson *j, double v)
{
	char buf[64];

	separate(j);
	if (!isfinite(v)) {
		fputs("null", j->f);
		return;
	}
	/* The shortest of %.15g and %.17g that reads back as the same value
	 * (45.3, not 45.299999999999997). The C locale's '.' is used: certgenctl
	 * sets only LC_CTYPE. */
	snprintf(buf, sizeof(buf), "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, sizeof(buf), "%.17g", v);
	fputs(buf, j->f);
	/* Keep it a floating-point number for typed readers: 15 -> 15.0 */
	if (strpbrk(buf, ".eE") == NULL)
		fputs(".0", j->f);
}

void
cg_ctl_json_boolean(CgCtlJson *j, bool v)
{
	separate(j);
	fputs(v ? "true" : "false", j->f);
}

void
cg_ctl_json_null(CgCtlJson *j)
{
	separate(j);
	fputs("null", j->f);
}

void
cg_ctl_json_basic(CgCtlJson *j, char type, const void *p)
{
	switch (type) {
	case SD_BUS_TYPE_BYTE:
		cg_ctl_json_unsigned(j, *(const uint8_t *)p);
		break;
	case SD_BUS_TYPE_BOOLEAN:
		cg_ctl_json_boolean(j, *(const int *)p);
		break;
	case SD_BUS_TYPE_INT16:
		cg_ctl_json_signed(j, *(const int16_t *)p);
		break;
	case SD_BUS_TYPE_UINT16:
		cg_ctl_json_unsigned(j, *(const uint16_t *)p);
		break;
	case SD_BUS_TYPE_INT32:
		cg_ctl_json_signed(j, *(const int32_t *)p);
		break;
	case SD_BUS_TYPE_UINT32:
		cg_ctl_json_unsigned(j, *(const uint32_t *)p);
		break;
	case SD_BUS_TYPE_INT64:
		cg_ctl_json_signed(j, *(const int64_t *)p);
		break;
	case SD_BUS_TYPE_UINT64:
		cg_ctl_json_unsigned(j, *(const uint64_t *)p);
		break;
	case SD_BUS_TYPE_DOUBLE:
		cg_ctl_json_double(j, *(const double *)p);
		break;
	case SD_BUS_TYPE_UNIX_FD:
		cg_ctl_json_signed(j, *(const int *)p);
		break;
	case SD_BUS_TYPE_STRING:
	case SD_BUS_TYPE_OBJECT_PATH:
	case SD_BUS_TYPE_SIGNATURE:
		cg_ctl_json_string(j, *(const char *const *)p);
		break;
	default:
		cg_ctl_json_null(j);
	}
}

/* A dictionary key of any basic type, as a JSON string. */
static int
json_bus_key(CgCtlJson *j, sd_bus_message *m, char type)
{
	union {
		uint8_t u8;
		int b;
		int16_t s16;
		uint16_t u16;
		int32_t s32;
		uint32_t u32;
		int64_t s64;
		uint64_t u64;
		double d;
		const char *s;
	} v;
	char buf[64];
	int r;

	r = sd_bus_message_read_basic(m, type, &v);
	if (r < 0)
		return r;
	switch (type) {
	case SD_BUS_TYPE_STRING:
	case SD_BUS_TYPE_OBJECT_PATH:
	case SD_BUS_TYPE_SIGNATURE:
		cg_ctl_json_key(j, v.s);
		return 0;
	case SD_BUS_TYPE_BYTE:
		snprintf(buf, sizeof(buf), "%u", (unsigned)v.u8);
		break;
	case SD_BUS_TYPE_BOOLEAN:
		snprintf(buf, sizeof(buf), "%s", v.b ? "true" : "false");
		break;
	case SD_BUS_TYPE_INT16:
		snprintf(buf, sizeof(buf), "%d", (int)v.s16);
		break;
	case SD_BUS_TYPE_UINT16:
		snprintf(buf, sizeof(buf), "%u", (unsigned)v.u16);
		break;
	case SD_BUS_TYPE_INT32:
	case SD_BUS_TYPE_UNIX_FD:
		snprintf(buf, sizeof(buf), "%d", (int)v.s32);
		break;
	case SD_BUS_TYPE_UINT32:
		snprintf(buf, sizeof(buf), "%u", (unsigned)v.u32);
		break;
	case SD_BUS_TYPE_INT64:
		snprintf(buf, sizeof(buf), "%lld", (long long)v.s64);
		break;
	case SD_BUS_TYPE_UINT64:
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v.u64);
		break;
	case SD_BUS_TYPE_DOUBLE:
		snprintf(buf, sizeof(buf), "%.17g", v.d);
		break;
	default:
		return -EBADMSG;
	}
	cg_ctl_json_key(j, buf);
	return 0;
}

int
cg_ctl_json_bus_value(CgCtlJson *j, sd_bus_message *m)
{
	const char *contents = NULL;
	char type;
	int r;

	r = sd_bus_message_peek_type(m, &type, &contents);
	if (r < 0)
		return r;
	if (r == 0)
		return -EBADMSG; /* nothing left to read */

	switch (type) {
	case SD_BUS_TYPE_VARIANT:
		r = sd_bus_message_enter_container(m, type, contents);
		if (r < 0)
			return r;
		r = cg_ctl_json_bus_value(j, m);
		if (r < 0)
			return r;
		return sd_bus_message_exit_container(m);

	case SD_BUS_TYPE_ARRAY: {
		bool dict = contents[0] == SD_BUS_TYPE_DICT_ENTRY_BEGIN;

		r = sd_bus_message_enter_container(m, type, contents);
		if (r < 0)
			return r;
		if (dict)
			cg_ctl_json_begin_object(j);
		else
			cg_ctl_json_begin_array(j);
		for (;;) {
			const char *entry_contents = NULL;
			char entry_type;

			r = sd_bus_message_peek_type(m, &entry_type, &entry_contents);
			if (r < 0)
				return r;
			if (r == 0)
				break;
			if (!dict) {
				r = cg_ctl_json_bus_value(j, m);
				if (r < 0)
					return r;
				continue;
			}
			r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY,
							   entry_contents);
			if (r < 0)
				return r;
			r = json_bus_key(j, m, entry_contents[0]);
			if (r < 0)
				return r;
			r = cg_ctl_json_bus_value(j, m);
			if (r < 0)
				return r;
			r = sd_bus_message_exit_container(m);
			if (r < 0)
				return r;
		}
		if (dict)
			cg_ctl_json_end_object(j);
		else
			cg_ctl_json_end_array(j);
		return sd_bus_message_exit_container(m);
	}

	case SD_BUS_TYPE_STRUCT:
		r = sd_bus_message_enter_container(m, type, contents);
		if (r < 0)
			return r;
		cg_ctl_json_begin_array(j);
		for (;;) {
			r = sd_bus_message_peek_type(m, NULL, NULL);
			if (r < 0)
				return r;
			if (r == 0)
				break;
			r = cg_ctl_json_bus_value(j, m);
			if (r < 0)
				return r;
		}
		cg_ctl_json_end_array(j);
		return sd_bus_message_exit_container(m);

	default: {
		union {
			uint8_t u8;
			int b;
			int16_t s16;
			uint16_t u16;
			int32_t s32;
			uint32_t u32;
			int64_t s64;
			uint64_t u64;
			double d;
			const char *s;
		} v;

		r = sd_bus_message_read_basic(m, type, &v);
		if (r < 0)
			return r;
		cg_ctl_json_basic(j, type, &v);
		return 0;
	}
	}
}
