"""
The OpenAPI document (GET /openapi.json): valid by an independent validator
(Redocly's CLI, pinned by web/package-lock.json and installed by the test
command), the same routes and methods as the service's route table, and
real responses of every operation conform to it: each status an operation
answers is documented for it, and each JSON body validates against the
schema documented for that status (JSON Schema 2020-12, Debian's
python3-jsonschema).
"""

import json
import os
import re
import subprocess
import tempfile

import jsonschema
import pytest

from http_util import uniq

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
REDOCLY = os.path.join(REPO, "web", "node_modules", ".bin", "redocly")
METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture(scope="module")
def doc(public):
    r = public.get("/openapi.json")
    assert r.status == 200, r
    assert r.header("content-type").startswith("application/json")
    assert r.header("etag"), "an ETag"
    again = public.get("/openapi.json",
                       headers={"If-None-Match": r.header("etag")})
    assert again.status == 304, again
    return r.json()


def operations(doc):
    return {(path, m) for path, item in doc["paths"].items()
            for m in item if m in METHODS}


def test_the_document_is_valid_openapi_3_1(doc):
    assert doc["openapi"].startswith("3.1."), doc["openapi"]
    assert os.access(REDOCLY, os.X_OK), \
        f"{REDOCLY} missing: the test command installs it (npm ci in web/)"
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(doc, f)
    try:
        out = subprocess.run(
            [REDOCLY, "lint", f.name, "--format=stylish",
             "--config", os.path.join(REPO, "web", "redocly.yaml")],
            capture_output=True, text=True, timeout=120,
            env=dict(os.environ, REDOCLY_TELEMETRY="off",
                     REDOCLY_SUPPRESS_UPDATE_NOTICE="true"))
    finally:
        os.unlink(f.name)
    report = out.stdout + out.stderr
    assert out.returncode == 0, report
    assert not re.search(r"\b(warning|error)\b", report.split(
        "validated in")[0].split(".json:", 1)[-1]), report


def route_templates():
    """The templates of core/route.c's table: every route the service has."""
    src = open(os.path.join(REPO, "src", "core", "route.c")).read()
    table = src.split("static const struct route routes[ROUTE_COUNT] = {")[1]
    table = table.split("};")[0]
    found = re.findall(r'\{\s*ROUTE_\w+,\s*"([^"]+)"\s*\}', table)
    assert found, "no route found in src/core/route.c"
    return {re.sub(r":(\w+)", r"{\1}", t) for t in found if t != "unmatched"}


def test_every_route_is_documented_and_nothing_else(doc, instances):
    assert set(doc["paths"]) == route_templates()
    # Each path's methods, as the route table has them: the Allow header
    # of a 405 is computed from it (http/dispatch.c).
    for path, item in doc["paths"].items():
        concrete = path.replace("{id}", "1").replace(
            "{code}", "abcdef").replace("{file}", "app.js")
        r = instances[0].request("PATCH", concrete)
        assert r.status == 405, (path, r)
        allowed = {m.strip().lower() for m in r.header("allow").split(",")}
        documented = {m for m in item if m in METHODS}
        head = {"head"} if "get" in documented else set()
        # OPTIONS is answered on every route (CORS preflights and Allow,
        # docs/api.md), like HEAD never an operation of its own.
        assert allowed == documented | head | {"options"}, (path, allowed, documented)
        for m in documented:
            op = item[m]
            assert op.get("operationId") and op.get("summary"), (path, m)


class Checker:
    """Validates real responses against the document; records coverage."""

    def __init__(self, doc):
        self.doc = doc
        self.seen = set()
        self.resolver = jsonschema.RefResolver.from_schema(doc)

    def resolve(self, node):
        while isinstance(node, dict) and "$ref" in node:
            node = self.resolver.resolve(node["$ref"])[1]
        return node

    def check(self, path, method, resp):
        op = self.doc["paths"][path][method.lower()]
        responses = op["responses"]
        spec = responses.get(str(resp.status))
        assert spec is not None, \
            f"{method} {path}: {resp.status} is not documented ({resp!r})"
        spec = self.resolve(spec)
        ctype = (resp.header("content-type") or "").split(";")[0]
        content = spec.get("content", {})
        if "application/json" in content and resp.body:
            assert ctype == "application/json", (method, path, ctype)
            schema = content["application/json"]["schema"]
            jsonschema.validate(json.loads(resp.body), schema,
                                cls=jsonschema.Draft202012Validator,
                                resolver=self.resolver)
        elif content and resp.body:
            assert any(ctype == c or c == "*/*" for c in content), \
                (method, path, ctype, list(content))
        # Headers every such answer carries (lists' totals only come
        # with pagination, so they are not required here).
        for name in spec.get("headers", {}):
            if name in ("Location", "ETag", "Retry-After", "X-Cache"):
                assert resp.header(name) is not None, \
                    (method, path, resp.status, name)
        self.seen.add((path, method.lower()))
        return resp


