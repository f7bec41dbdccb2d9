"""Renders a chart straight through the Helm engine (helm_python), the way
`helm template --include-crds --skip-tests` would, and prints the objects as
a JSON list. Independent of tools/helm-template: the fleetctl tests compare
fleet's render against this.

usage: engine.py CHART VALUES_FILE INLINE_VALUES_JSON RELEASE NAMESPACE
"""

import json
import re
import sys

import helm_python as helm


def merge(base, override):
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


chart_path, values_file, inline, release, namespace = sys.argv[1:]
with open(values_file, encoding="utf-8") as file:
    values = merge(helm.values_from_yaml(file.read()), json.loads(inline))
documents = []
with helm.Chart.load(chart_path) as chart:
    documents.extend(crd["data"] for crd in chart.crds)
    rendered = chart.render(values, name=release, namespace=namespace, is_install=True)
for path, text in sorted(rendered.items()):
    if path.endswith("NOTES.txt"):
        continue
    documents.extend(re.split(r"(?m)^---\s*$", text))
objects = []
for document in documents:
    if not document.strip():
        continue
    value = helm.values_from_yaml(document)
    hook = ((value.get("metadata") or {}).get("annotations") or {}).get("helm.sh/hook", "")
    if "test" in [event.strip() for event in hook.split(",")]:
        continue
    objects.append(value)
print(json.dumps(objects))
