/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loading one YAML document with libyaml, for the configuration and the
 * kubeconfig, with the limits a daemon needs on hostile input.
 */
#ifndef NODECOND_DAEMON_YAML_DOC_H
#define NODECOND_DAEMON_YAML_DOC_H

#include <stddef.h>
#include <yaml.h>

/*
 * Deepest nesting of flow collections ([...] and {...}) accepted. libyaml's
 * scanner costs time proportional to the square of this depth, so a few
 * hundred kilobytes of "[[[[" would otherwise stall the agent for seconds.
 */
#define YAML_DOC_FLOW_DEPTH_MAX 64

/*
 * Parses text as exactly one YAML document into doc. Returns 0 (the caller
 * deletes doc) or -EINVAL with err as "PREFIXNAME:LINE:COL: ..." naming the
 * problem: invalid YAML, flow nesting deeper than YAML_DOC_FLOW_DEPTH_MAX,
 * or a second document.
 */
int yaml_doc_load(yaml_document_t *doc, const char *text, size_t len, const char *prefix, const char *name,
		  char *err, size_t err_len);

#endif
