"""Languages: the user's choice, the browser's as the default, complete catalogues, the script's strings."""

import gettext
import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from factories import DEFAULT_TEST_PASSWORD, HomeFactory, LightFactory, RoomFactory, UserFactory
from lamplighter.accounts.models import UserPreference
from lamplighter.accounts.services import preference_set_language
from lamplighter.dashboard.templatetags.dashboard_i18n import JS_MESSAGES

DASHBOARD = Path(__file__).resolve().parent.parent
LOCALE = DASHBOARD / "locale"
SHIPPED = [code for code, _name in settings.LANGUAGES if code != "en"]


def logged_in(user, **headers: str) -> Client:  # type: ignore[no-untyped-def]
    client = Client(headers=headers)
    assert client.login(username=user.username, password=DEFAULT_TEST_PASSWORD)
    return client


@pytest.fixture
def home_with_light(db):  # type: ignore[no-untyped-def]
    owner = UserFactory()
    home = HomeFactory(owner=owner, name="Maple Street")
    LightFactory(room=RoomFactory(home=home, name="Kitchen"), name="Ceiling")
    return owner, home


# ---- which language a page is in ---------------------------------------------------------------


@pytest.mark.django_db
def test_a_german_user_sees_german(home_with_light) -> None:  # type: ignore[no-untyped-def]
    owner, home = home_with_light
    preference_set_language(user=owner, language="de")
    client = logged_in(owner, accept_language="fr")  # their choice wins over the browser's
    response = client.get(reverse("dashboard:home", args=[home.pk]))
    content = response.content.decode()
    assert response["Content-Language"] == "de"
    assert '<html lang="de">' in content
    assert "Du bist Eigentümer dieses Zuhauses." in content and "Raum hinzufügen" in content
    assert "ausstehend: aus" in content and "Add a room" not in content
    assert '"pending: on": "ausstehend: an"' in content  # the script's strings too


@pytest.mark.django_db
def test_the_browsers_language_is_the_default(home_with_light) -> None:  # type: ignore[no-untyped-def]
    owner, home = home_with_light
    french = logged_in(owner, accept_language="fr-CH, fr;q=0.9, en;q=0.5")
    content = french.get(reverse("dashboard:home", args=[home.pk])).content.decode()
    assert '<html lang="fr">' in content and "Ajouter une pièce" in content
    english = logged_in(owner, accept_language="it, en;q=0.5")
    assert "Add a room" in english.get(reverse("dashboard:home", args=[home.pk])).content.decode()
    assert "Log in" in Client(headers={"accept_language": "en"}).get(reverse("login")).content.decode()
    assert "Se connecter" in Client(headers={"accept_language": "fr"}).get(reverse("login")).content.decode()


@pytest.mark.django_db
def test_service_errors_come_in_the_users_language(home_with_light) -> None:  # type: ignore[no-untyped-def]
    owner, home = home_with_light
    preference_set_language(user=owner, language="de")
    response = logged_in(owner).post(reverse("dashboard:room-create", args=[home.pk]), {"name": "Kitchen"})
    assert response.status_code == 200
    assert "in diesem Zuhause gibt es bereits einen Raum namens „Kitchen“" in response.content.decode()
    french = logged_in(UserFactory(), accept_language="fr")
    response = french.get(reverse("dashboard:home", args=[home.pk]))
    assert response.status_code == 404 and "Introuvable" in response.content.decode()


