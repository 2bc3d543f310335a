"""The compose proxy: the only way in, and the X-Forwarded-For it sends is one a client cannot choose.

Checked without Docker or nginx: docker-compose.yml and deploy/nginx.conf are parsed,
and what nginx would send is simulated for the variables the configuration uses.
"""

import re
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from django.test import RequestFactory, override_settings

from evaluations import integrity

ROOT = Path(__file__).resolve().parent.parent
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
CLIENT = "203.0.113.9"
# The proxy's address on the compose network: what gunicorn sees as REMOTE_ADDR.
PROXY_ADDRESS = "172.18.0.5"


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def proxy_services(services: dict) -> dict:
    return {name: service for name, service in services.items() if service.get("image", "").startswith("nginx:")}


# --- a tiny nginx configuration reader ----------------------------------------------

TOKEN = re.compile(r"""#[^\n]*|"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([{};])|([^\s{};"'#]+)""")


def parse_nginx(text: str) -> list:
    """Directives as (name, args, children); children is None for a simple directive."""
    stack: list[list] = [[]]
    words: list[str] = []
    for match in TOKEN.finditer(text):
        double, single, punct, word = match.groups()
        if all(group is None for group in match.groups()):  # a comment
            continue
        if punct == ";":
            assert words, "an empty directive"
            stack[-1].append((words[0], words[1:], None))
            words = []
        elif punct == "{":
            block: list = []
            stack[-1].append((words[0], words[1:], block))
            stack.append(block)
            words = []
        elif punct == "}":
            assert not words, f"missing ';' after {words}"
            stack.pop()
            assert stack, "unbalanced '}'"
        else:
            words.append(double if double is not None else single if single is not None else word)
    assert len(stack) == 1 and not words, "unterminated block or directive"
    return stack[0]


def locations_with_headers(directives: list, inherited: dict | None = None):
    """Each location that proxies, with the proxy_set_header values in force there.

    nginx inherits proxy_set_header from the enclosing level only when a level sets none
    of its own, so a location that sets one header silently drops all the others.
    """
    own = {args[0].lower(): args[1] for name, args, _ in directives if name == "proxy_set_header"}
    headers = own if own else dict(inherited or {})
    found = []
    for name, args, children in directives:
        if children is not None:
            found += locations_with_headers(children, headers)
        elif name == "proxy_pass":
            found.append((args[0], headers))
    return found


def nginx_conf() -> list:
    return parse_nginx(NGINX_CONF.read_text())


