"""Every form of the gateway, submitted as a browser would: CSRF on, the token from the page.

Each text field is sent empty, whitespace only, too long and with control characters, plus
the wrong formats and field combinations that matter. Never a 500; a refused value gets its
message next to the field and everything else typed comes back. The forms and the POST
routes are discovered, so a new one without a spec here fails the suite.
"""

from __future__ import annotations

import datetime as dt
import html
import importlib
import pkgutil
import typing as t
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms import StringField
from wtforms.validators import DataRequired

import gateway
from gateway.forms import BaseForm
from gateway.forms import EmailAddress
from gateway.forms import MaxLength
from tests.gateway.forms_world import MOVED_TO
from tests.gateway.forms_world import World
from tests.gateway.forms_world import build_world
from tests.gateway.forms_world import stored_applications

GATEWAY = Path(gateway.__file__).parent
CONTROL = "Ann\x00a\x1b"


@dataclass(frozen=True)
class Spec:
    """How a form is reached and filled: its page, its action, who fills it, valid values.

    ``inline`` forms re-render with the message next to the field; the others (buttons and
    the operator console's small forms) redirect with a flashed message. ``shown`` lists the
    text fields the page renders (others only travel in crafted posts).
    """

    page: str
    action: str
    who: str
    valid: dict[str, str]
    inline: bool = True
    hidden: tuple[str, ...] = ()
    formats: tuple[tuple[str, str, str], ...] = ()


