/*
 * yaml.c: one JSON value written as one block-style YAML document.
 *
 * Why not libfyaml's emitter (the brief's first choice): we tried both of
 * its emission paths with libfyaml 0.7.12, the Debian 12 version.
 *  - The document-tree path has no way to set a scalar's style in this
 *    version (fy_node_set_style() does not exist), and it writes the
 *    strings "600", "true" and "on" as plain scalars, which every reader
 *    then takes for an integer or a boolean: a label value "on" or a
 *    quota "50" would change type on the way to the API server.
 *  - The event path honours styles but emitted a block mapping inside a
 *    block sequence as a broken flow sequence ("list: [\n key: v,") and
 *    lost the last lines of the stream.
 *  - Both cost 2 to 5 microseconds per node; a 10,000-tenant render is
 *    millions of nodes and has a one-second budget.
 * Kubernetes manifests need only a small, regular subset of YAML, so we
 * write it here and let libfyaml be the referee instead: the unit tests
 * parse what we write with libfyaml and compare it, typed, with the input.
 *
 * Quoting is decided by what a reader would make of a string, not by what
 * is merely legal: plain only for a conservative character set that no
 * YAML 1.1 (go-yaml v2, PyYAML) or 1.2 resolver turns into a number, a
 * boolean, a null or a timestamp; literal blocks for multi-line text
 * (Rego, the tenants file) when they round-trip exactly; double quotes
 * with escapes for everything else.
 */
#include <string.h>
#include "kt/render.h"

static const char spaces[] = "                                                                "
			     "                                                                ";

static enum kt_rc indent_to(struct kt_buf *b, int n)
{
	enum kt_rc rc = KT_OK;

	while (n > 0 && rc == KT_OK) {
		int k = n < (int)sizeof(spaces) - 1 ? n : (int)sizeof(spaces) - 1;

		rc = kt_buf_add(b, spaces, (size_t)k);
		n -= k;
	}
	return rc;
}

