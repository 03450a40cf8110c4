/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Types that kubelet.bpf.c shares with daemon/bpf_kubelet.c.
 */
#ifndef NODECOND_BPF_KUBELET_H
#define NODECOND_BPF_KUBELET_H

#define KUBELET_COMM_LEN 16
/* Watched processes; a node runs one kubelet, this leaves room for restarts in flight. */
#define KUBELET_MAX_PROCESSES 8

/* The last thread of a watched process exited; sent through kubelet_events. */
struct kubelet_exit_event {
	__u32 pid;			/* thread group id */
	__s32 exit_code;		/* as wait() reports it: signal in the low 7 bits, status << 8 */
	char comm[KUBELET_COMM_LEN];
};

#endif
