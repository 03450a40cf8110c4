/* SPDX-License-Identifier: Apache-2.0 */
/* Directories for the files the agent creates: socket, state file, recording. */
#ifndef NODECOND_DAEMON_PATH_H
#define NODECOND_DAEMON_PATH_H

/* Creates every missing directory above path (mode 0755). Returns 0 or -errno. */
int path_mkdir_parents(const char *path);

#endif
