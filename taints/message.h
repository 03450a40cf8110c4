/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to taints/: writing a validation message into a caller's buffer,
 * which may be NULL or have size 0 when the caller wants only the result.
 */
#ifndef NODECOND_TAINTS_MESSAGE_H
#define NODECOND_TAINTS_MESSAGE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* Replaces the message; output that does not fit is truncated. */
static inline __attribute__((format(printf, 3, 4)))
void message_set(char *msg, size_t msg_size, const char *fmt, ...)
{
	va_list ap;

	if (!msg || msg_size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, msg_size, fmt, ap);
	va_end(ap);
}

/*
 * Appends to the message, after "; " when it is not empty. Output that does
 * not fit is truncated.
 */
static inline __attribute__((format(printf, 3, 4)))
void message_append(char *msg, size_t msg_size, const char *fmt, ...)
{
	va_list ap;
	size_t used;

	if (!msg || msg_size == 0)
		return;
	used = strnlen(msg, msg_size);
	if (used > 0 && used + 2 < msg_size) {
		memcpy(msg + used, "; ", 3);
		used += 2;
	}
	if (used + 1 >= msg_size)
		return;
	va_start(ap, fmt);
	vsnprintf(msg + used, msg_size - used, fmt, ap);
	va_end(ap);
}

#endif
