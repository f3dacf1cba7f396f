"""
The bulk import cannot stall a worker: a 16 MiB CSV is read, parsed and
stored while other requests on the same worker (an instance of one
worker) keep answering in milliseconds; a body or a file beyond its cap
is refused before anything is stored.

What is measured is the slowest of the /health requests sent every few
ms beside the import. Parsing on the event loop (before issue 13) held
it for the whole parse: 170-260 ms for these files on the development
machine, every time. Kore itself still reads the body in its loop,
SHA-256 and all, which costs a 16 MiB body some 20-50 ms once. A busy
machine adds stalls of its own to any single measurement, so the strict
bound gets three tries: a worker that parses on its loop fails all
three.
"""

import threading
import time

import client
from conftest import BULK_ROWS_MAX, psql
from test_scopes import multipart

SIZE = 16 * 1024 * 1024
STRICT_MS = 120
TRIES = 3


def padded_csv(tag, rows=10000):
    """rows users, padded with a column the import ignores to fill
    16 MiB of request body."""
    head = "id,username,email,created_at,notes\n"
    room = SIZE - 400 - len(head)
    lines = [f",{tag}{i},{tag}{i}@example.com,2024-01-02 03:04:05,"
             for i in range(rows)]
    pad = (room - sum(len(r) + 1 for r in lines)) // rows
    return (head + "".join(r + "x" * pad + "\n" for r in lines)).encode()


def dense_csv(tag):
    """As many rows as 16 MiB holds (about 480 000), every one refused
    (no email): all parsing, nothing for the database."""
    head = "username,email\n"
    out, size, n = [head], len(head), 0
    while True:
        line = f"{tag[:8]}{n:08d},not-an-email-{n:08d}\n"
        if size + len(line) > SIZE - 400:
            return "".join(out).encode(), n
        out.append(line)
        size += len(line)
        n += 1


def upload_beside_probes(base, key, body):
    """POSTs body while a second connection probes /health; (response,
    seconds the upload took, probe latencies in ms)."""
    stop, lat = threading.Event(), []
    prober = client.Client(base)

    def probe():
        while not stop.is_set():
            t = time.perf_counter()
            r = prober.get("/health")
            assert r.status == 200
            lat.append((time.perf_counter() - t) * 1000)
            time.sleep(0.002)

    t = threading.Thread(target=probe)
    t.start()
    time.sleep(0.2)
    up = client.Client(base)
    start = time.perf_counter()
    r = up.post("/users/bulk", body=body, timeout=120, headers={
        "X-Api-Key": key, "Content-Type": "multipart/form-data; boundary=XyZ"})
    took = time.perf_counter() - start
    time.sleep(0.2)
    stop.set()
    t.join()
    up.close()
    prober.close()
    return r, took, sorted(lat)


def report(name, took, lat):
    print(f"{name}: upload {took:.2f} s; /health beside it: {len(lat)}"
          f" probes, p50 {lat[len(lat) // 2]:.2f} ms, p99"
          f" {lat[int(len(lat) * 0.99)]:.2f} ms, max {lat[-1]:.1f} ms")


def test_parsing_16_mib_holds_no_worker(instances, admin):
    base = instances["clients"]["single"].base
    tag = client.uniq("dense")
    csv, rows = dense_csv(tag)
    body = multipart(csv)
    assert len(body) <= SIZE
    worst = []
    for _ in range(TRIES):
        r, took, lat = upload_beside_probes(base, admin, body)
        report("16 MiB, every row refused", took, lat)
        assert r.status == 201, r
        assert r.json()["skipped"] == rows and r.json()["imported"] == 0
        assert len(lat) >= took * 50, (len(lat), took)
        worst.append(lat[-1])
        if lat[-1] < STRICT_MS:
            break
    assert min(worst) < STRICT_MS, worst


def test_a_16_mib_import_is_stored_beside_other_requests(instances, admin):
    base = instances["clients"]["single"].base
    tag = client.uniq("bulk")
    body = multipart(padded_csv(tag))
    assert len(body) <= SIZE
    r, took, lat = upload_beside_probes(base, admin, body)
    report("16 MiB, 10 000 users stored", took, lat)
    assert r.status == 201, r
    assert r.json()["imported"] == 10000 and r.json()["skipped"] == 0, r
    assert psql("SELECT count(*) FROM users WHERE username LIKE :'t'",
                t=tag + "%") == "10000"
    assert len(lat) >= took * 50, (len(lat), took)
    assert lat[len(lat) // 2] < 5.0, lat[len(lat) // 2]
    assert lat[-1] < 500, lat[-1]


def test_a_file_over_the_row_cap_is_refused(a, admin):
    tag = client.uniq("cap")
    csv = "username,email\n" + "".join(
        f"{tag}{i},{tag}{i}@example.com\n" for i in range(BULK_ROWS_MAX + 1))
    r = a.post("/users/bulk", body=multipart(csv.encode()), headers={
        "X-Api-Key": admin, "Content-Type": "multipart/form-data; boundary=XyZ"})
    assert r.status == 422, r
    assert "BULK_MAX_ROWS" in r.json()["fields"]["file"]
    assert psql("SELECT count(*) FROM users WHERE username LIKE :'t'",
                t=tag + "%") == "0"


def test_a_body_over_the_size_cap_is_refused(instances, admin):
    """The isolated instance has BULK_BODY_MAX=65536."""
    c = instances["clients"]["isolated"]
    tag = client.uniq("size")
    csv = "username,email\n" + "".join(
        f"{tag}{i},{tag}{i}@example.com\n" for i in range(3000))
    r = c.post("/users/bulk", body=multipart(csv.encode()), headers={
        "X-Api-Key": admin, "Content-Type": "multipart/form-data; boundary=XyZ"})
    assert r.status == 413, r
    assert psql("SELECT count(*) FROM users WHERE username LIKE :'t'",
                t=tag + "%") == "0"
