/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The local state file: in local mode the conditions, with their transition
 * times, survive a restart here, as they would on the Node object.
 */
#ifndef NODECOND_DAEMON_STATE_FILE_H
#define NODECOND_DAEMON_STATE_FILE_H

#include <stddef.h>

#include "conditions/condition.h"

#define STATE_FILE_CONDITIONS_MAX 16

/*
 * Writes the conditions atomically (a temporary file, then rename), creating
 * the directory when it is missing. Returns 0 or -errno.
 */
int state_file_save(const char *path, const char *node_name, const struct condition *conditions, size_t n);

/*
 * Reads conditions from the file into out (at most max). Returns how many,
 * 0 when the file does not exist, or -EINVAL with err explaining what is
 * wrong in it.
 */
int state_file_load(const char *path, struct condition *out, size_t max, char *err, size_t err_len);

#endif