APPLICATION = {
    "instance": "samara-fake",
    "child_full_name": "Новикова София Павловна",
    "child_birth_date": "2012-10-05",
    "certificate": "IV-ЕР 703512",
    "school": "МБОУ Лицей № 3 г. Самары",
    "class_name": "8 «А»",
    "display_name": "Соня",
    "applicant_full_name": "Новиков Павел Олегович",
    "applicant_birth_date": "1984-02-17",
    "passport": "36 04 918273",
    "relation": "father",
    "consent": "y",
}
TODAY = dt.datetime.now(ZoneInfo("Europe/Moscow")).date()  # the gateway's clock is not pinned
NOT_A_CHILDS_NAME = "Фамилия и имя ребёнка русскими буквами"
NOT_A_CLASS = "Класс от 1 до 11"
DATES = (
    ("child_birth_date", "31.02.2012", "Проверьте дату."),
    ("child_birth_date", (TODAY - dt.timedelta(days=3 * 365)).isoformat(), "меньше 6 лет"),
    ("child_birth_date", (TODAY + dt.timedelta(days=1)).isoformat(), "меньше 6 лет"),
    ("child_birth_date", "1990-05-01", "больше 18 лет"),
    ("child_full_name", "Novikova Sofia", NOT_A_CHILDS_NAME),
    ("child_full_name", "Новикова", NOT_A_CHILDS_NAME),
    ("child_full_name", "Новикова С. П.", NOT_A_CHILDS_NAME),
    ("child_full_name", "Новикова София 2", NOT_A_CHILDS_NAME),
    ("class_name", "12", NOT_A_CLASS),
    ("class_name", "0 «А»", NOT_A_CLASS),
    ("class_name", "5АБ", NOT_A_CLASS),
    ("class_name", "пятый", NOT_A_CLASS),
    ("class_name", "5 A", NOT_A_CLASS),  # a Latin A
    ("applicant_birth_date", "вчера", "Проверьте дату."),
    ("certificate", "IV 123456", "Формат: IV-ЕР 123456."),
    ("passport", "3604", "Формат: 36 04 123456."),
    ("applicant_full_name", "Новиков Пётр Олегович", "подана другим лицом"),
    ("applicant_birth_date", "1984-02-18", "подана другим лицом"),
)
APPLICATION_FORM = "gateway.applications.forms.ApplicationForm"
TIME = "Укажите время, например 21:00."
# The parent's two children, eight kinds of news each.
DELIVERIES = {f"deliveries-{index}": "instant" for index in range(16)}
SPECS: dict[str, Spec] = {
    "gateway.notifications.forms.NotificationsForm": Spec(
        "/notifications/",
        "/notifications/",
        "parent",
        {
            "email": "y",
            "details": "y",
            "quiet_from": "21:00",
            "quiet_until": "08:00",
            "digest_at": "19:00",
            "time_zone": "Asia/Yekaterinburg",
            **DELIVERIES,
        },
        formats=(
            ("quiet_from", "25:00", TIME),
            ("quiet_until", "", TIME),
            ("digest_at", "вечером", TIME),
            ("time_zone", "Mars/Olympus", "Выберите часовой пояс из списка."),
            ("deliveries-3", "sometimes", "Выберите из списка."),
        ),
    ),
    "gateway.children.forms.LinkForm": Spec(
        "/children/link/test-school",
        "/children/link/test-school",
        "parent",
        {"school": "Лицей № 3", "login": "nobody", "password": "wrong", "name": "Вера"},
        hidden=("school_choice",),
    ),
    "gateway.children.forms.RenameForm": Spec(
        "/children/", "/children/{anna}/rename", "parent", {"name": "Аня"}
    ),
    "gateway.children.forms.NamesForm": Spec(
        "/children/names", "/children/names", "parent", {"names-0": "Аня", "names-1": "Петя"}
    ),
    "gateway.applications.forms.ApplicationForm": Spec(
        "/children/applications/new",
        "/children/applications/new",
        "parent",
        APPLICATION,
        formats=DATES,
    ),
    "gateway.trusted.forms.InviteForm": Spec(
        "/trusted/invite",
        "/trusted/invite",
        "parent",
        {"name": "Смирнова Галина Ивановна", "phone": "+7 900 000-00-03", "email": "g@e.test"},
        formats=(
            ("phone", "8 900 000", "Телефон: +7 и десять цифр"),
            ("phone", "телефон", "Телефон: +7 и десять цифр"),
            ("email", "galina@", "Проверьте адрес почты."),
            ("email", "galina example.test", "Проверьте адрес почты."),
            ("ends_on", "2099-13-01", "Проверьте дату."),
        ),
    ),
    "gateway.operator.forms.InstanceForm": Spec(
        "/operator/instances/new",
        "/operator/instances/new",
        "operator",
        {
            "region_code": "63",
            "region_name": "Самарская область",
            "connector": "fake",
            "key": "samara-spare",
            "base_url": "http://fake.invalid",
            "settings": '{\n\t"a": 1\n}',
            "partner_client_id": "",
            "partner_client_secret": "",
        },
        formats=(
            ("key", "Samara Spare", "Латиница, цифры и дефис"),
            ("base_url", "не адрес", "Нужен адрес вида"),
            ("settings", "[1, 2]", "Нужен JSON-объект"),
            ("settings", "{oops", "Это не JSON."),
        ),
    ),
    "gateway.operator.forms.RoleForm": Spec(
        "/operator/roles",
        "/operator/roles",
        "admin",
        {"person": "+79000000009", "region_code": "69"},
        formats=(("region_code", "6", "Две-три цифры."),),
    ),
    "gateway.operator.forms.CheckForm": Spec(
        "/operator/instances/samara-fake",
        "/operator/instances/samara-fake/test",
        "operator",
        {"school": "", "login": "parent", "password": "secret"},
        inline=False,
    ),
    "gateway.operator.forms.RepointForm": Spec(
        "/operator/instances/samara-fake",
        "/operator/instances/samara-fake/address",
        "operator",
        {"base_url": "http://127.0.0.1:9"},
        formats=(("base_url", "dnevnik", "Нужен адрес вида"),),
        inline=False,
    ),
    "gateway.operator.forms.ApproveInstanceForm": Spec(
        "/operator/approvals",
        "/operator/instances/samara-moved/approve",
        "admin",
        {"base_url": MOVED_TO},
        hidden=("base_url",),
        formats=(
            ("base_url", MOVED_TO.replace("34", "35"), "Адрес подключения изменился"),
            ("base_url", "не адрес", "Адрес подключения изменился"),
        ),
        inline=False,
    ),
    "gateway.operator.forms.ApproveForm": Spec(
        "/operator/applications/{waiting}",
        "/operator/applications/{waiting}/approve",
        "operator",
        {"login": "", "password": ""},
        inline=False,
    ),
    "gateway.operator.forms.RefuseForm": Spec(
        "/operator/applications/{waiting}",
        "/operator/applications/{waiting}/refuse",
        "operator",
        {"reason": "other", "text": "Нет такого ученика.\nПроверьте класс."},
        inline=False,
    ),
}
# Forms with no text field: a button, a checkbox. Each is posted with and without its token.
BUTTONS: dict[str, tuple[str, str, str, dict[str, str]]] = {
    "gateway.auth.forms.ConsentForm": ("/consent", "/consent", "parent", {"accept": "y"}),
    "gateway.auth.forms.LogoutForm": ("/logout", "/logout", "granny", {}),
    "gateway.children.forms.ManageForm": ("/children/", "/children/{petr}/move/up", "parent", {}),
    "gateway.exports.forms.IssueFeedForm": (
        "/child/{anna}/calendar",
        "/child/{anna}/calendar",
        "parent",
        {},
    ),
    "gateway.trusted.forms.ActionForm": (
        "/trusted/accept/{token}",
        "/trusted/accept/{token}",
        "granny",
        {"decision": "decline"},
    ),
    "gateway.operator.forms.ActionForm": (
        "/operator/instances/samara-fake",
        "/operator/instances/samara-fake/disable",
        "operator",
        {},
    ),
}
# Every POST route and the form it takes; the code step is covered in test_link_names.py and
# test_link_live.py (it needs a pending sign-in), the back-channel takes a signed token.
ROUTES = {
    "children.link": "LinkForm",
    "children.code": "CodeForm",
    "children.names": "NamesForm",
    "children.rename": "RenameForm",
    "children.move": "ManageForm",
    "children.unlink": "ManageForm",
    "applications.new": "ApplicationForm",
    "applications.edit": "ApplicationForm",
    "auth.consent": "ConsentForm",
    "auth.logout": "LogoutForm",
    "auth.refresh_profile": "csrf_token only",
    "auth.backchannel_logout": "a signed logout token, CSRF-exempt",
    "exports.calendar": "IssueFeedForm",
    "devtools.change_backend": "SlowForm or a button (test_devtools.py)",
    "diary.refresh": "csrf_token only; its hidden fields are tampered with in test_refresh.py",
    "trusted.invite": "InviteForm",
    "trusted.accept": "ActionForm",
    "trusted.revoke": "ActionForm",
    "trusted.remove": "ActionForm",
    "operator.new_instance": "InstanceForm",
    "operator.test_instance": "CheckForm",
    "operator.repoint": "RepointForm",
    "operator.approve_instance": "ApproveInstanceForm",
    "operator.approve": "ApproveForm",
    "operator.refuse": "RefuseForm",
    "operator.reveal": "ActionForm",
    "operator.enable": "ActionForm",
    "operator.disable": "ActionForm",
    "operator.staff": "RoleForm",
    "notifications.index": "NotificationsForm",
    "notifications.unsubscribe": "a signed token, CSRF-exempt (RFC 8058 one-click)",
    # JSON from static/push.js, CSRF in a header; every field in test_push_pages.py.
    "notifications.subscribe": "a browser's push subscription (JSON)",
    "notifications.forget_browser": "a push endpoint (JSON)",
    "notifications.remove_device": "DeviceForm",
    "notifications.connect_telegram": "TelegramForm",
    "notifications.disconnect_telegram": "TelegramForm",
}
ELSEWHERE = {
    "gateway.children.forms.CodeForm",
    "gateway.devtools.SlowForm",  # every value of its one field: tests/gateway/test_devtools.py
    # A GET form (a download): every field and all of them together in
    # tests/gateway/test_proof_download.py.
    "gateway.exports.forms.ProofForm",
    # Shown only beside a subscribed browser: tests/gateway/test_push_pages.py.
    "gateway.notifications.forms.DeviceForm",
    # Shown only with a bot configured: tests/gateway/test_telegram_pages.py.
    "gateway.notifications.forms.TelegramForm",
}


