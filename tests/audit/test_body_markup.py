"""Request and response bodies on audit pages are scrollable regions a keyboard can reach."""

from django.template.loader import render_to_string


def test_a_body_block_can_be_focused_for_keyboard_scrolling() -> None:
    # axe-core "scrollable-region-focusable" (serious) flagged these on the call page.
    html = render_to_string("audit/_body.html", {"label": "Response", "body": '{"a": 1}'})
    assert '<pre class="json" tabindex="0">' in html
