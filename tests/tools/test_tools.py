"""The repository's own tools, run in the unit stage (no service needed):
the include-layer check over src/ (scripts/check_layers.py) and the one
renderer of nginx.conf (scripts/nginx_conf.py) on the repository's file."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(REPO / "scripts"))

import nginx_conf  # noqa: E402

NGINX = (REPO / "nginx.conf").read_text()


def check_layers(src):
    return subprocess.run([sys.executable, REPO / "scripts" / "check_layers.py", src],
                          capture_output=True, text=True)


def test_src_layers_do_not_loop_back():
    p = check_layers(REPO / "src")
    assert p.returncode == 0, p.stdout + p.stderr


def test_an_upward_include_fails_the_layer_check(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(REPO / "src", src)
    victim = sorted((src / "core").glob("*.c"))[0]
    victim.write_text('#include "api/routes.h"\n' + victim.read_text())
    p = check_layers(src)
    assert p.returncode != 0
    assert "core/%s" % victim.name in p.stdout + p.stderr


def test_kore_in_core_fails_the_layer_check(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(REPO / "src", src)
    victim = sorted((src / "core").glob("*.c"))[0]
    victim.write_text("#include <kore/kore.h>\n" + victim.read_text())
    assert check_layers(src).returncode != 0


def test_nginx_limits_from_the_environment():
    env = {"NGINX_WRITE_RATE": "7", "NGINX_WRITE_BURST": "8", "NGINX_READ_RATE": "9",
           "NGINX_READ_BURST": "10", "NGINX_CONN_PER_ADDR": "11"}
    out = nginx_conf.render(NGINX, env)
    assert "zone=writes:10m rate=7r/s;" in out
    assert "zone=reads:10m rate=9r/s;" in out
    assert "limit_req zone=writes burst=8 nodelay;" in out
    assert "limit_req zone=reads burst=10 nodelay;" in out
    assert "limit_conn conns 11;" in out
    # Nothing else changed.
    assert len(out.splitlines()) == len(NGINX.splitlines())
    assert sum(a != b for a, b in zip(out.splitlines(), NGINX.splitlines())) == 5


def test_nginx_unset_limits_keep_the_file_defaults():
    assert nginx_conf.render(NGINX, {}) == NGINX


@pytest.mark.parametrize("value", ["x", "-1", "1.5", "10r/s"])
def test_nginx_limit_must_be_a_number(value):
    with pytest.raises(nginx_conf.RenderError, match="NGINX_READ_RATE"):
        nginx_conf.render(NGINX, {"NGINX_READ_RATE": value})


def test_nginx_drain_marks_one_instance_down():
    out = nginx_conf.render(NGINX, {}, drained="app2")
    down = [line for line in out.splitlines() if " down;" in line]
    assert len(down) == 1 and "server app2:8080" in down[0]
    with pytest.raises(nginx_conf.RenderError):
        nginx_conf.render(NGINX, {}, drained="app9")


def test_nginx_local_rules_move_everything_onto_loopback(tmp_path):
    ports = {"listen": 18080, "app1": 18081, "app2": 18082, "app3": 18083}
    out = nginx_conf.render(NGINX, {}, "app3", nginx_conf.local_rules(tmp_path, ports))
    assert "listen 127.0.0.1:18080;" in out
    assert "pid %s/nginx.pid;" % tmp_path in out
    assert "access_log %s/access.log" % tmp_path in out
    for a in ("app1", "app2", "app3"):
        assert "server 127.0.0.1:%d" % ports[a] in out
    assert "server app1:8080" not in out and "server app3:8080" not in out
    assert [l for l in out.splitlines() if " down;" in l][0].count("127.0.0.1:18083") == 1


def test_nginx_a_marked_line_that_no_longer_matches_fails():
    broken = NGINX.replace("server app1:8080", "server backend1:8080")
    ports = {"listen": 1, "app1": 2, "app2": 3, "app3": 4}
    with pytest.raises(nginx_conf.RenderError, match="app1"):
        nginx_conf.render(broken, {}, None, nginx_conf.local_rules("/tmp", ports))


def test_nginx_conf_command_line(tmp_path):
    dest = tmp_path / "nginx.conf"
    env = dict(os.environ, NGINX_CONN_PER_ADDR="5")
    p = subprocess.run([sys.executable, REPO / "scripts" / "nginx_conf.py", "--drain", "app1",
                        REPO / "nginx.conf", dest], env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    text = dest.read_text()
    assert "limit_conn conns 5;" in text and text.count(" down;") == 1
    env["NGINX_CONN_PER_ADDR"] = "many"
    p = subprocess.run([sys.executable, REPO / "scripts" / "nginx_conf.py",
                        REPO / "nginx.conf", dest], env=env, capture_output=True, text=True)
    assert p.returncode == 1 and "NGINX_CONN_PER_ADDR" in p.stderr
    assert "limit_conn conns 5;" in dest.read_text(), "a refused render replaced the file"


TLS_ENV = {"PUBLIC_TLS_PORT": "443", "TLS_CERT_FILE": "/etc/nginx/tls/cert.pem",
           "TLS_KEY_FILE": "/etc/nginx/tls/key.pem"}


def test_nginx_tls_template_rendered_into_the_include(tmp_path):
    """--tls with TLS_CERT_FILE: tls.d/tls.conf beside the output (the
    directory nginx.conf's `include tls.d/*.conf` reads), every setting
    filled in; without it, no file (plain HTTP)."""
    dest = tmp_path / "nginx.conf"
    cmd = [sys.executable, REPO / "scripts" / "nginx_conf.py", "--tls",
           REPO / "nginx" / "tls.conf.template", REPO / "nginx.conf", dest]
    p = subprocess.run(cmd, env=dict(os.environ, **TLS_ENV), capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "include tls.d/*.conf;" in dest.read_text()
    tls = (tmp_path / "tls.d" / "tls.conf").read_text()
    assert "ssl_certificate /etc/nginx/tls/cert.pem;" in tls
    assert "ssl_certificate_key /etc/nginx/tls/key.pem;" in tls
    assert "return 308 https://$host:443$request_uri;" in tls
    assert "Strict-Transport-Security" in tls and "${" not in tls
    env = {k: v for k, v in os.environ.items() if k not in TLS_ENV}
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert not (tmp_path / "tls.d" / "tls.conf").exists()


def test_nginx_tls_refuses_incomplete_or_unsafe_settings():
    template = (REPO / "nginx" / "tls.conf.template").read_text()
    for broken in ({"TLS_CERT_FILE": "/a.pem"}, dict(TLS_ENV, PUBLIC_TLS_PORT="x"),
                   dict(TLS_ENV, TLS_KEY_FILE="/k.pem; include /etc/passwd")):
        with pytest.raises(nginx_conf.RenderError):
            nginx_conf.render_tls(template, broken)
    out = nginx_conf.render_tls(template, TLS_ENV, listen="127.0.0.1:18443")
    assert "listen 127.0.0.1:18443 ssl http2;" in out


# ---- scripts/kore_conf.py: the one renderer of conf/shortener.conf ----------

import kore_conf  # noqa: E402

KORE = (REPO / "conf" / "shortener.conf").read_text()


def test_kore_conf_moves_the_public_bind_and_the_module_only():
    out = kore_conf.render_text(KORE, "0.0.0.0:8080", "/abs/shortener.so")
    changed = [(a, b) for a, b in zip(KORE.splitlines(), out.splitlines()) if a != b]
    assert len(KORE.splitlines()) == len(out.splitlines())
    assert len(changed) == 2, changed
    assert changed[0][1].split() == ["bind", "0.0.0.0", "8080"]
    assert changed[1][1].split()[:2] == ["load", "/abs/shortener.so"]


def test_kore_conf_refuses_a_file_without_bind_or_a_bad_address():
    with pytest.raises(kore_conf.RenderError):
        kore_conf.render_text("workers 2\n", "127.0.0.1:1")
    with pytest.raises(kore_conf.RenderError):
        kore_conf.render_text(KORE, "127.0.0.1")


def test_kore_conf_sets_the_workers_when_asked():
    out = kore_conf.render_text(KORE, "127.0.0.1:1", workers="1")
    assert [l.split() for l in out.splitlines() if l.split()[:1] == ["workers"]] == \
        [["workers", "1"]]
    with pytest.raises(kore_conf.RenderError):
        kore_conf.render("/nonexistent", "/tmp/x", "127.0.0.1:1", workers="two")


# scripts/fuzz.py: the figures it reads from libFuzzer's output, and the
# JUnit report the test command counts (through scripts/test_report.py).
FUZZ_LOG = """INFO: Seed: 1
#2\tINITED cov: 10 ft: 11 corp: 3/40b exec/s: 0 rss: 30Mb
#8192\tpulse  cov: 12 ft: 20 corp: 5/70b lim: 4 exec/s: 4096 rss: 31Mb
#20000\tDONE   cov: 14 ft: 25 corp: 7/99b lim: 8 exec/s: 6666 rss: 32Mb
stat::number_of_executed_units: 20000
stat::average_exec_per_sec:     6666
"""


def test_fuzz_figures_come_from_the_last_status_line_and_final_stats():
    import fuzz
    fig = fuzz.figures(FUZZ_LOG)
    assert fig["number_of_executed_units"] == "20000"
    assert fig["average_exec_per_sec"] == "6666"
    assert (fig["cov"], fig["ft"], fig["corp"]) == ("14", "25", "7/99b")


def test_fuzz_report_counts_a_failed_target_as_failed(tmp_path):
    import fuzz
    xml = tmp_path / "fuzz.xml"
    fuzz.junit(xml, [("fuzz_a", True, "PASS fuzz_a"),
                     ("fuzz_b", False, "==1==ERROR: x\nFAIL fuzz_b (exit 1)")])
    p = subprocess.run([sys.executable, REPO / "scripts" / "test_report.py", xml],
                       capture_output=True, text=True, check=True)
    assert p.stdout.split() == ["1", "1", "0"]
    assert 'message="FAIL fuzz_b (exit 1)"' in xml.read_text()
