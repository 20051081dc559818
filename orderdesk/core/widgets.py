"""Filter-bar widgets rendered in Python, to the very HTML Django's widget templates write.

A filter bar has a dozen fields and a hundred options; Django renders each option through
two included templates, which cost more than all of a page's queries. These widgets keep
Django's context (get_context: values, ids, attributes, selection) and only skip the
template engine. tests/core/test_widgets.py holds them to byte-for-byte the same output.
"""

from typing import Any

from django import forms
from django.forms.widgets import Input
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe


def attrs_html(attrs: dict[str, Any]) -> SafeString:
    """As django/forms/widgets/attrs.html: False leaves an attribute out, True writes its
    name alone, anything else name="value"."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {conditional_escape(name)}")
        else:
            parts.append(format_html(' {}="{}"', name, str(value)))
    return mark_safe("".join(parts))  # noqa: S308 -- every part escaped above


class LeanSelect(forms.Select):
    """django/forms/widgets/select.html and select_option.html, without the templates."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        html: list[str] = [
            format_html('<select name="{}"{}>', widget["name"], attrs_html(widget["attrs"]))
        ]
        for group_name, options, _ in widget["optgroups"]:
            if group_name:
                html.append(format_html('\n  <optgroup label="{}">', group_name))
            for option in options:
                html.append(
                    format_html(
                        '\n  <option value="{}"{}>{}</option>\n',
                        str(option["value"]),
                        attrs_html(option["attrs"]),
                        option["label"],
                    )
                )
            if group_name:
                html.append("\n  </optgroup>")
        html.append("\n</select>")
        return mark_safe("".join(html))  # noqa: S308 -- built with format_html


class LeanInput(Input):
    """django/forms/widgets/input.html, without the template."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        given = widget["value"]
        return format_html(
            '<input type="{}" name="{}"{}{}>',
            widget["type"],
            widget["name"],
            format_html(' value="{}"', str(given)) if given is not None else "",
            attrs_html(widget["attrs"]),
        )


# Django's widgets whose templates the lean ones reproduce (subclasses may differ).
_LEAN_BASE = {
    forms.Select: LeanSelect,
    forms.TextInput: LeanInput,
    forms.NumberInput: LeanInput,
    forms.DateInput: LeanInput,
    forms.HiddenInput: LeanInput,
}
_LEAN_CLASSES: dict[type[forms.Widget], type[forms.Widget]] = {}


def make_lean(widget: forms.Widget) -> None:
    """Render this widget (a form's own copy) in Python, if it is one of Django's plain ones."""
    cls = type(widget)
    lean = _LEAN_BASE.get(cls)
    if lean is None:
        return
    if cls not in _LEAN_CLASSES:
        _LEAN_CLASSES[cls] = type(f"Lean{cls.__name__}", (lean, cls), {})
    widget.__class__ = _LEAN_CLASSES[cls]
