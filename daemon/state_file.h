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
 * 0 when the file does not exist or belongs to another node (err then gives
 * the reason), or -EINVAL with err explaining what is wrong in it.
 */
int state_file_load(const char *path, const char *node_name, struct condition *out, size_t max, char *err,
		    size_t err_len);

/*
 * Claims the state file for this agent before anything is written to it:
 * the path must be a regular file (or not exist yet), an existing file must
 * be a nodecond state file, and no other agent may hold it. The claim is a
 * lock on PATH.lock, held until the process exits. Returns 0; -EINVAL when
 * the path is not a regular file or not a state file (a configuration
 * problem: never overwrite it); -EBUSY when another agent has claimed it; or
 * another -errno. err says which and what to do.
 */
int state_file_claim(const char *path, char *err, size_t err_len);

#endif
