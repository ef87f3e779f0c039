#!/usr/bin/env python3
"""Checks the relative links of Markdown files: the target file exists and,
for a link into a Markdown file, the #anchor names one of its headings (as
GitHub makes anchors).  Usage: check-links.py FILE.md...  Prints each broken
link as FILE:LINE: message and exits 1 if there is one."""
import os
import re
import sys

LINK = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)')


def anchors(path, cache={}):
    if path not in cache:
        seen, out, fence = {}, set(), False
        with open(path, encoding='utf-8') as f:
            for line in f:
                if line.lstrip().startswith('```'):
                    fence = not fence
                m = None if fence else re.match(r'#{1,6}\s+(.*?)\s*#*\s*$', line)
                if not m:
                    continue
                text = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', m.group(1))
                slug = re.sub(r'[^\w\- ]', '', text.lower()).replace(' ', '-')
                n = seen.get(slug, 0)
                seen[slug] = n + 1
                out.add(slug if n == 0 else '%s-%d' % (slug, n))
        cache[path] = out
    return cache[path]


def main(files):
    bad = 0
    for md in files:
        fence = False
        with open(md, encoding='utf-8') as f:
            for lineno, line in enumerate(f, 1):
                if line.lstrip().startswith('```'):
                    fence = not fence
                if fence:
                    continue
                for target in LINK.findall(re.sub(r'`[^`]*`', '', line)):
                    if re.match(r'[a-z][a-z0-9+.-]*:', target):
                        continue  # http:, https:, mailto:
                    path, _, anchor = target.partition('#')
                    full = os.path.normpath(os.path.join(os.path.dirname(md), path)) if path else md
                    if not os.path.exists(full):
                        print('%s:%d: %s: no such file' % (md, lineno, target))
                        bad = 1
                    elif anchor and full.endswith('.md') and anchor not in anchors(full):
                        print('%s:%d: %s: no heading #%s in %s' % (md, lineno, target, anchor, full))
                        bad = 1
    return bad


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
