"""Packages a chart directory into DESTINATION and prints the archive's path
and digest as JSON; with an OCI reference also pushes it there (plain HTTP,
loopback registry).

usage: publish.py CHART_DIR DESTINATION [oci://127.0.0.1:PORT/path]
"""

import json
import sys

import helm_python as helm

chart, destination = sys.argv[1:3]
archive = helm.package(chart, destination=destination)
result = {"archive": archive, "digest": helm.digest(archive)}
if len(sys.argv) > 3:
    result["push"] = helm.push(archive, sys.argv[3], plain_http=True)
print(json.dumps(result))
