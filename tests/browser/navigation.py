"""Clicks that load a page: wait for the new page before the test reads it.

``page.click`` returns once the click is dispatched, not when the page it leads to
has loaded; reading the page (or the database) straight after races the server.
"""


def follow(page, selector: str) -> None:
    """Click ``selector`` and wait until the page it leads to has loaded."""
    with page.expect_navigation():
        page.click(selector)
