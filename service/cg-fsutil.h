/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The file-system steps of certgen's atomic writes (the counter, the
 * certificate files). Each returns 0, or the errno that stopped it, so that
 * the caller words its own error. */

/* write(2) until all @length bytes are written, retrying after EINTR. */
int cg_fs_write_all(int fd, const void *data, gsize length);

/* fsync(2) of directory @dir: a rename in it is durable afterwards. */
int cg_fs_fsync_dir(const char *dir);

/* Replaces @path (in directory @dir) by @length bytes of @data, atomically
 * and durably: @tmp_path created with @mode, written, fsync'ed, renamed
 * over @path, then @dir fsync'ed. On failure @tmp_path is removed and
 * *@step says which step failed ("create", "write", "replace", "fsync
 * directory") and *@step_path on which file. */
int cg_fs_replace_file(const char *dir, const char *path, const char *tmp_path, const void *data,
		       gsize length, int mode, const char **step, const char **step_path);

G_END_DECLS
