"""Template tags for the dashboard's languages: the JavaScript's strings and the language picker."""

from django import template
from django.conf import settings
from django.utils.html import json_script
from django.utils.safestring import SafeString
from django.utils.translation import gettext, gettext_noop

from lamplighter.accounts.selectors import preference_language

register = template.Library()

# Every string dashboard.js shows, in English: the script looks its text up by this English
# original (tr("...")), so a string missing here simply stays English. A test checks the two agree.
JS_MESSAGES = [
    gettext_noop("the hub answered %(status)s"),
    gettext_noop("Sound on"),
    gettext_noop("Sound off"),
    gettext_noop("This browser does not let the page remember the sound setting."),
    gettext_noop("pending: on"),
    gettext_noop("pending: off"),
    gettext_noop("Could not switch the light: %(error)s"),
    gettext_noop("Could not change the light: %(error)s"),
    gettext_noop("WebSocket"),
    gettext_noop("HTTP polling"),
    gettext_noop("never"),
    gettext_noop("online"),
    gettext_noop("offline"),
    gettext_noop("%(name)s is back online."),
    gettext_noop("%(name)s went offline."),
    gettext_noop("queued"),
    gettext_noop("offered"),
    gettext_noop("downloading"),
    gettext_noop("verifying"),
    gettext_noop("rebooting"),
    gettext_noop("updated"),
    gettext_noop("failed"),
    gettext_noop("rolled back"),
    gettext_noop("canceled"),
    gettext_noop("Update of %(device)s to %(version)s: %(state)s"),
    gettext_noop("Lost the connection to the hub. Reconnecting…"),
    gettext_noop("Connected to the hub again."),
    gettext_noop("off"),
    gettext_noop("following the day"),
    gettext_noop("paused (brightness and colour)"),
    gettext_noop("paused (brightness); the colour follows the day"),
    gettext_noop("paused (colour); the brightness follows the day"),
]


@register.simple_tag
def js_messages() -> SafeString:
    """A JSON script element mapping each of the script's English strings to the active language's."""
    return json_script({message: gettext(message) for message in JS_MESSAGES}, "dashboard-messages")


@register.simple_tag
def language_choices() -> list[tuple[str, str]]:
    """The languages of the picker: code and name in its own language."""
    return list(settings.LANGUAGES)


@register.simple_tag(takes_context=True)
def chosen_language(context: template.Context) -> str:
    """The language picked in the navigation: the user's choice, else the cookie's; empty: the browser's."""
    request = context.get("request")
    if request is None:
        return ""
    if request.user.is_authenticated:
        return preference_language(user=request.user)
    return str(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, ""))
