"""A real OpenID Connect provider for the sign-in tests, in its own process on loopback.

The provider is the `oidc-provider-mock` package (authlib under Flask): discovery, JWKS,
its own sign-in page, one-time authorization codes, signed ID tokens, userinfo, and
PUT /users/{sub} to set a person's claims (groups included). Around it, in the same
process, a thin WSGI layer adds two things the package lacks:

- PKCE enforced: an authorization request without an S256 challenge is refused, and the
  token endpoint refuses a code whose verifier does not match its challenge;
- PUT /test/next-id-token: the next ID token the token endpoint hands out is changed as
  the test says (another audience, expired, a nonce we never sent, signed with a key the
  provider does not publish), re-signed, and sent. This stands for a misbehaving provider
  or a token swapped in transit; everything else about the flow stays real.

Run as `python -m tests.oidc_provider FD`, FD being a listening socket the fixture made by
binding port 0 (no port is probed, so two test processes never race for one).
"""

import base64
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
CLIENT_ID = "orderdesk-test"
CLIENT_SECRET = "orderdesk-test-secret"
ROLE_MAP = {"od-coordinators": "coordinator", "od-support": "support", "od-admins": "admin"}
PROVIDER_NAME = "Test Identity Provider"


# --- The provider process -------------------------------------------------------------------


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class TestHooks:
    """WSGI layer over the provider: PKCE enforcement and ID-token changes on request."""

    def __init__(self, app: Callable[..., Iterable[bytes]], signing_jwk: dict[str, Any]) -> None:
        import jwt

        self.app = app
        self.kid = signing_jwk["kid"]
        self.key = jwt.PyJWK(signing_jwk).key
        self.challenges: dict[str, str] = {}
        self.tweak: dict[str, Any] | None = None
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
        if path == "/test/next-id-token" and method == "PUT":
            with self.lock:
                self.tweak = json.loads(self._body(environ) or b"{}")
            return self._answer(start_response, "204 No Content", b"")
        if path == "/oauth2/authorize":
            return self._authorize(environ, start_response)
        if path == "/oauth2/token" and method == "POST":
            return self._token(environ, start_response)
        return self.app(environ, start_response)

    def _authorize(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        challenge = (query.get("code_challenge") or [""])[0]
        if (query.get("code_challenge_method") or [""])[0] != "S256" or not challenge:
            return self._answer(start_response, "400 Bad Request", b"PKCE (S256) is required")
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            location = dict(headers).get("Location", "")
            code = parse_qs(urlsplit(location).query).get("code")
            if code:
                with self.lock:
                    self.challenges[code[0]] = challenge
            captured["status"] = status
            return start_response(status, headers, *args)

        return self.app(environ, capture)

    def _token(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        body = self._body(environ)
        form = parse_qs(body.decode())
        if (form.get("grant_type") or [""])[0] == "authorization_code":
            code = (form.get("code") or [""])[0]
            verifier = (form.get("code_verifier") or [""])[0]
            with self.lock:
                challenge = self.challenges.get(code)
            if challenge is not None and _s256(verifier) != challenge:
                error = json.dumps({"error": "invalid_grant", "error_description": "PKCE"})
                return self._answer(start_response, "400 Bad Request", error.encode(), "json")
        environ["wsgi.input"] = BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        response: dict[str, Any] = {}

        def keep(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            response.update(status=status, headers=headers)
            return lambda data: None

        chunks = self.app(environ, keep)
        content = b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()
        with self.lock:
            tweak, self.tweak = self.tweak, None
        if tweak is not None and response["status"].startswith("200"):
            answer = json.loads(content)
            answer["id_token"] = self._reissue(answer["id_token"], tweak)
            content = json.dumps(answer).encode()
        headers = [(k, v) for k, v in response["headers"] if k.lower() != "content-length"]
        start_response(response["status"], [*headers, ("Content-Length", str(len(content)))])
        return [content]

    def _reissue(self, id_token: str, tweak: dict[str, Any]) -> str:
        import jwt
        from cryptography.hazmat.primitives.asymmetric import rsa

        claims = jwt.decode(id_token, options={"verify_signature": False})
        claims.update(tweak.get("claims", {}))
        for name, offset in tweak.get("from_now", {}).items():
            claims[name] = int(time.time()) + offset
        key: Any = self.key
        if tweak.get("unknown_key"):
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        kid = tweak.get("kid", self.kid)
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})

    @staticmethod
    def _body(environ: dict[str, Any]) -> bytes:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        return environ["wsgi.input"].read(length) if length else b""

    @staticmethod
    def _answer(
        start_response: Callable[..., Any], status: str, body: bytes, kind: str = ""
    ) -> Any:
        content_type = "application/json" if kind == "json" else "text/plain"
        start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]


