/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * certgenctl: reading the data file and saving certificates atomically (a
 * temporary file in the target directory, renamed over the target only when
 * complete).
 */
#pragma once

#include "cg-ctl-util.h"

#define CG_DATA_MAX_BYTES (32U * 1024U * 1024U)

/* Reads path ("-": standard input) into a NUL-terminated buffer; refuses
 * more than max bytes (-EFBIG). Returns negative errno, does not log. */
int cg_read_file(const char *path, size_t max, char **ret, size_t *ret_size);

/* Checks early that a file can be created next to path (its directory
 * exists and is writable). Logs. */
int cg_check_output_path(const char *path);

/* Copies everything readable from fd into path: an O_TMPFILE (or hidden
 * temporary file) in path's directory, fsync, rename over path. With
 * expected_size > 0 the copy must be exactly that long. Nothing is left
 * behind on failure. path "-" writes to standard output. Logs. */
int cg_save_fd(int fd, const char *path, uint64_t expected_size);
