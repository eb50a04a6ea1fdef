"""The upload size limit (413, with a clear message) on the API and the page.

Three ways past the limit: a declared Content-Length (refused before the body is read), a file
part that grows past it while streaming, and a chunked body with no length at all. None of them
leaves a file behind.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from joinedup.config import Settings
from tests.web.test_datasets_api import GOOD, add_organisations, person_csv, uploads_left

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

    from tests.web.conftest import SignedInFor

LIMIT = 1000
API = "/api/v1/datasets/lambeth/people/versions"
BOUNDARY = "limit-test-boundary"


@pytest.fixture
def small(db_settings: Settings) -> Settings:
    add_organisations(db_settings)
    return replace(db_settings, max_upload_bytes=LIMIT)


@pytest.fixture
def client(signed_in_for: SignedInFor, small: Settings) -> TestClient:
    return signed_in_for(small)


def chunked_body(file_bytes: int) -> Iterator[bytes]:
    """A multipart body sent without Content-Length (a generator: chunked)."""
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="organisation"\r\n\r\nlambeth\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="dataset"\r\n\r\npeople\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    for _ in range(file_bytes // 1000):
        yield b"x" * 1000
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def big_file() -> bytes:
    content = person_csv(GOOD * 10)
    assert len(content) > LIMIT
    return content


def test_api_file_over_the_limit(client: TestClient, small: Settings) -> None:
    content = big_file()
    assert len(content) < LIMIT + 64 * 1024  # so the declared length alone passes
    response = client.post(
        API, files={"file": ("people.csv", content, "text/csv")}, data={"standard": "person"}
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "The file is larger than the 1000 bytes limit"}
    assert uploads_left(small) == []


def test_api_declared_length_over_the_limit(client: TestClient, small: Settings) -> None:
    response = client.post(
        API,
        content=b"--x--\r\n",
        headers={
            "content-type": "multipart/form-data; boundary=x",
            "content-length": str(10**9),
        },
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "The file is larger than the 1000 bytes limit"}
    assert uploads_left(small) == []


def test_api_chunked_body_over_the_limit(client: TestClient, small: Settings) -> None:
    response = client.post(
        API,
        content=chunked_body(200_000),
        headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert response.status_code == 413
    assert uploads_left(small) == []


def test_api_under_the_limit_is_accepted(client: TestClient, small: Settings) -> None:
    content = person_csv(GOOD[:2])
    assert len(content) < LIMIT
    response = client.post(
        API + "?wait=true",
        files={"file": ("people.csv", content, "text/csv")},
        data={"standard": "person"},
    )
    assert response.status_code == 201, response.text
    assert uploads_left(small) == []


def _assert_form_error(html: str) -> None:
    assert "<title>Error: Upload a file – joinedup</title>" in html
    assert "There is a problem" in html
    message = "The selected file must be smaller than 1000 bytes"
    assert re.search(rf'<a href="#file">\s*{message}', html)
    assert re.search(
        rf'id="file-error"[^>]*>\s*<span class="govuk-visually-hidden">Error:</span>'
        rf"\s*{message}",
        html,
    )


def test_page_file_over_the_limit(client: TestClient, small: Settings) -> None:
    response = client.post(
        "/upload",
        data={"organisation": "lambeth", "dataset": "people"},
        files={"file": ("people.csv", big_file(), "text/csv")},
    )
    assert response.status_code == 413
    html = response.text
    _assert_form_error(html)
    # Fields sent before the file are shown again.
    assert re.search(r'<option value="lambeth"\s+selected', html)
    assert 'value="people"' in html
    assert uploads_left(small) == []


def test_page_declared_length_over_the_limit(client: TestClient, small: Settings) -> None:
    response = client.post(
        "/upload",
        content=b"--x--\r\n",
        headers={
            "content-type": "multipart/form-data; boundary=x",
            "content-length": str(10**9),
        },
    )
    assert response.status_code == 413
    _assert_form_error(response.text)
    assert uploads_left(small) == []


def test_page_chunked_body_over_the_limit(client: TestClient, small: Settings) -> None:
    response = client.post(
        "/upload",
        content=chunked_body(200_000),
        headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert response.status_code == 413
    _assert_form_error(response.text)
    assert 'value="people"' in response.text
    assert uploads_left(small) == []
