/* SPDX-License-Identifier: Apache-2.0 */
/* Client commands of the nodecond binary. Each returns the process exit code. */
#ifndef NODECOND_DAEMON_CLI_H
#define NODECOND_DAEMON_CLI_H

#include <curl/curl.h>
#include <stddef.h>

/*
 * Explains a failed request to the agent's socket in terms of the socket
 * (missing file, permission, no answer), where curl speaks of "localhost
 * port 80".
 */
void cli_describe_connect_failure(const char *path, CURLcode rc, const char *errbuf, char *buf, size_t len);

int cli_status(int argc, char **argv);
int cli_conditions(int argc, char **argv);
int cli_signals(int argc, char **argv);
int cli_events(int argc, char **argv);
int cli_taints(int argc, char **argv);
int cli_watch(int argc, char **argv);
int cli_tolerates(int argc, char **argv);
int cli_version(int argc, char **argv);

#endif