def discovered_forms() -> dict[str, type[FlaskForm]]:
    """Import every gateway module and return the form classes defined there, by dotted name."""
    for module in pkgutil.walk_packages([str(GATEWAY)], prefix="gateway."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)
    found: dict[str, type[FlaskForm]] = {}
    pending = [FlaskForm]
    while pending:
        for form_class in pending.pop().__subclasses__():
            pending.append(form_class)
            if form_class.__module__.startswith("gateway.") and form_class is not BaseForm:
                found[f"{form_class.__module__}.{form_class.__name__}"] = form_class
    return found


def test_every_form_and_every_post_route_is_covered(make_app: t.Callable[..., Flask]) -> None:
    forms = set(discovered_forms())
    assert forms == set(SPECS) | set(BUTTONS) | ELSEWHERE, "give the new form a spec here"
    app = make_app()
    posting = {r.endpoint for r in app.url_map.iter_rules() if "POST" in (r.methods or ())}
    assert posting - {"devtools.outbox"} == set(ROUTES), "list the new POST route here"


@dataclass(frozen=True)
class Case:
    """One submission: the spec, the field changed, the value, the message expected."""

    spec: str
    field: str
    value: str
    message: str | None

    def __str__(self) -> str:
        return f"{self.spec.rsplit('.', 1)[1]}-{self.field}-{self.value[:12]!r}"