@pytest.mark.django_db
def test_the_picker_stores_the_choice_and_goes_back(home_with_light) -> None:  # type: ignore[no-untyped-def]
    owner, home = home_with_light
    client = logged_in(owner, accept_language="en")
    back = reverse("dashboard:home", args=[home.pk])
    page = client.get(back).content.decode()
    assert 'action="/language/"' in page and '<option value="" selected>' in page
    response = client.post(reverse("dashboard:language"), {"language": "fr", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    assert UserPreference.objects.get(user=owner).language == "fr"
    assert '<option value="fr" lang="fr" selected>' in client.get(back).content.decode()
    # Another browser of the same user: the choice follows the user, not the cookie.
    assert "Ajouter une pièce" in logged_in(owner, accept_language="de").get(back).content.decode()
    # Back to the browser's language.
    response = client.post(reverse("dashboard:language"), {"language": "", "next": "https://evil.example/"})
    assert response["Location"] == reverse("dashboard:index")
    assert UserPreference.objects.get(user=owner).language == ""
    assert "Add a room" in client.get(back).content.decode()


@pytest.mark.django_db
def test_the_picker_refuses_unknown_languages_and_works_before_login() -> None:
    client = Client()
    assert client.post(reverse("dashboard:language"), {"language": "xx"}).status_code == 400
    assert client.get(reverse("dashboard:language")).status_code == 405
    response = client.post(reverse("dashboard:language"), {"language": "de", "next": reverse("login")})
    assert response.status_code == 302 and response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    assert "Anmelden" in client.get(reverse("login")).content.decode()
    assert not UserPreference.objects.exists()


# ---- the catalogues ----------------------------------------------------------------------------


def catalogue(language: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))


@pytest.mark.parametrize("language", SHIPPED)
def test_every_string_is_translated(language: str) -> None:
    po = catalogue(language)
    assert len(po) > 150
    untranslated = [entry.msgid for entry in po.untranslated_entries()]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]
    empty_plurals = [
        entry.msgid for entry in po if entry.msgid_plural and not all(entry.msgstr_plural.values())
    ]
    assert untranslated == [] and fuzzy == [] and empty_plurals == []
    assert po.metadata["Language"] == language and not po.metadata_is_fuzzy


@pytest.mark.parametrize("language", SHIPPED)
def test_placeholders_survive_translation(language: str) -> None:
    placeholder = re.compile(r"%\(\w+\)[sd]|<[^>]+>")
    for entry in catalogue(language).translated_entries():
        if entry.msgid_plural:
            continue
        assert sorted(placeholder.findall(entry.msgid)) == sorted(placeholder.findall(entry.msgstr)), (
            entry.msgid
        )


@pytest.mark.parametrize("language", SHIPPED)
def test_the_compiled_catalogue_matches_its_source(language: str) -> None:
    """The committed .mo is the .po compiled (`make messages` after editing a .po)."""
    with (LOCALE / language / "LC_MESSAGES" / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in catalogue(language).translated_entries():
        if entry.msgid_plural:
            assert compiled.ngettext(entry.msgid, entry.msgid_plural, 5) == entry.msgstr_plural[1]
        else:
            assert compiled.gettext(entry.msgid) == entry.msgstr, entry.msgid


def test_every_script_string_is_in_the_catalogue_list() -> None:
    """The dashboard's scripts look their strings up by their English text: each one must be listed
    (and so translated)."""
    scripts = sorted((DASHBOARD / "static" / "dashboard").glob("*.js"))
    assert len(scripts) >= 2  # dashboard.js and light_controls.js
    script = "\n".join(path.read_text() for path in scripts)
    used = set(re.findall(r'\btr\("((?:[^"\\]|\\.)*)"', script))
    assert used and used <= set(JS_MESSAGES), used - set(JS_MESSAGES)
    german = {entry.msgid for entry in catalogue("de").translated_entries()}
    assert set(JS_MESSAGES) <= german


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("de", ["Firmware-Updates", "Verteilung starten", "Firmware hochladen", "Gruppengröße"]),
        ("fr", ["Mises à jour du micrologiciel", "Lancer un déploiement", "Taille des lots"]),
    ],
)
def test_the_firmware_page_speaks_the_users_language(home_with_light, language, expected) -> None:  # type: ignore[no-untyped-def]
    owner, home = home_with_light
    preference_set_language(user=owner, language=language)
    content = logged_in(owner).get(reverse("ota:home-firmware", args=[home.pk])).content.decode()
    for text in expected:
        assert text in content, text
    for english in ("Firmware updates", "Start a rollout", "Upload firmware", "Batch size", "No rollout has"):
        assert english not in content, english
