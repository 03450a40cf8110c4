/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nodecond: one binary, subcommands as bpftool and kubectl have them.
 * Exit codes: 0 success, 1 runtime failure, 2 invalid usage or configuration.
 */
#include <stdio.h>
#include <string.h>

#include "daemon/agent.h"
#include "daemon/cli.h"
#include "daemon/record.h"
#include "daemon/replay.h"

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "run", agent_main, "run the agent: sample, evaluate, serve the socket" },
	{ "status", cli_status, "conditions, the signals behind them, the BPF programs" },
	{ "conditions", cli_conditions, "the node's conditions" },
	{ "signals", cli_signals, "the latest sample of every signal and its source" },
	{ "taints", cli_taints, "the taints nodecond wants on the node" },
	{ "events", cli_events, "the latest condition transitions" },
	{ "watch", cli_watch, "stream condition transitions as they happen" },
	{ "tolerates", cli_tolerates, "which taints a pod tolerates, and when it would be evicted" },
	{ "record", recorder_command, "write a running agent's samples and kernel events to a file" },
	{ "replay", replay_command, "replay a recording through the condition engine and taint planner" },
	{ "version", cli_version, "version, libbpf version, kernel features found" },
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: nodecond COMMAND [OPTIONS]\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nRun 'nodecond COMMAND --help' for the options of a command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);

	fprintf(stderr, "nodecond: unknown command \"%s\"\n\n", argv[1]);
	usage(stderr);
	return 2;
}
