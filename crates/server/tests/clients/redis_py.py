"""redis-py against `kvbench serve` over RESP: every answer checked against the data file.

Usage: redis_py.py PORT DATA_FILE default|2|3
With `default` the client is built with no protocol argument (redis-py 8 speaks RESP3).
Prints one JSON line: what was checked, how many times.
"""

import json
import sys

import redis

from kvfile import Checks, absent, records


def main():
    port, path, protocol = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    options = {} if protocol == "default" else {"protocol": int(protocol)}
    r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10, **options)
    data = records(path)
    keys = sorted(data)
    misses, impossible = absent(data, 50)
    hello = r.execute_command("HELLO")
    proto = hello.get(b"proto", hello.get("proto")) if isinstance(hello, dict) else dict(zip(hello[::2], hello[1::2]))[b"proto"]
    checks = Checks("redis-py", redis.__version__, settings=protocol, proto=proto)

    for key in keys:
        checks.expect("get", r.get(key), data[key], key)
    for key in misses + impossible:
        checks.expect("miss", r.get(key), None, key)
    for start in range(0, len(keys), 40):
        batch = keys[start : start + 40] + misses[:2] + impossible[:2]
        checks.expect("mget", r.mget(batch), [data.get(k) for k in batch], batch[0])
    checks.expect("exists", r.exists(keys[0], keys[1], misses[0], impossible[0]), 2, keys[0])
    for transaction in (False, True):
        pipe = r.pipeline(transaction=transaction)
        batch = keys[:100] + misses[:5]
        for key in batch:
            pipe.get(key)
        operation = "transaction" if transaction else "pipeline"
        checks.expect(operation, pipe.execute(), [data.get(k) for k in batch], batch[0])
    binary = [k for k in keys if not data[k].isascii()]
    for key in binary:
        checks.expect("binary", r.get(key), data[key], key)
    checks.expect("dbsize", r.dbsize(), len(data), "DBSIZE")
    print(json.dumps(checks.summary))


if __name__ == "__main__":
    main()
