/*
 * yaml.c: one JSON value written as one block-style YAML document, through
 * libyaml's event emitter.
 *
 * libfyaml reads the tenants file; libyaml writes the output.  libfyaml
 * 0.7.12 (Debian 12) cannot force a scalar's style through its document
 * API, so it wrote the strings "600", "true" and "on" plain, and every
 * reader then took them for an integer or a boolean.  libyaml's scalar
 * events carry an explicit style and implicit-tag flags, so the choice of
 * style stays ours while escaping, indentation and line breaking are
 * libyaml's.
 *
 * Our choice, by what a reader would make of a string rather than by what
 * is merely legal: plain only for a conservative character set that no
 * YAML 1.1 (go-yaml v2, PyYAML) or 1.2 resolver turns into a number, a
 * boolean, a null or a timestamp; a literal block for multi-line text
 * (the tenants file) when it reads back exactly; double quotes for
 * everything else.  A non-plain string is given plain_implicit = 0, so
 * libyaml itself refuses to write it plain, and libyaml moves any style it
 * cannot write faithfully (a literal block with a tab or a control
 * character: the Gatekeeper Rego) to double quotes.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>
#include "kt/render.h"

/* [A-Za-z0-9-._/:@+ ]: a 256-entry table, this runs for every scalar */
static const unsigned char plain_chars[256] = {
	[' '] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['/'] = 1, [':'] = 1, ['@'] = 1, ['_'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
	['8'] = 1, ['9'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1,
	['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1,
	['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1,
	['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
	['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1,
	['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

/* Words that YAML 1.1 or 1.2 resolvers read as booleans or null. */
static int reserved_word(const char *s, size_t len)
{
	static const char *const words[] = { "y",     "n",  "yes", "no",  "true",
					     "false", "on", "off", "null" };
	char low[6];
	size_t i;

	if (len > 5)
		return 0;
	for (i = 0; i < len; i++)
		low[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
	low[len] = '\0';
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcmp(low, words[i]))
			return 1;
	return 0;
}

/*
 * Plain only when it starts with a letter, '_' or '/', uses only
 * [A-Za-z0-9-._/:@+ ], has no ": " and no trailing ':' or space, and is
 * not a reserved word.  Starting with a letter rules out every number,
 * timestamp and special float of both YAML versions at once.
 */
static int plain_ok(const char *s, size_t len)
{
	size_t i;
	unsigned char c0;

	if (len == 0)
		return 0;
	c0 = (unsigned char)s[0];
	if (!((c0 >= 'a' && c0 <= 'z') || (c0 >= 'A' && c0 <= 'Z') || c0 == '_' || c0 == '/'))
		return 0;
	for (i = 0; i < len; i++) {
		if (!plain_chars[(unsigned char)s[i]])
			return 0;
		if (s[i] == ':' && (i + 1 == len || s[i + 1] == ' '))
			return 0;
	}
	if (s[len - 1] == ' ')
		return 0;
	return !reserved_word(s, len);
}

/*
 * A literal block (|) for text that spans lines, unless one of these makes
 * it read back differently or depend on a reader's corner cases:
 *  - a space at the start (that line sets the block's indentation; libyaml
 *    would add an indentation indicator) or before a line break (invisible,
 *    and whitespace-only lines confuse indentation detection);
 *  - more than one trailing line break ("|+" makes libyaml end the stream
 *    with a "..." marker);
 *  - U+2028 or U+2029: libyaml counts them as line breaks (YAML 1.1 does,
 *    1.2 does not) yet copies them into the block unescaped.
 * Tabs and control characters need no check here: libyaml writes no block
 * scalar holding one (a tab is not "printable" to its analyser), it moves
 * such text to double quotes itself.  So the Gatekeeper Rego, indented
 * with tabs, comes out double-quoted.
 */
static int literal_ok(const char *s, size_t len)
{
	size_t i;
	int has_nl = 0;

	if (len == 0 || s[0] == '\n' || s[0] == ' ' || s[len - 1] == ' ')
		return 0;
	if (len >= 2 && s[len - 1] == '\n' && s[len - 2] == '\n')
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n') {
			has_nl = 1;
			if (s[i - 1] == ' ')
				return 0;
		} else if (c == 0xe2 && i + 2 < len && (unsigned char)s[i + 1] == 0x80 &&
			   ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9)) {
			return 0;
		}
	}
	return has_nl;
}

struct writer {
	yaml_emitter_t em;
	struct kt_buf *out;
	enum kt_rc out_rc; /* why on_output() refused, if it did */
	struct kt_err *err;
};

/* libyaml's write handler: 1 on success, 0 on failure. */
static int on_output(void *data, unsigned char *buffer, size_t size)
{
	struct writer *w = data;

	w->out_rc = kt_buf_add(w->out, buffer, size);
	return w->out_rc == KT_OK;
}

/*
 * Emit ev, which was initialized when ok is set (the *_initialize()
 * functions fail only for lack of memory or, for scalars, invalid UTF-8).
 * libyaml destroys the event whether or not it was emitted.
 */
static enum kt_rc put(struct writer *w, yaml_event_t *ev, int ok)
{
	if (!ok)
		return kt_err_set(w->err, KT_E_NOMEM,
				  "cannot write YAML: out of memory or invalid UTF-8");
	if (yaml_emitter_emit(&w->em, ev))
		return KT_OK;
	switch (w->em.error) {
	case YAML_MEMORY_ERROR:
		return kt_err_set(w->err, KT_E_NOMEM, "out of memory writing YAML");
	case YAML_WRITER_ERROR:
		return kt_err_set(w->err, w->out_rc ? w->out_rc : KT_E_NOMEM,
				  "out of memory writing YAML");
	default:
		return kt_err_set(w->err, KT_E_INTERNAL, "libyaml refused an event: %s",
				  w->em.problem ? w->em.problem : "unknown problem");
	}
}

/* A string, as a key (never a block) or a value. */
static enum kt_rc put_string(struct writer *w, const char *s, size_t len, int is_key)
{
	yaml_scalar_style_t style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	yaml_event_t ev;

	if (plain_ok(s, len))
		style = YAML_PLAIN_SCALAR_STYLE;
	else if (!is_key && literal_ok(s, len))
		style = YAML_LITERAL_SCALAR_STYLE;
	if (len > INT_MAX)
		return kt_err_set(w->err, KT_E_INVALID, "string of %zu bytes is too long for YAML",
				  len);
	/* quoted ones get plain_implicit = 0: libyaml then never writes them plain */
	return put(w, &ev,
		   yaml_scalar_event_initialize(&ev, NULL, NULL, (const yaml_char_t *)s, (int)len,
						style == YAML_PLAIN_SCALAR_STYLE, 1, style));
}

/*
 * 42, 1.5, true, false, null: plain with quoted_implicit = 0, so libyaml
 * could only quote one by tagging it, never turn it into a string.
 */
static enum kt_rc put_typed(struct writer *w, const char *text)
{
	yaml_event_t ev;

	return put(w, &ev,
		   yaml_scalar_event_initialize(&ev, NULL, NULL, (const yaml_char_t *)text,
						(int)strlen(text), 1, 0, YAML_PLAIN_SCALAR_STYLE));
}

/* %.17g round-trips a double; a '.' (before any exponent) keeps it a float in YAML 1.1 too */
static void format_real(double d, char *out, size_t size)
{
	char num[40];
	char *e;

	snprintf(num, sizeof(num), "%.17g", d);
	e = strpbrk(num, "eE");
	if (strchr(num, '.'))
		snprintf(out, size, "%s", num);
	else if (e)
		snprintf(out, size, "%.*s.0%s", (int)(e - num), num, e);
	else
		snprintf(out, size, "%s.0", num);
}

static enum kt_rc put_node(struct writer *w, json_t *v, int depth);

/* A mapping or a sequence, in block style (libyaml writes an empty one as {} or []). */
static enum kt_rc put_collection(struct writer *w, json_t *v, int depth)
{
	int map = json_is_object(v);
	const char *key;
	size_t key_len, i;
	json_t *child;
	yaml_event_t ev;
	enum kt_rc rc;

	if (depth > KT_RENDER_MAX_DEPTH)
		return kt_err_set(w->err, KT_E_INVALID, "object nested deeper than %d levels",
				  KT_RENDER_MAX_DEPTH);
	rc = put(w, &ev,
		 map ? yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
							   YAML_BLOCK_MAPPING_STYLE)
		     : yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
							    YAML_BLOCK_SEQUENCE_STYLE));
	if (map) {
		json_object_keylen_foreach (v, key, key_len, child) {
			if (rc == KT_OK)
				rc = put_string(w, key, key_len, 1);
			if (rc == KT_OK)
				rc = put_node(w, child, depth + 1);
		}
	} else {
		json_array_foreach (v, i, child) {
			if (rc == KT_OK)
				rc = put_node(w, child, depth + 1);
		}
	}
	if (rc)
		return rc;
	return put(w, &ev,
		   map ? yaml_mapping_end_event_initialize(&ev)
		       : yaml_sequence_end_event_initialize(&ev));
}

static enum kt_rc put_node(struct writer *w, json_t *v, int depth)
{
	char num[48];

	switch (json_typeof(v)) {
	case JSON_OBJECT:
	case JSON_ARRAY:
		return put_collection(w, v, depth);
	case JSON_STRING:
		return put_string(w, json_string_value(v), json_string_length(v), 0);
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return put_typed(w, num);
	case JSON_REAL:
		format_real(json_real_value(v), num, sizeof(num));
		return put_typed(w, num);
	case JSON_TRUE:
		return put_typed(w, "true");
	case JSON_FALSE:
		return put_typed(w, "false");
	default:
		return put_typed(w, "null");
	}
}

/*
 * One stream holding one document per call, so each object's bytes stand
 * alone (`-o DIR` writes them to separate files) and concatenate into a
 * multi-document stream: an explicit start ("---"), an implicit end (no
 * "...").  A fresh emitter per object costs about 0.3 microseconds and
 * leaves no state behind after an error.  Width -1 is unlimited: long strings are never folded, whatever
 * their length, so the output does not depend on where a line happens to
 * reach a column.
 */
enum kt_rc kt_render_yaml(json_t *obj, struct kt_buf *out, struct kt_err *err)
{
	struct writer w = { .out = out, .err = err };
	size_t mark = out->len;
	yaml_event_t ev;
	enum kt_rc rc;

	if (!obj)
		return kt_err_set(err, KT_E_INTERNAL, "no object to write");
	if (!yaml_emitter_initialize(&w.em))
		return kt_err_set(err, KT_E_NOMEM, "out of memory writing YAML");
	yaml_emitter_set_output(&w.em, on_output, &w);
	yaml_emitter_set_encoding(&w.em, YAML_UTF8_ENCODING);
	yaml_emitter_set_unicode(&w.em, 1);
	yaml_emitter_set_indent(&w.em, 2);
	yaml_emitter_set_width(&w.em, -1);
	yaml_emitter_set_break(&w.em, YAML_LN_BREAK);

	rc = put(&w, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
	if (rc == KT_OK)
		rc = put(&w, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 0));
	if (rc == KT_OK)
		rc = put_node(&w, obj, 0);
	if (rc == KT_OK)
		rc = put(&w, &ev, yaml_document_end_event_initialize(&ev, 1));
	if (rc == KT_OK)
		rc = put(&w, &ev, yaml_stream_end_event_initialize(&ev));
	yaml_emitter_delete(&w.em);
	if (rc) {
		/* never leave half a document behind */
		out->len = mark;
		out->buf[mark] = '\0';
	}
	return rc;
}
