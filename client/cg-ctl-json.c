/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-ctl-json.h"

#include <math.h>

#include "cg-json.h"

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
cg_ctl_json_open_container(CgCtlJson *j, char bracket)
{
	separate(j);
	fputc(bracket, j->f);
	j->comma = false;
}

void
cg_ctl_json_close_container(CgCtlJson *j, char bracket)
{
	fputc(bracket, j->f);
	j->comma = true;
}

void
cg_ctl_json_write_string(FILE *f, const char *s)
{
	char buf[8];

	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		const char *escape = cg_json_escape_byte(*p, buf);

		/* D-Bus strings are valid UTF-8: bytes >= 0x80 pass through. DEL
		 * is escaped too, for terminals. */
		if (escape == NULL && *p == 0x7f)
			escape = "\\u007f";
		if (escape != NULL)
			fputs(escape, f);
		else
			fputc(*p, f);
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

/* A dictionary key of any basic type, as a JSON string: strings as they
 * are, numbers and booleans as their JSON text. */
static int
json_bus_key(CgCtlJson *j, sd_bus_message *m, char type)
{
	CgCtlBusBasic v;
	CgCtlJson text;
	char *buf = NULL;
	int r;

	r = sd_bus_message_read_basic(m, type, &v);
	if (r < 0)
		return r;
	if (type == SD_BUS_TYPE_STRING || type == SD_BUS_TYPE_OBJECT_PATH ||
	    type == SD_BUS_TYPE_SIGNATURE) {
		cg_ctl_json_key(j, v.s);
		return 0;
	}
	r = cg_ctl_json_open(&text);
	if (r < 0)
		return r;
	cg_ctl_json_basic(&text, type, &v);
	r = cg_ctl_json_finish(&text, &buf);
	if (r < 0)
		return r;
	cg_ctl_json_key(j, buf);
	free(buf);
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
			cg_ctl_json_open_container(j, '{');
		else
			cg_ctl_json_open_container(j, '[');
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
			cg_ctl_json_close_container(j, '}');
		else
			cg_ctl_json_close_container(j, ']');
		return sd_bus_message_exit_container(m);
	}

	case SD_BUS_TYPE_STRUCT:
		r = sd_bus_message_enter_container(m, type, contents);
		if (r < 0)
			return r;
		cg_ctl_json_open_container(j, '[');
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
		cg_ctl_json_close_container(j, ']');
		return sd_bus_message_exit_container(m);

	default: {
		CgCtlBusBasic v;

		r = sd_bus_message_read_basic(m, type, &v);
		if (r < 0)
			return r;
		cg_ctl_json_basic(j, type, &v);
		return 0;
	}
	}
}
