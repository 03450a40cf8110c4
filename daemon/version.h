/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NODECOND_DAEMON_VERSION_H
#define NODECOND_DAEMON_VERSION_H

#define NODECOND_VERSION "0.1.0"

#endif
