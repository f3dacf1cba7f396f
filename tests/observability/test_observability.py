"""The monitoring configuration: prometheus.yml, prometheus/alerts.yml (and
alerts_test.yml), alertmanager/alertmanager.yml.tmpl, the Grafana
provisioning and dashboard. scripts/test.py runs this suite in the
integration stage while its app is up (SHORTENER_URL); alone:

    /usr/bin/python3 -m pytest -rs tests/observability            # static part
    SHORTENER_URL=http://127.0.0.1:PORT /usr/bin/python3 -m pytest -rs tests/observability

Static (no service): `promtool check config` (the repository's file and a
rendered copy), `promtool check rules`, `promtool test rules` (every alert
has a firing and a not-firing case), each alert's labels and annotations,
the rendered Alertmanager config through `amtool check-config` and `amtool
config routes test`, the dashboard JSON's structure and datasource uid.

Live (SHORTENER_URL, a running app; skipped with that reason without it): a
private Prometheus on a free 127.0.0.1 port scrapes the app every second
(prometheus.yml rendered by scripts/prometheus_conf.py: app1:8080 -> the
app, app2, app3 and alertmanager dropped), traffic that feeds every panel
is sent, then: every panel query returns a non-NaN sample (except panels in
NO_DATA_OK); every alert rule is healthy and its expression evaluates (an
empty result, not firing, is fine); the alerts meaning "the test stack is
broken" are inactive; every metric and selector label the dashboard and the
rules use exists (`or vector(0)` in a ratio would hide a misspelt one); every
family GET /metrics exposes is on the dashboard.

Grafana variables do not parse in Prometheus: before a panel query is sent,
$__rate_interval becomes 1m (60 samples at a 1 s scrape) and $instance
becomes .* (the "All" value). A query still holding a `$` fails: add the new
variable to GRAFANA_VARS. Prometheus's log, the rendered config, the scraped
/metrics and every query's answer stay in .build/test-logs/observability/.
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(REPO / "scripts"))

import alertmanager_conf  # noqa: E402
import prometheus_conf  # noqa: E402

RULES = REPO / "prometheus" / "alerts.yml"
RULE_TESTS = REPO / "prometheus" / "alerts_test.yml"
DASHBOARD = REPO / "grafana" / "dashboards" / "shortener.json"
DATASOURCES = REPO / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
OUT = REPO / ".build" / "test-logs" / "observability"
SHORTENER_URL = (os.environ.get("SHORTENER_URL") or "").rstrip("/")

GRAFANA_VARS = [("${__rate_interval}", "1m"), ("$__rate_interval", "1m"),
                ("${instance}", ".*"), ("$instance", ".*")]

# Panels allowed to return no data here, "title/refId": reason. Keep it
# empty unless the test cannot produce the data (the traffic below is meant
# to feed every panel).
NO_DATA_OK = {}

# Alerts that must be inactive while the test's stack is healthy.
MUST_BE_INACTIVE = ["ShortenerInstanceDown", "ShortenerPostgresDown"]

ALERTS = [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]
          if "alert" in r]
DASH = json.loads(DASHBOARD.read_text())
PANELS = [p for p in DASH["panels"] if p.get("type") != "row"]
PANEL_TARGETS = [(p, t) for p in PANELS for t in p.get("targets") or []]


def run(cmd, **kw):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)


def ok(p):
    assert p.returncode == 0, (p.stdout + p.stderr)[-4000:]
    return p


def substitute_vars(q):
    for var, value in GRAFANA_VARS:
        q = q.replace(var, value)
    return q


@pytest.fixture(scope="module")
def tmp():
    d = Path(tempfile.mkdtemp(prefix="shortener-obs."))
    yield d
    shutil.rmtree(d, ignore_errors=True)


# ---- static ------------------------------------------------------------------

def test_promtool_checks_the_repository_config():
    ok(run(["promtool", "check", "config", "prometheus.yml"], cwd=REPO))


def test_rendered_stack_config_passes_promtool_and_keeps_no_container_address(tmp):
    path = prometheus_conf.render(tmp / "stack", "5s", [
        ("app1:8080", "127.0.0.1:8081"), ("app2:8080", "127.0.0.1:8082"),
        ("app3:8080", "127.0.0.1:8083"), ("alertmanager:9093", "127.0.0.1:9093"),
        ("localhost:9090", "127.0.0.1:9090")])
    ok(run(["promtool", "check", "config", path]))
    left = [l for l in path.read_text().splitlines() if not l.lstrip().startswith("#")
            and re.search(r"app[0-9]:8080|alertmanager:9093|localhost:9090", l)]
    assert not left, left


def test_renderer_refuses_an_address_not_in_prometheus_yml(tmp):
    p = run([REPO / "scripts" / "prometheus_conf.py", tmp / "bad", "app9:8080=127.0.0.1:1"])
    assert p.returncode != 0
    assert "app9:8080 does not occur" in p.stderr
    assert not (tmp / "bad" / "prometheus.yml").exists()


def test_promtool_check_rules():
    ok(run(["promtool", "check", "rules", RULES]))


def test_promtool_test_rules():
    ok(run(["promtool", "test", "rules", RULE_TESTS]))


def test_every_alert_has_a_firing_and_a_quiet_test():
    cases = set()
    for t in yaml.safe_load(RULE_TESTS.read_text())["tests"]:
        for c in t.get("alert_rule_test") or []:
            cases.add((c["alertname"], "fires" if c.get("exp_alerts") else "quiet"))
    names = {a["alert"] for a in ALERTS}
    problems = ["%s: no test where it %s" % (a, "fires" if k == "fires" else "must not fire")
                for a in sorted(names) for k in ("fires", "quiet") if (a, k) not in cases]
    # A typo with `exp_alerts: []` would pass vacuously.
    problems += ["alerts_test.yml names unknown alert %s" % a
                 for a in sorted({a for a, _ in cases} - names)]
    assert names and not problems, problems


@pytest.mark.parametrize("alert", ALERTS, ids=[a["alert"] for a in ALERTS])
def test_alert_has_severity_annotations_and_runbook(alert):
    name, ann = alert["alert"], alert.get("annotations") or {}
    assert (alert.get("labels") or {}).get("severity") in ("critical", "warning")
    assert ann.get("summary") and ann.get("description")
    assert ann.get("runbook_url") == "docs/runbooks/%s.md" % name
    assert (REPO / ann["runbook_url"]).is_file()


URL = "http://127.0.0.1:9/hook?token=t'x"


@pytest.fixture(scope="module")
def alertmanager_yml(tmp):
    return Path(alertmanager_conf.render(str(tmp / "alertmanager.yml"), URL))


def test_alertmanager_config_renders_for_amtool(alertmanager_yml):
    ok(run(["amtool", "check-config", alertmanager_yml]))
    assert "url: 'http://127.0.0.1:9/hook?token=t''x'" in alertmanager_yml.read_text()
    assert stat.S_IMODE(alertmanager_yml.stat().st_mode) == 0o600


def test_alertmanager_renderer_refuses_without_url(tmp):
    env = {k: v for k, v in os.environ.items() if k != "ALERT_WEBHOOK_URL"}
    p = run([REPO / "scripts" / "alertmanager_conf.py", tmp / "nourl.yml"], env=env)
    assert p.returncode != 0 and "ALERT_WEBHOOK_URL" in p.stderr
    assert not (tmp / "nourl.yml").exists()


@pytest.mark.parametrize("alert", ALERTS, ids=[a["alert"] for a in ALERTS])
def test_alert_routes_to_the_webhook(alert, alertmanager_yml):
    p = ok(run(["amtool", "config", "routes", "test",
                "--config.file=%s" % alertmanager_yml, "alertname=%s" % alert["alert"],
                "severity=%s" % alert["labels"]["severity"], "instance=app1:8080"]))
    assert p.stdout.strip() == "webhook"


def test_dashboard_structure_and_datasource():
    uid = yaml.safe_load(DATASOURCES.read_text())["datasources"][0]["uid"]
    problems = [] if DASH.get("uid") else ["dashboard has no uid"]
    ids = [p["id"] for p in DASH["panels"]]
    problems += ["panel id %s used twice" % i for i in sorted(set(ids)) if ids.count(i) > 1]
    for p in DASH["panels"]:
        g = p["gridPos"]
        if g["x"] + g["w"] > 24 or g["w"] < 1 or g["h"] < 1:
            problems.append("%s: gridPos outside the grid" % p["title"])
    for p in PANELS:
        targets = p.get("targets") or []
        if (p.get("datasource") or {}).get("uid") != uid:
            problems.append("%s: datasource is not %s" % (p["title"], uid))
        if not targets:
            problems.append("%s: no query" % p["title"])
        for t in targets:
            if (t.get("datasource") or {}).get("uid") != uid or not t.get("expr") \
                    or not t.get("refId"):
                problems.append("%s/%s: no expr, refId or wrong datasource"
                                % (p["title"], t.get("refId")))
        refs = [t.get("refId") for t in targets]
        if len(refs) != len(set(refs)):
            problems.append("%s: refIds repeat" % p["title"])
    for v in DASH["templating"]["list"]:
        if v.get("type") == "query" and (v.get("datasource") or {}).get("uid") != uid:
            problems.append("variable %s: datasource is not %s" % (v["name"], uid))
    assert not problems, problems


# ---- live --------------------------------------------------------------------

live = pytest.mark.skipif(not SHORTENER_URL, reason="SHORTENER_URL not set: no app to "
                          "scrape (scripts/test.py's integration stage sets it)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Prometheus:
    def __init__(self, tmp):
        self.app = urllib.parse.urlsplit(SHORTENER_URL).netloc
        port = free_port()
        self.url = "http://127.0.0.1:%d" % port
        self.config = prometheus_conf.render(tmp / "prom", "1s", [
            ("app1:8080", self.app), ("app2:8080", ""), ("app3:8080", ""),
            ("alertmanager:9093", ""), ("localhost:9090", "127.0.0.1:%d" % port)])
        shutil.copy(self.config, OUT / "prometheus.yml")
        self.log = open(OUT / "prometheus.log", "w")
        self.proc = subprocess.Popen(
            ["prometheus", "--config.file=%s" % self.config,
             "--storage.tsdb.path=%s" % (tmp / "prom" / "data"),
             "--storage.tsdb.retention.time=1h", "--web.listen-address=127.0.0.1:%d" % port,
             "--log.level=warn"], stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline and self.proc.poll() is None:
            try:
                urllib.request.urlopen(self.url + "/-/ready", timeout=2)
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError("prometheus not ready on %s:\n%s"
                             % (self.url, (OUT / "prometheus.log").read_text()[-2000:]))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def get(self, path, **params):
        data = urllib.parse.urlencode(params, doseq=True).encode()
        with urllib.request.urlopen(self.url + path, data=data or None, timeout=10) as r:
            return json.load(r)

    def query(self, expr):
        """The answer to an instant query (POST, so any length); errors too."""
        try:
            return self.get("/api/v1/query", query=expr)
        except urllib.error.HTTPError as e:
            return json.load(e)

    def wait_for(self, expr, seconds):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if self.query(expr).get("data", {}).get("result"):
                return
            time.sleep(0.5)
        raise AssertionError("no sample for %s after %d s" % (expr, seconds))


@pytest.fixture(scope="module")
def out():
    """OUT, emptied once: what an earlier run left must not pass for this one's."""
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    return OUT


