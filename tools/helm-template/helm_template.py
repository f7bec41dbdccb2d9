"""A `helm template` front end over the Helm v4 engine (PyPI helm-python-sdk).

Implements exactly the part of the Helm CLI that fleet uses:

    helm version [--short]
    helm template NAME CHART [--namespace NS] [--include-crds] [--skip-tests]
                  [--no-hooks] [--kube-version V] [-f VALUES]...

and prints what `helm template` prints: the chart's CRDs (with
--include-crds), then its manifests in Helm's install order, then its hooks,
each document as "---\n# Source: <path>\n<content>\n". Errors go to stderr
as "Error: ..." with exit status 1, like Helm. CHART is a chart directory or
a packaged .tgz. Nothing here talks to a cluster or the network.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import helm_python as helm
from helm_python import _native

# Helm's releaseutil.InstallOrder.
INSTALL_ORDER = [
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
]

# Helm's releaseutil.SplitManifests separator.
SEPARATOR = re.compile(r"(?:^|\s*\n)---\s*")

USAGE = (
    "usage: helm template NAME CHART [--namespace NS] [--include-crds] "
    "[--skip-tests] [--no-hooks] [--kube-version V] [-f VALUES]...\n"
    "       helm version [--short]"
)


class UsageError(Exception):
    """A command line this front end does not implement."""


def parse_template_arguments(arguments: list[str]) -> dict[str, Any]:
    """The options of `helm template`; refuses anything not implemented."""
    options: dict[str, Any] = {
        "namespace": "default",
        "include_crds": False,
        "skip_tests": False,
        "no_hooks": False,
        "kube_version": None,
        "values": [],
    }
    positional: list[str] = []
    index = 0

    def value_of(flag: str) -> str:
        nonlocal index
        if "=" in arguments[index] and arguments[index].startswith("--"):
            return arguments[index].split("=", 1)[1]
        index += 1
        if index >= len(arguments):
            raise UsageError(f"flag needs an argument: {flag}")
        return arguments[index]

    while index < len(arguments):
        argument = arguments[index]
        flag = argument.split("=", 1)[0] if argument.startswith("--") else argument
        if flag in ("-n", "--namespace"):
            options["namespace"] = value_of(flag)
        elif flag in ("-f", "--values"):
            options["values"].append(value_of(flag))
        elif flag == "--kube-version":
            options["kube_version"] = value_of(flag)
        elif flag == "--include-crds":
            options["include_crds"] = True
        elif flag == "--skip-tests":
            options["skip_tests"] = True
        elif flag == "--no-hooks":
            options["no_hooks"] = True
        elif argument.startswith("-"):
            raise UsageError(f"unknown flag: {argument}")
        else:
            positional.append(argument)
        index += 1
    if len(positional) != 2:
        raise UsageError(f"expected NAME and CHART, got {positional}")
    options["name"], options["chart"] = positional
    return options


def merge_values(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Helm's mergeMaps: maps merge recursively, everything else replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_values(merged[key], value)
        else:
            merged[key] = value
    return merged


def read_values(paths: list[str]) -> dict[str, Any]:
    """The -f files merged in order (later files win)."""
    values: dict[str, Any] = {}
    for path in paths:
        try:
            with open(path, encoding="utf-8") as file:
                text = file.read()
        except OSError as error:
            raise helm.HelmError(f"open {path}: {error.strerror}") from error
        try:
            parsed = helm.values_from_yaml(text) if text.strip() else {}
        except helm.HelmError as error:
            raise helm.HelmError(f"failed to parse {path}: {error}") from error
        values = merge_values(values, parsed or {})
    return values


def kind_rank(kind: str) -> tuple[int, str]:
    """Helm's install order: known kinds first, then the rest by name."""
    if kind in INSTALL_ORDER:
        return (INSTALL_ORDER.index(kind), "")
    return (len(INSTALL_ORDER), kind)


def is_test_hook(hook: str) -> bool:
    return any(event.strip() in ("test", "test-success") for event in hook.split(","))


def template(options: dict[str, Any]) -> str:
    """What `helm template` prints for `options`."""
    helm.validate_release_name(options["name"])
    values = read_values(options["values"])
    render_options: dict[str, Any] = {
        "name": options["name"],
        "namespace": options["namespace"],
        "revision": 1,
        "is_install": True,
    }
    if options["kube_version"]:
        render_options["kube_version"] = options["kube_version"]
    printed: list[str] = []
    with helm.Chart.load(options["chart"]) as chart:
        chart.validate_schema(chart.merge_values(values))
        if options["include_crds"]:
            for crd in chart.crds:
                printed.append(f"---\n# Source: {crd['filename']}\n{crd['data']}\n")
        rendered: dict[str, str] = json.loads(
            _native.call_string(
                "helm_render", chart._raw(), json.dumps(values), json.dumps(render_options)
            )
        )
    manifests: list[tuple[tuple[int, str], int, str, str]] = []
    hooks: list[tuple[str, str]] = []
    for path in sorted(rendered):
        if path.endswith("NOTES.txt") or path.split("/")[-1].startswith("_"):
            continue
        for document in SEPARATOR.split(rendered[path]):
            document = document.strip("\n")
            if not document.strip():
                continue
            try:
                head = helm.values_from_yaml(document) or {}
            except helm.HelmError as error:
                raise helm.HelmError(f"YAML parse error on {path}: {error}") from error
            if not isinstance(head, dict):
                head = {}
            annotations = (head.get("metadata") or {}).get("annotations") or {}
            hook = annotations.get("helm.sh/hook")
            if hook is not None:
                if options["no_hooks"] or (options["skip_tests"] and is_test_hook(str(hook))):
                    continue
                hooks.append((path, document))
            else:
                kind = str(head.get("kind") or "")
                manifests.append((kind_rank(kind), len(manifests), path, document))
    for _, _, path, document in sorted(manifests):
        printed.append(f"---\n# Source: {path}\n{document}\n")
    for path, document in hooks:
        printed.append(f"---\n# Source: {path}\n{document}\n")
    return "".join(printed)


def main(arguments: list[str]) -> int:
    try:
        if arguments[:1] == ["version"]:
            print(f"v{helm.helm_sdk_version().lstrip('v')}+helm-python-sdk.{helm.__version__}")
            return 0
        if arguments[:1] != ["template"]:
            raise UsageError("only 'template' and 'version' are implemented")
        sys.stdout.write(template(parse_template_arguments(arguments[1:])))
        return 0
    except UsageError as error:
        print(f"Error: {error}\n{USAGE}", file=sys.stderr)
        return 1
    except helm.HelmRenderError as error:
        print(f"Error: template: {' '.join(str(error).split())}", file=sys.stderr)
        return 1
    except helm.HelmError as error:
        print(f"Error: {' '.join(str(error).split())}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