def multipart(csv):
    boundary = "shortener" + uniq("b")
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"u.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n"
            f"--{boundary}--\r\n").encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def test_real_responses_conform(doc, public, instances, database_url):
    c = Checker(doc)
    P = public

    email = uniq("oa") + "@example.com"
    user = c.check("/users", "POST", P.post(
        "/users", {"username": "oa", "email": email})).json()
    c.check("/users", "POST", P.post("/users", {"username": "oa",
                                                "email": email}))     # 409
    c.check("/users", "POST", P.post("/users", {"username": 1}))      # 422
    c.check("/users", "GET", P.get("/users?per_page=2"))
    c.check("/users", "GET", P.get("/users?bogus=1"))                 # 400
    uid = user["id"]
    c.check("/users/{id}", "GET", P.get(f"/users/{uid}"))
    c.check("/users/{id}", "GET", P.get("/users/999999999"))          # 404
    c.check("/users/{id}", "PUT", P.request("PUT", f"/users/{uid}",
                                            {"username": "oa2"}))
    body, hdrs = multipart(f"username,email\nbulk,{uniq('bulk')}@example.com\n"
                           "bad,not-an-email\n")
    c.check("/users/bulk", "POST", P.post("/users/bulk", body, headers=hdrs))

    url = c.check("/urls", "POST", P.post("/urls", {
        "user_id": uid, "original_url": "https://example.com/oa",
        "title": "OpenAPI", "max_clicks": 1,
        "expires_at": "2099-01-01T00:00:00"})).json()
    c.check("/urls", "POST", P.post("/urls", {"user_id": uid,
                                              "original_url": "ftp://x"}))
    c.check("/urls", "POST", P.post("/urls", {"user_id": 999999999,
                                              "original_url": "https://x.y"}))
    c.check("/urls", "GET", P.get("/urls?per_page=3&q=example.com"))
    c.check("/urls", "GET", P.get(f"/urls?user_id={uid}"))
    rid, code = url["id"], url["short_code"]
    c.check("/urls/{id}", "GET", P.get(f"/urls/{rid}"))
    c.check("/urls/{id}", "PUT", P.request("PUT", f"/urls/{rid}",
                                           {"title": "changed"}))
    c.check("/urls/{id}", "PUT", P.request("PUT", f"/urls/{rid}",
                                           {"max_clicks": "x"}))      # 422
    c.check("/{code}", "GET", P.get("/" + code))                      # 302
    c.check("/{code}", "GET", P.get("/" + code))                      # 410
    c.check("/{code}", "GET", P.get("/no-such-code-here"))            # 404
    c.check("/urls/{code}/redirect", "GET",
            P.get(f"/urls/{code}/redirect"))                          # 410
    c.check("/urls/{id}/stats", "GET", P.get(f"/urls/{rid}/stats"))
    c.check("/urls/{id}/stats", "GET", P.get(f"/urls/{rid}/stats?to=x"))
    c.check("/urls/{id}/qr.svg", "GET", P.get(f"/urls/{rid}/qr.svg"))
    c.check("/urls/{id}/qr.png", "GET", P.get(f"/urls/{rid}/qr.png?size=9"))
    c.check("/urls/{id}/qr.png", "GET", P.get(f"/urls/{rid}/qr.png"))

    ev = c.check("/events", "POST", P.post("/events", {
        "url_id": rid, "user_id": uid, "event_type": "shared",
        "details": {"via": "test"}})).json()
    c.check("/events", "POST", P.post("/events", {"url_id": rid}))    # 422
    c.check("/events", "GET", P.get(f"/events?url_id={rid}&per_page=5"))
    c.check("/events/{id}", "GET", P.get(f"/events/{ev['id']}"))
    c.check("/events/{id}", "DELETE", P.request("DELETE",
                                                f"/events/{ev['id']}"))
    c.check("/events/{id}", "GET", P.get(f"/events/{ev['id']}"))      # 404

    c.check("/health", "GET", P.get("/health"))
    c.check("/ready", "GET", P.get("/ready"))
    c.check("/metrics", "GET", instances[0].get("/metrics"))
    c.check("/", "GET", P.get("/"))
    c.check("/docs", "GET", P.get("/docs"))
    c.check("/openapi.json", "GET", P.get("/openapi.json"))
    app = c.check("/static/{file}", "GET", P.get("/static/app.js"))
    c.check("/static/{file}", "GET", P.get(
        "/static/app.js", headers={"If-None-Match": app.header("etag")}))
    c.check("/static/{file}", "GET", P.get("/static/nothing.js"))     # 404

    c.check("/urls/{id}", "DELETE", P.request("DELETE", f"/urls/{rid}"))
    c.check("/users/{id}", "DELETE", P.request("DELETE", f"/users/{uid}"))

    # /keys needs an admin key whether or not keys are required; the first
    # is made as an operator makes one (scripts/apikey.py), then revoked.
    c.check("/keys", "GET", P.get("/keys"))                           # 401/403
    made = subprocess.run(["/usr/bin/python3", os.path.join(REPO, "scripts", "apikey.py"),
                           "create", "--name", uniq("oa"), "--scope", "admin"],
                          env=dict(os.environ, DATABASE_URL=database_url),
                          capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    admin = json.loads(made.stdout)
    K = {"X-Api-Key": admin["key"]}
    key = c.check("/keys", "POST", P.post("/keys", {
        "name": "oa", "scope": "read-only"}, headers=K)).json()
    c.check("/keys", "POST", P.post("/keys", {"name": "oa", "scope": "x"},
                                    headers=K))                       # 422
    c.check("/keys", "GET", P.get("/keys?per_page=2", headers=K))
    c.check("/keys/{id}", "GET", P.get(f"/keys/{key['id']}", headers=K))
    c.check("/keys/{id}", "DELETE", P.request("DELETE", f"/keys/{key['id']}",
                                              headers=K))
    c.check("/keys/{id}", "GET", P.get("/keys/999999999", headers=K))  # 404
    c.check("/keys/{id}", "DELETE", P.request("DELETE", f"/keys/{admin['id']}",
                                              headers=K))

    missing = operations(doc) - c.seen
    assert not missing, f"operations no test exercised: {sorted(missing)}"