@pytest.fixture(scope="module")
def prom(tmp, out):
    p = Prometheus(tmp)
    yield p
    p.stop()


def drive_traffic():
    """Traffic for every panel: API reads and writes (database latency), a
    redirect that is found (cache miss then hits, clicks written in batches),
    codes that do not exist (negative cache entries), 404s on ids and on
    paths no route knows, 422s. Ten rounds over several scrapes so that
    rate() sees increases, on one keep-alive connection as nginx's would be.
    Returns the requests whose status was not the expected one."""
    conn = http.client.HTTPConnection(urllib.parse.urlsplit(SHORTENER_URL).netloc, timeout=5)
    js = {"Content-Type": "application/json"}

    def req(method, path, body=None, headers=None):
        conn.request(method, path, body=None if body is None else json.dumps(body),
                     headers=dict(js if body is not None else {}, **(headers or {})))
        r = conn.getresponse()
        return r.status, r.read()

    tag = "obs%d%d" % (os.getpid(), time.time())
    st, body = req("POST", "/users", {"username": tag, "email": tag + "@example.com"})
    assert st == 201, body
    uid = json.loads(body)["id"]
    st, body = req("POST", "/urls", {"user_id": uid, "original_url": "https://example.com/" + tag})
    assert st == 201, body
    url = json.loads(body)
    wrong = []
    for r in range(10):
        for want, method, path, body, headers in [
                (302, "GET", "/" + url["short_code"], None, None),
                (302, "GET", "/" + url["short_code"], None,
                 {"User-Agent": "observability-test", "Referer": "https://referer.example/"}),
                (404, "GET", "/zz%sx%d" % (tag, r % 3), None, None),
                (200, "GET", "/urls/%d" % url["id"], None, None),
                (200, "GET", "/urls/%d/stats" % url["id"], None, None),
                (200, "GET", "/users?per_page=2", None, None),
                (200, "GET", "/urls?user_id=%d" % uid, None, None),
                (404, "GET", "/urls/999999999", None, None),
                (404, "GET", "/no/such/route", None, None),
                (422, "POST", "/users", {}, None),
                (200, "PUT", "/urls/%d" % url["id"], {"title": "round %d" % r}, None),
                (200, "GET", "/health", None, None)]:
            got, _ = req(method, path, body, headers)
            if got != want:
                wrong.append("round %d: %s %s: %d, not %d" % (r, method, path, got, want))
        time.sleep(0.5)
    conn.close()
    return wrong