/* Decode one UTF-8 sequence (jansson strings are valid UTF-8); returns its length. */
static size_t utf8_next(const unsigned char *s, size_t len, unsigned long *cp)
{
	if (s[0] < 0x80 || len < 2) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		*cp = ((unsigned long)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
		return 2;
	}
	if ((s[0] & 0xf0) == 0xe0 && len >= 3) {
		*cp = ((unsigned long)(s[0] & 0x0f) << 12) | ((unsigned long)(s[1] & 0x3f) << 6) |
		      (s[2] & 0x3f);
		return 3;
	}
	if (len >= 4) {
		*cp = ((unsigned long)(s[0] & 0x07) << 18) | ((unsigned long)(s[1] & 0x3f) << 12) |
		      ((unsigned long)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
		return 4;
	}
	*cp = s[0];
	return 1;
}

/* Not printable in YAML (c-printable), or a line break YAML 1.1 knows. */
static int must_escape(unsigned long cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 ||
	       cp == 0x2029 || cp == 0xfeff || cp == 0xfffe || cp == 0xffff;
}

/* [A-Za-z0-9-._/:@+ ]: a 256-entry table, this runs for every scalar */
static const unsigned char plain_chars[256] = {
	[' '] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['/'] = 1, [':'] = 1, ['@'] = 1, ['_'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
	['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
	['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
	['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
	['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
	['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
};

/* Words that YAML 1.1 or 1.2 resolvers read as booleans or null. */
static int reserved_word(const char *s, size_t len)
{
	static const char *const words[] = { "y", "n", "yes", "no", "true", "false",
					     "on", "off", "null" };
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
 * A literal block (|) round-trips when the text spans lines, every
 * character is printable or a tab, no line ends in blanks (a reader would
 * keep them but they are invisible and whitespace-only lines confuse
 * indentation detection), and the first line neither is empty nor starts
 * with a blank (that line sets the block's indentation).
 */
static int literal_ok(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	int has_nl = 0;

	if (len == 0 || s[0] == '\n' || s[0] == ' ' || s[0] == '\t')
		return 0;
	while (i < len) {
		unsigned long cp;
		size_t n = utf8_next(p + i, len - i, &cp);

		if (cp == '\n') {
			has_nl = 1;
			if (i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t'))
				return 0;
		} else if (cp != '\t' && must_escape(cp)) {
			return 0;
		}
		i += n;
	}
	if (s[len - 1] == ' ' || s[len - 1] == '\t')
		return 0;
	return has_nl;
}

static enum kt_rc write_double_quoted(struct kt_buf *b, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;
	enum kt_rc rc;

	if ((rc = kt_buf_addch(b, '"')))
		return rc;
	while (i < len) {
		unsigned long cp;
		size_t n = utf8_next(p + i, len - i, &cp);
		const char *esc = NULL;
		char hex[12];

		if (cp == '"')
			esc = "\\\"";
		else if (cp == '\\')
			esc = "\\\\";
		else if (cp == '\n')
			esc = "\\n";
		else if (cp == '\t')
			esc = "\\t";
		else if (cp == '\r')
			esc = "\\r";
		else if (must_escape(cp)) {
			snprintf(hex, sizeof(hex), "\\u%04lX", cp);
			esc = hex;
		}
		if (esc) {
			if ((rc = kt_buf_add(b, s + run, i - run)) || (rc = kt_buf_adds(b, esc)))
				return rc;
			run = i + n;
		}
		i += n;
	}
	if ((rc = kt_buf_add(b, s + run, len - run)))
		return rc;
	return kt_buf_addch(b, '"');
}

/* "|", "|-" or "|+" then each line at indent (empty lines stay empty). */
static enum kt_rc write_literal(struct kt_buf *b, const char *s, size_t len, int indent)
{
	size_t trailing = 0, i = 0;
	enum kt_rc rc;

	while (trailing < len && s[len - 1 - trailing] == '\n')
		trailing++;
	rc = kt_buf_adds(b, trailing == 0 ? "|-\n" : trailing == 1 ? "|\n" : "|+\n");
	while (rc == KT_OK && i < len) {
		const char *nl = memchr(s + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - s) : len;

		if (end > i)
			rc = indent_to(b, indent);
		if (rc == KT_OK)
			rc = kt_buf_add(b, s + i, end - i);
		if (rc == KT_OK)
			rc = kt_buf_addch(b, '\n');
		i = end + 1;
	}
	return rc;
}

/* A key: never a block scalar. */
static enum kt_rc write_key(struct kt_buf *b, const char *s, size_t len)
{
	if (plain_ok(s, len))
		return kt_buf_add(b, s, len);
	return write_double_quoted(b, s, len);
}

/* A scalar after "key: " or "- ", ending the line; literal blocks at indent. */
static enum kt_rc write_scalar(struct kt_buf *b, json_t *v, int indent)
{
	enum kt_rc rc;

	switch (json_typeof(v)) {
	case JSON_STRING: {
		const char *s = json_string_value(v);
		size_t len = json_string_length(v);

		if (plain_ok(s, len))
			rc = kt_buf_add(b, s, len);
		else if (literal_ok(s, len))
			return write_literal(b, s, len, indent);
		else
			rc = write_double_quoted(b, s, len);
		break;
	}
	case JSON_INTEGER:
		rc = kt_buf_addf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL: {
		char num[40];

		/* %.17g round-trips a double; keep a '.' so it stays a float */
		snprintf(num, sizeof(num), "%.17g", json_real_value(v));
		rc = kt_buf_adds(b, num);
		if (rc == KT_OK && !strpbrk(num, ".eEn"))
			rc = kt_buf_adds(b, ".0");
		break;
	}
	case JSON_TRUE:
		rc = kt_buf_adds(b, "true");
		break;
	case JSON_FALSE:
		rc = kt_buf_adds(b, "false");
		break;
	default:
		rc = kt_buf_adds(b, "null");
		break;
	}
	return rc ? rc : kt_buf_addch(b, '\n');
}

static int is_empty_collection(json_t *v)
{
	return (json_is_object(v) && json_object_size(v) == 0) ||
	       (json_is_array(v) && json_array_size(v) == 0);
}

static enum kt_rc write_mapping(struct kt_buf *b, json_t *obj, int indent, int inline_first,
				int depth, struct kt_err *err);
static enum kt_rc write_sequence(struct kt_buf *b, json_t *arr, int indent, int inline_first,
				 int depth, struct kt_err *err);

/*
 * What follows "key:" or "- " (already written, without the space):
 * a scalar or an empty collection on the same line, or a block.
 * child_indent is where a nested mapping goes; a nested sequence under
 * a key goes at the key's own indentation, as kubectl writes it.
 */
static enum kt_rc write_value(struct kt_buf *b, json_t *v, int key_indent, int in_seq,
			      int depth, struct kt_err *err)
{
	enum kt_rc rc;
	int child = key_indent + 2;

	if (is_empty_collection(v))
		return kt_buf_adds(b, json_is_object(v) ? " {}\n" : " []\n");
	if (json_is_object(v)) {
		if (in_seq) /* "- key: v": the first key shares the dash's line */
			return (rc = kt_buf_addch(b, ' ')) ? rc
							   : write_mapping(b, v, child, 1, depth + 1, err);
		return (rc = kt_buf_addch(b, '\n')) ? rc : write_mapping(b, v, child, 0, depth + 1, err);
	}
	if (json_is_array(v)) {
		if (in_seq) /* "- - x" */
			return (rc = kt_buf_addch(b, ' ')) ? rc
							   : write_sequence(b, v, child, 1, depth + 1, err);
		return (rc = kt_buf_addch(b, '\n')) ? rc
						    : write_sequence(b, v, key_indent, 0, depth + 1, err);
	}
	return (rc = kt_buf_addch(b, ' ')) ? rc : write_scalar(b, v, child);
}

static enum kt_rc write_mapping(struct kt_buf *b, json_t *obj, int indent, int inline_first,
				int depth, struct kt_err *err)
{
	const char *key;
	size_t key_len;
	json_t *v;
	int first = 1;
	enum kt_rc rc;

	if (depth > KT_RENDER_MAX_DEPTH)
		return kt_err_set(err, KT_E_INVALID, "object nested deeper than %d levels",
				  KT_RENDER_MAX_DEPTH);
	json_object_keylen_foreach(obj, key, key_len, v) {
		if (!(first && inline_first) && (rc = indent_to(b, indent)))
			return rc;
		first = 0;
		if ((rc = write_key(b, key, key_len)) || (rc = kt_buf_addch(b, ':')))
			return rc;
		if ((rc = write_value(b, v, indent, 0, depth, err)))
			return rc;
	}
	return KT_OK;
}

static enum kt_rc write_sequence(struct kt_buf *b, json_t *arr, int indent, int inline_first,
				 int depth, struct kt_err *err)
{
	size_t i;
	json_t *v;
	enum kt_rc rc;

	if (depth > KT_RENDER_MAX_DEPTH)
		return kt_err_set(err, KT_E_INVALID, "object nested deeper than %d levels",
				  KT_RENDER_MAX_DEPTH);
	json_array_foreach(arr, i, v) {
		if (!(i == 0 && inline_first) && (rc = indent_to(b, indent)))
			return rc;
		if ((rc = kt_buf_addch(b, '-')))
			return rc;
		if ((rc = write_value(b, v, indent, 1, depth, err)))
			return rc;
	}
	return KT_OK;
}

enum kt_rc kt_render_yaml(json_t *obj, struct kt_buf *out, struct kt_err *err)
{
	size_t mark = out->len;
	enum kt_rc rc;

	rc = kt_buf_adds(out, "---\n");
	if (rc == KT_OK) {
		if (json_is_object(obj) && json_object_size(obj) > 0)
			rc = write_mapping(out, obj, 0, 1, 0, err);
		else if (json_is_array(obj) && json_array_size(obj) > 0)
			rc = write_sequence(out, obj, 0, 1, 0, err);
		else if (is_empty_collection(obj))
			rc = kt_buf_adds(out, json_is_object(obj) ? "{}\n" : "[]\n");
		else if (obj)
			rc = write_scalar(out, obj, 2);
		else
			rc = kt_err_set(err, KT_E_INTERNAL, "no object to write");
	}
	if (rc) {
		/* never leave half a document behind */
		out->len = mark;
		out->buf[mark] = '\0';
		if (rc == KT_E_NOMEM)
			kt_err_set(err, rc, "out of memory writing YAML");
	}
	return rc;
}
