#!/usr/bin/python3
"""alertmanager_conf.py OUT: alertmanager/alertmanager.yml.tmpl rendered into
OUT with the webhook URL from the environment.

  ALERT_WEBHOOK_URL   where Alertmanager POSTs notifications (required,
                      http:// or https://, no spaces)

Alertmanager reads no environment itself (and 0.25, Debian 12's, has no
url_file), hence this step. Only the placeholder ${ALERT_WEBHOOK_URL} on
non-comment lines is replaced, by the URL as a single-quoted YAML string;
OUT gets mode 600 since such URLs often carry a token. When amtool is
installed the result is checked with `amtool check-config`.

The one renderer of that file: scripts/stack.py imports render(), the
alertmanager image (docker/alertmanager/Dockerfile) runs this command at
start, tests/observability both. Standard library of python3-minimal only
(the image has no more).
"""

import os
import re
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
TEMPLATE = os.path.join(REPO, "alertmanager", "alertmanager.yml.tmpl")
PLACEHOLDER = "${ALERT_WEBHOOK_URL}"


class RenderError(Exception):
    pass


def render_text(text, url):
    """TEXT (the template) with URL put in, quoted for YAML."""
    if not url:
        raise RenderError("ALERT_WEBHOOK_URL is not set")
    if not re.match(r"^https?://\S+$", url):
        raise RenderError("ALERT_WEBHOOK_URL must be an http(s) URL without spaces")
    # YAML single quotes: the only escape is '' for '.
    quoted = "'%s'" % url.replace("'", "''")
    lines, n = [], 0
    for line in text.splitlines():
        if not line.lstrip().startswith("#") and PLACEHOLDER in line:
            line = line.replace(PLACEHOLDER, quoted)
            n += 1
        lines.append(line)
    if n == 0:
        raise RenderError("no %s in the template" % PLACEHOLDER)
    return "\n".join(lines) + "\n"


def render(out, url, template=TEMPLATE):
    """OUT (mode 600) from TEMPLATE and URL, checked by amtool if present."""
    with open(template) as f:
        text = render_text(f.read(), url)
    d = os.path.dirname(os.path.abspath(out))
    os.makedirs(d, exist_ok=True)
    tmp = out + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, out)
    if any(os.access(os.path.join(p, "amtool"), os.X_OK)
           for p in os.environ.get("PATH", "").split(os.pathsep)):
        p = subprocess.run(["amtool", "check-config", out],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if p.returncode != 0:
            raise RenderError("amtool check-config refused %s:\n%s" % (out, p.stdout))
    return out


def main(argv):
    if len(argv) != 1:
        sys.exit("usage: ALERT_WEBHOOK_URL=URL alertmanager_conf.py OUT")
    try:
        render(argv[0], os.environ.get("ALERT_WEBHOOK_URL", ""))
    except (RenderError, OSError) as e:
        sys.exit("alertmanager_conf: error: %s" % e)
    print("alertmanager_conf: wrote %s" % argv[0], file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