@pytest.fixture(scope="module")
def scraped(prom):
    """Prometheus after the traffic and two scrapes past it: the rules are
    evaluated every second, so they see the same data."""
    prom.wait_for('up{job="shortener"} == 1 and on() up{job="prometheus"} == 1', 30)
    wrong = drive_traffic()
    after = int(time.time())
    prom.wait_for('timestamp(up{job="shortener"}) > %d' % (after + 1), 30)
    time.sleep(1)
    rules = prom.get("/api/v1/rules")
    (OUT / "rules.json").write_text(json.dumps(rules, indent=1))
    return {"wrong": wrong, "rules": [r for g in rules["data"]["groups"] for r in g["rules"]]}


@pytest.fixture(scope="module")
def exposition(out):
    with urllib.request.urlopen(SHORTENER_URL + "/metrics", timeout=10) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain"), r.headers["Content-Type"]
        text = r.read().decode()
    (OUT / "metrics.txt").write_text(text)
    return text


@live
def test_rendered_test_config_passes_promtool(prom):
    ok(run(["promtool", "check", "config", prom.config]))


@live
def test_prometheus_scrapes_exactly_the_app_and_itself(prom, scraped):
    targets = prom.get("/api/v1/targets")["data"]["activeTargets"]
    got = sorted("%s %s" % (t["labels"]["job"], t["health"]) for t in targets)
    assert got == ["prometheus up", "shortener up"], targets


