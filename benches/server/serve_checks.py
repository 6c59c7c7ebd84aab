"""Two behaviours of a `kvbench serve` binary that tests cannot time, measured.

Usage: [TRIES=N] serve_checks.py KVBENCH DATA_FILE KEY VALUE
  (KEY a key of DATA_FILE and VALUE its value; the server runs on port 0 and is stopped.)
Prints one JSON line:
- half_close_lost_threads_T: of TRIES (default 300) HTTP GETs, each sent on a
  fresh connection whose sending side is then shut (as `printf … | nc` does),
  how many got no complete answer, on 1 and on 2 threads;
- sigterm_to_exit_s_with_half_requests: seconds from SIGTERM to exit with a
  half-sent HTTP request and a half-sent RESP command open.
"""
import json, os, re, signal, socket, subprocess, sys, time

kvbench, data, key, value = sys.argv[1:5]

def start(threads):
    p = subprocess.Popen([kvbench, "serve", "--data", data, "--strategy", "hashmap", "--http", "127.0.0.1:0",
                          "--resp", "127.0.0.1:0", "--threads", str(threads)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    ports = {}
    while len(ports) < 2:
        line = p.stdout.readline()
        m = re.search(r"listening on (\w+)://[\d.]+:(\d+)", line)
        if m:
            ports[m.group(1)] = int(m.group(2))
    return p, ports

def half_close(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(f"GET /{key} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    s.shutdown(socket.SHUT_WR)
    s.settimeout(5)
    got = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
    except OSError:
        pass
    s.close()
    return got.startswith(b"HTTP/1.1 200") and got.endswith(value.encode())

out = {}
for threads in (1, 2):
    p, ports = start(threads)
    out[f"half_close_lost_threads_{threads}"] = sum(not half_close(ports["http"]) for _ in range(int(os.environ.get("TRIES", "300"))))
    p.send_signal(signal.SIGTERM); p.wait()

p, ports = start(1)
h = socket.create_connection(("127.0.0.1", ports["http"])); h.sendall(b"GET /x HTTP/1.1\r\nhos")
r = socket.create_connection(("127.0.0.1", ports["resp"])); r.sendall(b"*2\r\n$3\r\nGET")
time.sleep(0.3)
t = time.monotonic(); p.send_signal(signal.SIGTERM); p.wait()
out["sigterm_to_exit_s_with_half_requests"] = round(time.monotonic() - t, 3)
print(json.dumps(out))
