"""Print ingress-nginx's annotation table (name, group, scope, risk, aliases, documentation).

Reads internal/ingress/annotations/*/main.go of an ingress-nginx checkout (the
`parser.AnnotationFields` of every parser) and prints JSON lines; used to write
ingresslib/ingress/annotations/_catalogue.py from v1.15.1:

    python scripts/annotation_catalogue.py /path/to/ingress-nginx [REV]
"""

from __future__ import annotations

import json
import re
import subprocess
import sys


def _show(repo: str, rev: str, path: str) -> str:
    return subprocess.run(
        ["git", "-C", repo, "show", f"{rev}:{path}"], check=True, capture_output=True, text=True
    ).stdout


def main() -> None:
    """Print one JSON line per annotation field of the parsers."""
    repo = sys.argv[1]
    rev = sys.argv[2] if len(sys.argv) > 2 else "HEAD"
    files = subprocess.run(
        ["git", "-C", repo, "ls-tree", "-r", "--name-only", rev, "internal/ingress/annotations/"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    for path in files:
        if not path.endswith(".go") or path.endswith("_test.go"):
            continue
        text = _show(repo, rev, path)
        constants = dict(re.findall(r'(\w+)\s*=\s*"([a-z0-9-]+)"', text))
        group_match = re.search(r'Group:\s*"([\w-]+)"', text)
        group = group_match.group(1) if group_match else ""
        for entry in re.finditer(r"\n\t\t(\w+):\s*\{(.*?)\n\t\t\},", text, re.DOTALL):
            key, body = entry.groups()
            name = constants.get(key)
            if name is None or "Documentation" not in body:
                continue
            doc = re.search(r"Documentation:\s*`(.*?)`", body, re.DOTALL)
            risk = re.search(r"Risk:\s*parser\.AnnotationRisk(\w+)", body)
            scope = re.search(r"Scope:\s*parser\.AnnotationScope(\w+)", body)
            aliases = re.search(r"AnnotationAliases:\s*\[\]string\{([^}]*)\}", body)
            alias_keys = [a.strip() for a in aliases.group(1).split(",")] if aliases else []
            alias_names = [constants.get(a, a) for a in alias_keys if a]
            print(
                json.dumps(
                    {
                        "name": name,
                        "group": group,
                        "scope": scope.group(1) if scope else "",
                        "risk": risk.group(1) if risk else "",
                        "aliases": alias_names,
                        "doc": " ".join((doc.group(1) if doc else "").split()),
                        "file": path,
                    }
                )
            )


if __name__ == "__main__":
    main()