@live
def test_app_metrics_is_text_exposition(exposition):
    assert "# TYPE " in exposition


@live
def test_traffic_got_the_expected_statuses(scraped):
    assert not scraped["wrong"], scraped["wrong"]


@live
@pytest.mark.parametrize("panel,target", PANEL_TARGETS,
                         ids=["%s/%s" % (p["title"], t.get("refId")) for p, t in PANEL_TARGETS])
def test_panel_query_returns_data(panel, target, prom, scraped):
    key = "%s/%s" % (panel["title"], target.get("refId"))
    q = substitute_vars(target["expr"])
    assert "$" not in q, "unknown Grafana variable left in: " + q
    res = prom.query(q)
    with open(OUT / "panel-queries.txt", "a") as f:
        f.write("%s\n%s\n%s\n\n" % (key, q, json.dumps(res)))
    assert res.get("status") == "success", "%s\n%s" % (q, res.get("error", res))
    values = [s["value"][1] for s in res["data"]["result"] if s["value"][1] != "NaN"]
    if not values and key in NO_DATA_OK:
        pytest.skip("no data, allowed: %s" % NO_DATA_OK[key])
    assert values, "%s\n%s" % (q, res["data"]["result"])


@live
def test_prometheus_loaded_every_rule(scraped):
    assert sorted(r["name"] for r in scraped["rules"]) == sorted(a["alert"] for a in ALERTS)


@live
@pytest.mark.parametrize("alert", ALERTS, ids=[a["alert"] for a in ALERTS])
def test_rule_is_healthy_and_evaluates(alert, prom, scraped):
    rule = [r for r in scraped["rules"] if r["name"] == alert["alert"]]
    assert rule, "%s not loaded" % alert["alert"]
    assert rule[0]["health"] == "ok", rule[0].get("lastError")
    res = prom.query(rule[0]["query"])
    assert res.get("status") == "success", "%s\n%s" % (rule[0]["query"], res.get("error", res))


@live
@pytest.mark.parametrize("name", MUST_BE_INACTIVE)
def test_alert_inactive_on_the_healthy_stack(name, scraped):
    states = [r["state"] for r in scraped["rules"] if r["name"] == name]
    assert states == ["inactive"], states


def queries(scraped):
    return [substitute_vars(t["expr"]) for _, t in PANEL_TARGETS] + \
        [r["query"] for r in scraped["rules"]]


@live
def test_every_metric_and_label_selected_exists(prom, scraped):
    """A misspelt name or label selects nothing, which a ratio's `or
    vector(0)` would turn into a plausible 0."""
    qs = queries(scraped)
    names = sorted({m.rstrip("{") for q in qs for m in re.findall(
        r"\b(?:http|shortener|process)_[a-z0-9_]+|\bup\{", q)})
    series = prom.get("/api/v1/series", **{"match[]": names})["data"]
    labels = {}
    for s in series:
        labels.setdefault(s["__name__"], set()).update(s)
    problems = ["no series named %s" % n for n in names if n not in labels]
    for q in qs:
        for metric, body in re.findall(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}", q):
            body = re.sub(r'"[^"]*"', '""', body)
            for label in re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", body):
                if label not in labels.get(metric, ()):
                    problems.append("%s{%s}: %s has no label %s" % (metric, body, metric, label))
    assert not problems, sorted(set(problems))


@live
def test_every_exposed_family_is_on_the_dashboard(exposition):
    exprs = "\n".join(t["expr"] for _, t in PANEL_TARGETS)
    families = re.findall(r"^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) ", exposition, re.M)
    missing = [f for f in families
               if not re.search(r"\b%s(_bucket|_sum|_count)?\b" % re.escape(f), exprs)]
    assert families and not missing, missing
