/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "daemon/yaml_doc.h"

/*
 * Finds the line of the first flow collection nested deeper than max, or
 * returns 0. Quoted scalars and comments are skipped; this is a guard, not
 * a parser, so it may count a bracket inside a plain scalar, which only
 * makes it stricter.
 */
static size_t find_deep_flow(const char *text, size_t len, unsigned max)
{
	unsigned depth = 0;
	size_t line = 1;
	char quote = 0;
	bool comment = false;

	for (size_t i = 0; i < len; i++) {
		char c = text[i];

		if (c == '\n') {
			line++;
			comment = false;
			continue;
		}
		if (comment)
			continue;
		if (quote) {
			if (quote == '"' && c == '\\')
				i++;
			else if (c == quote)
				quote = 0;
			continue;
		}
		if (c == '#' && (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t')) {
			comment = true;
		} else if (c == '"' || c == '\'') {
			quote = c;
		} else if (c == '[' || c == '{') {
			if (++depth > max)
				return line;
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return 0;
}

int yaml_doc_load(yaml_document_t *doc, const char *text, size_t len, const char *prefix, const char *name,
		  char *err, size_t err_len)
{
	yaml_document_t extra;
	yaml_parser_t parser;
	size_t deep_line;
	bool more;

	deep_line = find_deep_flow(text, len, YAML_DOC_FLOW_DEPTH_MAX);
	if (deep_line) {
		snprintf(err, err_len, "%s%s:%zu: [ ] and { } are nested more than %d deep; nodecond reads no such "
			 "structure", prefix, name, deep_line, YAML_DOC_FLOW_DEPTH_MAX);
		return -EINVAL;
	}

	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, doc)) {
		snprintf(err, err_len, "%s%s:%zu:%zu: invalid YAML: %s", prefix, name,
			 (size_t)parser.problem_mark.line + 1, (size_t)parser.problem_mark.column + 1,
			 parser.problem ? parser.problem : "parse error");
		yaml_parser_delete(&parser);
		return -EINVAL;
	}

	/* A second document would be ignored silently: reject it. */
	if (!yaml_parser_load(&parser, &extra)) {
		snprintf(err, err_len, "%s%s:%zu:%zu: invalid YAML after the first document: %s", prefix, name,
			 (size_t)parser.problem_mark.line + 1, (size_t)parser.problem_mark.column + 1,
			 parser.problem ? parser.problem : "parse error");
		yaml_parser_delete(&parser);
		yaml_document_delete(doc);
		return -EINVAL;
	}
	more = yaml_document_get_root_node(&extra) != NULL;
	if (more)
		snprintf(err, err_len, "%s%s:%zu: a second YAML document (after ---); put everything in one document",
			 prefix, name, (size_t)extra.start_mark.line + 1);
	yaml_document_delete(&extra);
	yaml_parser_delete(&parser);
	if (more) {
		yaml_document_delete(doc);
		return -EINVAL;
	}
	return 0;
}
