"""
TLS on the public side: the repository's nginx.conf with the TLS include
(nginx/tls.conf.template) and a certificate from scripts/tls-cert.sh, in
front of one instance: HTTPS answers with HSTS, plain HTTP is a redirect
to the same URL over HTTPS. nginx.conf is rendered the way the
Docker-free stack renders it, the template the way the nginx container
does: both by scripts/nginx_conf.py.
"""

import http.client
import os
import ssl
import subprocess
import sys
import time

import pytest

import client
from conftest import REPO, SCRIPTS

sys.path.insert(0, SCRIPTS)
import nginx_conf  # noqa: E402  scripts/nginx_conf.py, the one renderer


@pytest.fixture(scope="module")
def tls_nginx(instances, workdir):
    if subprocess.run(["which", "nginx"], capture_output=True).returncode:
        pytest.fail("nginx is not installed (scripts/deps.sh)")
    prefix = os.path.join(workdir, "nginx")
    os.makedirs(os.path.join(prefix, "tls.d"), exist_ok=True)
    os.makedirs(os.path.join(prefix, "tmp"), exist_ok=True)
    certs = os.path.join(workdir, "tls")
    subprocess.run([os.path.join(SCRIPTS, "tls-cert.sh"), certs], check=True,
                   capture_output=True)
    http_port, tls_port = client.free_port(), client.free_port()
    upstream = int(instances["clients"]["a"].base.rsplit(":", 1)[1])
    ports = {"listen": http_port, "app1": upstream, "app2": upstream, "app3": upstream}
    with open(os.path.join(REPO, "nginx.conf")) as f:
        conf = nginx_conf.render(f.read(), {}, None, nginx_conf.local_rules(prefix, ports))
    with open(os.path.join(prefix, "nginx.conf"), "w") as f:
        f.write(conf)
    env = {"PUBLIC_TLS_PORT": str(tls_port),
           "TLS_CERT_FILE": os.path.join(certs, "cert.pem"),
           "TLS_KEY_FILE": os.path.join(certs, "key.pem")}
    with open(os.path.join(REPO, "nginx", "tls.conf.template")) as f:
        # The container listens on 8443; here, a free loopback port.
        tls = nginx_conf.render_tls(f.read(), env, listen="127.0.0.1:%d" % tls_port)
    with open(os.path.join(prefix, "tls.d", "tls.conf"), "w") as f:
        f.write(tls)
    args = ["nginx", "-p", prefix + "/", "-c", os.path.join(prefix,
            "nginx.conf"), "-e", os.path.join(prefix, "error.log")]
    r = subprocess.run(args + ["-t"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    subprocess.run(args, check=True)
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", http_port,
                                           timeout=1).connect()
                break
            except OSError:
                time.sleep(0.05)
        yield {"http": http_port, "tls": tls_port,
               "ca": env["TLS_CERT_FILE"]}
    finally:
        subprocess.run(args + ["-s", "quit"], capture_output=True)


def https(t, method, path, headers=None, body=None):
    ctx = ssl.create_default_context(cafile=t["ca"])
    c = http.client.HTTPSConnection("localhost", t["tls"], context=ctx,
                                    timeout=10)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r, data


def test_https_answers_with_hsts(tls_nginx, admin):
    r, body = https(tls_nginx, "GET", "/health")
    assert r.status == 200 and b'"ok"' in body
    hsts = r.getheader("strict-transport-security")
    assert hsts and "max-age=63072000" in hsts
    r, body = https(tls_nginx, "GET", "/users?per_page=1",
                    {"X-Api-Key": admin})
    assert r.status == 200, body
    assert r.getheader("strict-transport-security")
    r, body = https(tls_nginx, "GET", "/users?per_page=1")
    assert r.status == 401, body


def test_plain_http_is_redirected_to_https(tls_nginx):
    for method in ("GET", "POST"):
        c = http.client.HTTPConnection("127.0.0.1", tls_nginx["http"],
                                       timeout=10)
        c.request(method, "/urls?per_page=2", body=b"{}" if method == "POST"
                  else None, headers={"Host": "short.example"})
        r = c.getresponse()
        r.read()
        assert r.status == 308, method
        assert r.getheader("location") == \
            f"https://short.example:{tls_nginx['tls']}/urls?per_page=2"


def test_the_certificate_is_self_signed_for_local_names(tls_nginx):
    out = subprocess.run(["openssl", "x509", "-in", tls_nginx["ca"], "-noout",
                          "-ext", "subjectAltName"], capture_output=True,
                         text=True).stdout
    assert "DNS:localhost" in out and "127.0.0.1" in out