def serve(fd: int) -> None:
    import flask
    import oidc_provider_mock
    import werkzeug.serving

    app = oidc_provider_mock.app(require_nonce=True)
    with app.test_request_context("/"):
        app.preprocess_request()
        storage = flask.g.oidc_provider_mock_storage
    hooks = TestHooks(app, storage.jwk.as_dict(is_private=True))
    server = werkzeug.serving.make_server("127.0.0.1", 0, hooks, threaded=True, fd=fd)
    server.serve_forever()


# --- The test side --------------------------------------------------------------------------


class Provider:
    """The running provider, as a test drives it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()

    def set_user(self, sub: str, **claims: Any) -> None:
        self.http.put(f"{self.url}/users/{sub}", json=claims, timeout=10).raise_for_status()

    def next_id_token(self, **tweak: Any) -> None:
        self.http.put(f"{self.url}/test/next-id-token", json=tweak, timeout=10).raise_for_status()

    def authorize(self, authorize_url: str, sub: str) -> str:
        """Sign `sub` in on the provider's own form; the URL it sends the browser back to."""
        assert authorize_url.startswith(self.url + "/"), authorize_url
        page = self.http.get(authorize_url, timeout=10)
        assert page.status_code == 200, page.text
        answer = self.http.post(authorize_url, data={"sub": sub}, allow_redirects=False, timeout=10)
        assert answer.status_code == 302, answer.text
        return answer.headers["Location"]


def _wait_until_serving(provider: Provider, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the OpenID provider exited:\n{log.read_text()[-3000:]}")
        try:
            discovery = f"{provider.url}/.well-known/openid-configuration"
            if requests.get(discovery, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    pytest.fail(f"the OpenID provider did not answer:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    log = tmp_path_factory.mktemp("oidc-provider") / "provider.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.oidc_provider", str(listener.fileno())],
            pass_fds=[listener.fileno()],
            env={**os.environ, "AUTHLIB_INSECURE_TRANSPORT": "1"},
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    provider = Provider(f"http://127.0.0.1:{listener.getsockname()[1]}")
    listener.close()  # the provider holds its own copy
    try:
        _wait_until_serving(provider, process, log)
        yield provider
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def oidc_settings(settings: Any, oidc_provider: Provider) -> Iterator[Provider]:
    """orderdesk configured for the test provider, as the environment would configure it."""
    from orderdesk.accounts import oidc

    settings.OIDC_ISSUER = oidc_provider.url
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_ROLE_MAP = ROLE_MAP
    settings.OIDC_PROVIDER_NAME = PROVIDER_NAME
    policy = settings.CONTENT_SECURITY_POLICY
    directives = {**policy["DIRECTIVES"]}
    directives["form-action"] = [*directives["form-action"], oidc_provider.url]
    settings.CONTENT_SECURITY_POLICY = {**policy, "DIRECTIVES": directives}
    oidc.forget_discovery()
    yield oidc_provider
    oidc.forget_discovery()


if __name__ == "__main__":
    serve(int(sys.argv[1]))
