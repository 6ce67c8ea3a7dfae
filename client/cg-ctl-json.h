/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * certgenctl: a small JSON writer (libsystemd 252 has no public JSON API).
 * Values are built into a memory stream and written as one line, so a
 * half-built object never reaches stdout.
 */
#pragma once

#include <systemd/sd-bus.h>

#include "cg-ctl-util.h"

/* Room for any basic D-Bus value, as sd_bus_message_read_basic writes it. */
typedef union {
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
} CgCtlBusBasic;

typedef struct CgCtlJson {
	FILE *f;
	char *buf;
	size_t size;
	bool comma; /* the next value (or key) at this level needs a comma */
} CgCtlJson;

int cg_ctl_json_open(CgCtlJson *j);
/* Closes the stream and hands out the text (the caller frees it). */
int cg_ctl_json_finish(CgCtlJson *j, char **ret);
void cg_ctl_json_done(CgCtlJson *j);

/* @bracket is one of '{' '[' (open) and '}' ']' (close). */
void cg_ctl_json_open_container(CgCtlJson *j, char bracket);
void cg_ctl_json_close_container(CgCtlJson *j, char bracket);
#define cg_ctl_json_begin_object(j) cg_ctl_json_open_container((j), '{')
#define cg_ctl_json_end_object(j) cg_ctl_json_close_container((j), '}')
#define cg_ctl_json_begin_array(j) cg_ctl_json_open_container((j), '[')
#define cg_ctl_json_end_array(j) cg_ctl_json_close_container((j), ']')
void cg_ctl_json_key(CgCtlJson *j, const char *key);
void cg_ctl_json_string(CgCtlJson *j, const char *s);
void cg_ctl_json_unsigned(CgCtlJson *j, uint64_t v);
void cg_ctl_json_signed(CgCtlJson *j, int64_t v);
void cg_ctl_json_double(CgCtlJson *j, double v);
void cg_ctl_json_boolean(CgCtlJson *j, bool v);
void cg_ctl_json_null(CgCtlJson *j);

/* Writes s as a JSON string literal, with quotes, escaping '"', '\\' and
 * every control character. */
void cg_ctl_json_write_string(FILE *f, const char *s);

/* Reads one complete value of any D-Bus type at m's read position and
 * writes it: dictionaries (a{..}) become objects, other arrays and structs
 * arrays, variants their contents, 64-bit integers numbers, doubles numbers
 * (null when not finite). */
int cg_ctl_json_bus_value(CgCtlJson *j, sd_bus_message *m);

/* Writes the basic value at p (as read by sd_bus_message_read_basic). */
void cg_ctl_json_basic(CgCtlJson *j, char type, const void *p);