def forwarded_for_sent(configured: str | None, *, remote_addr: str, client_header: str | None) -> str | None:
    """The X-Forwarded-For nginx passes upstream, given what the configuration sets it to."""
    if configured is None:  # not set: nginx passes the client's header through untouched
        return client_header
    variables = {
        "remote_addr": remote_addr,
        "proxy_add_x_forwarded_for": f"{client_header}, {remote_addr}" if client_header else remote_addr,
        "http_x_forwarded_for": client_header or "",
    }

    def substitute(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        if name not in variables:
            pytest.fail(f"X-Forwarded-For uses ${name}, which this test does not know how to simulate")
        return variables[name]

    sent = re.sub(r"\$\{(\w+)\}|\$(\w+)", substitute, configured)
    return sent or None  # an empty value is not sent at all


def address_seen_by_the_app(configured: str | None, *, proxy_count: int, forged: str | None) -> str:
    sent = forwarded_for_sent(configured, remote_addr=CLIENT, client_header=forged)
    extra = {"REMOTE_ADDR": PROXY_ADDRESS}
    if sent is not None:
        extra["HTTP_X_FORWARDED_FOR"] = sent
    with override_settings(TRUSTED_PROXY_COUNT=proxy_count):
        return integrity.client_ip(RequestFactory().get("/", **extra))


FORGED = ["1.2.3.4", "1.2.3.4, 5.6.7.8", "garbage", "", None]


# --- compose ----------------------------------------------------------------------


def test_only_the_proxy_publishes_a_port():
    services = compose()["services"]
    assert list(proxy_services(services)) == ["proxy"]
    assert {name for name, service in services.items() if service.get("ports")} == {"proxy"}
    assert services["proxy"]["ports"] == ["${HTTP_PORT:-80}:80"]
    assert "ports" not in services["web"]
    assert services["web"]["expose"] == ["8000"]


def test_the_proxy_runs_the_official_image_with_our_configuration_read_only():
    proxy = compose()["services"]["proxy"]
    assert proxy["image"] == "nginx:1.28-alpine"
    assert proxy["volumes"] == ["./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro"]
    assert proxy["depends_on"] == {"web": {"condition": "service_healthy"}}
    listens = [args for name, args, _ in next(c for n, _, c in nginx_conf() if n == "server") if name == "listen"]
    assert listens == [["80", "default_server"]]  # the container port compose publishes


def test_trusted_proxy_count_is_fixed_at_the_number_of_proxies_in_front():
    services = compose()["services"]
    environment = services["web"]["environment"]
    # A literal, not "${TRUSTED_PROXY_COUNT:-1}": a host variable must not be able to make it drift.
    assert environment["TRUSTED_PROXY_COUNT"] == "1"
    assert int(environment["TRUSTED_PROXY_COUNT"]) == len(proxy_services(services))


def test_every_proxy_pass_goes_to_gunicorn_on_the_web_service():
    directives = nginx_conf()
    upstreams = {args[0]: children for name, args, children in directives if name == "upstream"}
    locations = locations_with_headers(directives)
    assert len(locations) == 2  # /healthz and /
    for target, _headers in locations:
        url = urlsplit(target)
        assert url.scheme == "http"
        if url.hostname in upstreams:
            servers = [args for name, args, _ in upstreams[url.hostname] if name == "server"]
            assert servers == [["web:8000", "resolve"]]
        else:
            assert url.netloc == "web:8000"


def test_healthz_is_served_through_the_proxy():
    server = next(children for name, _, children in nginx_conf() if name == "server")
    paths = {tuple(args): children for name, args, children in server if name == "location"}
    assert ("=", "/healthz") in paths
    assert [args for name, args, _ in paths[("=", "/healthz")] if name == "proxy_pass"] == [["http://web"]]


def test_uploads_fit_through_the_proxy():
    from brands.images import MAX_BYTES
    from brands.services import MAX_PHOTOS

    server = next(children for name, _, children in nginx_conf() if name == "server")
    (limit,) = [args[0] for name, args, _ in server if name == "client_max_body_size"]
    assert limit.endswith("m")
    assert int(limit[:-1]) * 1024 * 1024 > MAX_PHOTOS * MAX_BYTES


@pytest.mark.parametrize("forged", FORGED)
def test_a_forged_x_forwarded_for_does_not_reach_the_app(forged):
    count = int(compose()["services"]["web"]["environment"]["TRUSTED_PROXY_COUNT"])
    for _target, headers in locations_with_headers(nginx_conf()):
        assert address_seen_by_the_app(headers.get("x-forwarded-for"), proxy_count=count, forged=forged) == CLIENT


def test_the_client_cannot_claim_https_or_skip_the_host_check():
    for _target, headers in locations_with_headers(nginx_conf()):
        assert headers["x-forwarded-proto"] == "$scheme"
        assert headers["host"] in {"$host", "$http_host"}  # the client's Host, checked by ALLOWED_HOSTS


@pytest.mark.parametrize(
    ("configured", "safe"),
    [
        ("$remote_addr", True),
        ("$proxy_add_x_forwarded_for", True),
        ("$http_x_forwarded_for", False),  # passes the client's header on: it picks the last entry
        (None, False),  # not set at all: the same
    ],
)
def test_the_simulation_tells_a_safe_setting_from_an_unsafe_one(configured, safe):
    seen = address_seen_by_the_app(configured, proxy_count=1, forged="1.2.3.4")
    assert (seen == CLIENT) is safe


def test_nginx_accepts_the_configuration(tmp_path):
    nginx = shutil.which("nginx")
    if nginx is None:
        pytest.skip("no nginx binary here; the configuration is checked by parsing only")
    version = subprocess.run([nginx, "-v"], capture_output=True, text=True).stderr
    found = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", version)
    if found is None or tuple(map(int, found.groups())) < (1, 27, 3):
        pytest.skip(f"the local nginx ({version.strip()}) predates upstream `resolve` (1.27.3)")
    # The compose service name does not resolve here; localhost stands in for it.
    (tmp_path / "default.conf").write_text(NGINX_CONF.read_text().replace("web:8000", "localhost:8000"))
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nevents {{}}\nhttp {{\n"
        f"    client_body_temp_path {tmp_path}/body;\n    proxy_temp_path {tmp_path}/proxy;\n"
        f"    access_log off;\n    include {tmp_path}/default.conf;\n}}\n"
    )
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-e", "stderr", "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


# --- web's health check: the proxy starts only once it passes ------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("allowed_hosts", ["portal.example.org,www.example.org", ".example.org", "*", "localhost"])
def test_web_healthcheck_passes_the_host_check(monkeypatch, client, settings, allowed_hosts):
    test = compose()["services"]["web"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    settings.ALLOWED_HOSTS = allowed_hosts.split(",")
    monkeypatch.setenv("ALLOWED_HOSTS", allowed_hosts)
    statuses = []

    def urlopen(request, timeout):
        url = urlsplit(request.full_url)
        assert (url.hostname, url.port) == ("127.0.0.1", 8000)
        response = client.get(url.path, HTTP_HOST=request.get_header("Host") or url.netloc)
        statuses.append(response.status_code)
        if response.status_code >= 400:
            raise urllib.error.HTTPError(request.full_url, response.status_code, "", {}, None)

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    exec(test[3], {})
    assert statuses == [200]


@pytest.mark.django_db
def test_healthz_by_bare_address_is_refused_unless_listed(client, settings):
    # Why the health check sends a Host: the one Docker would otherwise send is not allowed.
    settings.ALLOWED_HOSTS = ["portal.example.org"]
    assert client.get("/healthz", HTTP_HOST="127.0.0.1:8000").status_code == 400