def _text_fields(dotted: str) -> dict[str, StringField]:
    """Return the form's text fields by the name they are posted under."""
    form_class = discovered_forms()[dotted]
    app = Flask(__name__)
    app.config.update(SECRET_KEY="x", WTF_CSRF_ENABLED=False)
    with app.test_request_context():
        form = form_class()
        if dotted.endswith("NamesForm"):
            form.names.append_entry()
        fields = {f.name: f for f in form if isinstance(f, StringField)}
        for entry in getattr(form, "names", []):
            fields[entry.name] = entry
        fields.pop("names", None)
        return fields


def _generated_cases() -> list[Case]:
    cases = []
    for dotted, spec in SPECS.items():
        for name, field in _text_fields(dotted).items():
            required = next((v for v in field.validators if isinstance(v, DataRequired)), None)
            limit = next((v.max for v in field.validators if isinstance(v, MaxLength)), None)
            needed = required is not None and name in spec.valid
            cases.append(Case(dotted, name, CONTROL, "служебные символы"))
            cases.append(Case(dotted, name, "", str(required.message) if needed else None))
            cases.append(Case(dotted, name, " \t ", str(required.message) if needed else None))
            if limit is not None:
                cases.append(Case(dotted, name, "я" * (limit + 1), f"больше {limit}"))
        cases.extend(Case(dotted, *change) for change in spec.formats)
    return cases


@pytest.fixture
def world(make_app: t.Callable[..., Flask], school: t.Any) -> World:
    """Return a fresh world with CSRF on."""
    return build_world(make_app)


def _refused_where_typed(reply: t.Any, spec: Spec, case: Case) -> None:
    page = reply.text
    assert reply.status_code == 200, reply.status_code
    assert case.message is not None and case.message in html.unescape(page)
    if case.field not in spec.hidden:
        assert 'aria-invalid="true"' in page and "-error" in page
    for name, value in spec.valid.items():
        typed = value if name != case.field else case.value
        if name in _secret_fields(case.spec) or not typed.strip() or "\n" in typed:
            continue
        if name in _text_fields(case.spec) and name not in spec.hidden:
            assert html.escape(typed) in page or typed in html.unescape(page), name


def _secret_fields(dotted: str) -> set[str]:
    return {n for n, f in _text_fields(dotted).items() if isinstance(f, PasswordField)}


@pytest.mark.parametrize("case", _generated_cases(), ids=str)
def test_a_bad_value_is_refused_next_to_the_field_and_the_rest_is_kept(
    world: World, case: Case
) -> None:
    spec = SPECS[case.spec]
    before = stored_applications(world.app)
    reply = world.submit(spec.who, spec.page, spec.action, {**spec.valid, case.field: case.value})
    assert reply.status_code < 500, reply.text
    if case.message is None:  # an optional field left empty is fine
        return
    if spec.inline:
        _refused_where_typed(reply, spec, case)
    else:
        assert reply.status_code in (303, 400), reply.status_code
        shown = world.clients[spec.who].get(spec.page.format(**world.ids)).text
        assert 'role="alert"' in shown or reply.status_code == 400
    assert stored_applications(world.app) == before


@pytest.mark.parametrize("dotted", sorted(SPECS), ids=lambda d: d.rsplit(".", 1)[1])
def test_the_valid_values_go_through(world: World, dotted: str) -> None:
    spec = SPECS[dotted]
    reply = world.submit(spec.who, spec.page, spec.action, spec.valid)
    assert reply.status_code in (200, 303), reply.status_code
    if spec.inline and reply.status_code == 200:  # a backend's refusal, said plainly
        assert 'role="alert"' in reply.text and 'aria-invalid="true"' not in reply.text


