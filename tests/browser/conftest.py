from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from orderdesk.accounts.models import User
from tests.conftest import PASSWORD


@pytest.fixture
def sign_in(live_server, page: Page) -> Callable[[User], Page]:
    """Sign `user` in through the real login form."""

    def sign_in_as(user: User) -> Page:
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        return page

    return sign_in_as
