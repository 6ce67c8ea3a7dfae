/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * certgenctl: a small JSON writer (libsystemd 252 has no public JSON API).
 * Values are built into a memory stream and written as one line, so a
 * half-built object never reaches stdout.
 */
#pragma once

#include <systemd/sd-bus.h>

#include "cg-ctl-util.h"

typedef struct CgJson {
	FILE *f;
	char *buf;
	size_t size;
	bool comma; /* the next value (or key) at this level needs a comma */
} CgJson;

int cg_json_open(CgJson *j);
/* Closes the stream and hands out the text (the caller frees it). */
int cg_json_finish(CgJson *j, char **ret);
void cg_json_done(CgJson *j);

void cg_json_begin_object(CgJson *j);
void cg_json_end_object(CgJson *j);
void cg_json_begin_array(CgJson *j);
void cg_json_end_array(CgJson *j);
void cg_json_key(CgJson *j, const char *key);
void cg_json_string(CgJson *j, const char *s);
void cg_json_unsigned(CgJson *j, uint64_t v);
void cg_json_signed(CgJson *j, int64_t v);
void cg_json_double(CgJson *j, double v);
void cg_json_boolean(CgJson *j, bool v);
void cg_json_null(CgJson *j);

/* Writes s as a JSON string literal, with quotes, escaping '"', '\\' and
 * every control character. */
void cg_json_write_string(FILE *f, const char *s);

/* Reads one complete value of any D-Bus type at m's read position and
 * writes it: dictionaries (a{..}) become objects, other arrays and structs
 * arrays, variants their contents, 64-bit integers numbers, doubles numbers
 * (null when not finite). */
int cg_json_bus_value(CgJson *j, sd_bus_message *m);

/* Writes the basic value at p (as read by sd_bus_message_read_basic). */
void cg_json_basic(CgJson *j, char type, const void *p);
