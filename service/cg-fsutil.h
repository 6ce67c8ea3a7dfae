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

G_END_DECLS
