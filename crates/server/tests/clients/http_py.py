"""requests (one kept-alive Session) against `kvbench serve` over HTTP: every answer checked.

Usage: http_py.py PORT DATA_FILE
Prints one JSON line: what was checked, how many times.
"""

import json
import sys
from urllib.parse import quote

import requests

from kvfile import Checks, absent, records


def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    data = records(path)
    keys = sorted(data)
    misses, impossible = absent(data, 50)
    checks = Checks("requests", requests.__version__, settings="Session (keep-alive)")
    with requests.Session() as http:
        def get(key):
            answer = http.get(f"http://127.0.0.1:{port}/kv/{quote(key, safe='')}", timeout=10)
            return answer.status_code, answer.content if answer.status_code == 200 else None

        for key in keys:
            checks.expect("get", get(key), (200, data[key]), key)
        for key in misses + impossible:
            checks.expect("miss", get(key), (404, None), key)
        for key in [k for k in keys if not data[k].isascii()]:
            checks.expect("binary", get(key), (200, data[key]), key)
        head = http.head(f"http://127.0.0.1:{port}/kv/{quote(keys[0], safe='')}", timeout=10)
        checks.expect("head", (head.status_code, head.content), (200, b""), keys[0])
    print(json.dumps(checks.summary))


if __name__ == "__main__":
    main()