@pytest.mark.parametrize("dotted", sorted(BUTTONS), ids=lambda d: d.rsplit(".", 1)[1])
def test_a_button_form_works_with_its_token_and_explains_a_missing_one(
    world: World, dotted: str
) -> None:
    page, action, who, data = BUTTONS[dotted]
    forged = world.clients[who].post(action.format(**world.ids), data=data)
    assert forged.status_code == 400 and "Форма устарела" in forged.text
    assert world.submit(who, page, action, data).status_code in (200, 303)


@pytest.mark.parametrize(
    ("phone", "email", "message"),
    [
        ("+7 900 000-00-03", "", None),
        ("", "galina.smirnova@example.test", None),
        ("8 (900) 000-00-03", "galina.smirnova@example.test", None),
        ("", "", "Укажите телефон или электронную почту."),
        ("  ", "  ", "Укажите телефон или электронную почту."),
    ],
    ids=["phone only", "e-mail only", "both", "neither", "blanks"],
)
def test_an_invitation_needs_a_phone_or_an_e_mail(
    world: World, phone: str, email: str, message: str | None
) -> None:
    data = {"name": "Смирнова Галина Ивановна", "phone": phone, "email": email}
    data[f"scope-{world.ids['anna']}"] = "schedule"
    reply = world.submit("parent", "/trusted/invite", "/trusted/invite", data)
    if message is None:
        assert reply.status_code == 303
    else:
        assert reply.status_code == 200 and message in reply.text
        assert 'value="Смирнова Галина Ивановна"' in reply.text


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("class_name", "5"),
        ("class_name", "5А"),
        ("class_name", "5 «А»"),
        ("class_name", "11б"),
        ("class_name", "1-В"),
        ("child_full_name", "Новикова София"),
        ("child_full_name", "Салтыкова-Щедрина Алёна Ивановна"),
        ("child_birth_date", (TODAY - dt.timedelta(days=6 * 366)).isoformat()),
        ("child_birth_date", (TODAY - dt.timedelta(days=18 * 365)).isoformat()),
    ],
)
def test_the_application_takes_what_a_school_writes(world: World, field: str, value: str) -> None:
    reply = world.submit(
        "parent", *[SPECS[APPLICATION_FORM].page] * 2, {**APPLICATION, field: value}
    )
    assert reply.status_code == 303, html.unescape(reply.text)


def test_every_problem_of_the_application_is_named_at_once(world: World) -> None:
    wrong = {**APPLICATION, "child_full_name": "Sofia", "child_birth_date": "2001-01-01"}
    reply = world.submit(
        "parent", *[SPECS[APPLICATION_FORM].page] * 2, {**wrong, "class_name": "13"}
    )
    page = html.unescape(reply.text)
    assert NOT_A_CHILDS_NAME in page and "больше 18 лет" in page and NOT_A_CLASS in page
    summary = page.partition('class="error-summary"')[2].partition("</div>")[0]
    for label in ("ФИО ребёнка", "Дата рождения ребёнка", "Класс"):
        assert f">{label}</a>" in summary
    assert 'value="Sofia"' in page and 'value="13"' in page and 'value="Соня"' in page


def test_a_refused_application_can_be_corrected_through_its_own_form(world: World) -> None:
    edit = "/children/applications/{refused}/edit"
    kept = {**APPLICATION, "certificate": "", "passport": "", "child_full_name": CONTROL}
    refused = world.submit("parent", edit, edit, kept)
    assert refused.status_code == 200 and "служебные символы" in refused.text
    fixed = world.submit("parent", edit, edit, {**kept, "child_full_name": "Новикова София"})
    assert fixed.status_code == 303


class _EmailOnly(BaseForm):
    """The invitation's e-mail field alone."""

    email = StringField(validators=[EmailAddress("bad")])


@pytest.mark.parametrize(
    ("production", "address", "accepted"),
    [
        (False, "galina@example.test", True),  # the demo's addresses
        (True, "galina@example.test", False),  # reach no one: refused in production
        (True, "galina@mail.example.ru", True),
        (True, "galina@", False),
    ],
)
def test_test_domains_pass_the_e_mail_check_in_development_only(
    production: bool, address: str, accepted: bool
) -> None:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="x", WTF_CSRF_ENABLED=False, PRODUCTION=production)
    with app.test_request_context(method="POST", data={"email": address}):
        assert _EmailOnly().validate() is accepted
