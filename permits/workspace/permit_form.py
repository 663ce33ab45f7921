"""The issuing form of one category: its fields, turning what was typed into a
`PermitCreate`, filling it from a stored permit, and putting errors next to their fields.

Form field names are flat: person-0-first_name, vehicle-plate, route-to_address,
schedule-date_from, schedule-window-0-start, schedule-weekdays ...
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from pydantic import ValidationError

from permits.errors import FieldError
from permits.issuance.models import Permit, PermitPerson
from permits.issuance.schemas import PermitCreate
from permits.issuance.validation import WEEKDAYS, mask_to_weekdays
from permits.organisations.models import Organisation
from permits.policy.rules import CategoryRules
from permits.timezone import LOCAL, minutes_to_hhmm
from permits.web.forms import FormState

MAX_ROWS = 12
PRESETS = {
    "mwf": ["mon", "wed", "fri"],
    "tts": ["tue", "thu", "sat"],
    "weekdays": ["mon", "tue", "wed", "thu", "fri"],
    "all": [],
}
# categories whose trip ends at the issuing clinic: its address is filled in
ENDS_AT_ISSUER = {"doctor_visit", "medical_staff", "patient_delivery", "special_needs"}
PERSON_FIELDS = ("role", "first_name", "last_name", "document_kind", "document", "position")


@dataclass(frozen=True, slots=True)
class CategoryForm:
    """Which fields a category's form shows, and which of them are required."""

    rules: CategoryRules

    @property
    def shows_position(self) -> bool:
        """Job position of each person (medical staff, veterinary)."""
        return "person_position" in self.rules.required_fields

    @property
    def shows_beneficiary(self) -> bool:
        """The hospitalised patient the items are for (delivery to a patient)."""
        return "beneficiary" in self.rules.required_fields or self.rules.receipt

    @property
    def shows_reference(self) -> bool:
        """A document the permit rests on (death certificate, cargo papers)."""
        return "reference_document" in self.rules.required_fields

    @property
    def shows_purpose(self) -> bool:
        """A private note on the purpose (medical categories and deliveries)."""
        return self.rules.medical or self.rules.receipt

    @property
    def shows_windows(self) -> bool:
        """Daily windows (fixed by the policy for farm work)."""
        return bool(self.rules.daily_windows)

    def required(self, name: str) -> bool:
        """True when the policy requires the optional field `name`."""
        return name in self.rules.required_fields


def local_day(now: datetime) -> date:
    """Today in Tbilisi."""
    return now.astimezone(LOCAL).date()


def blank_form(
    rules: CategoryRules, *, organisation: Organisation, now: datetime, idempotency_key: str
) -> FormState:
    """A new form for `rules`: one row per required person, defaults from the organisation."""
    form = FormState()
    rows: list[str] = []
    for role, (low, high) in rules.roles.items():
        for _ in range(max(low, 1 if high else 0)):
            if len(rows) < rules.max_persons:
                rows.append(role)
    for index, role in enumerate(rows):
        form.set(f"person-{index}-role", role)
        form.set(f"person-{index}-document_kind", "pn")
    form.set("person_count", str(len(rows)))
    form.set("vehicle-kind", rules.vehicle_kinds[0])
    form.set("route-from_municipality", str(organisation.municipality))
    form.set("route-to_municipality", str(organisation.municipality))
    if rules.slug in ENDS_AT_ISSUER:
        form.set("route-to_address", organisation.address)
    today = local_day(now)
    days = min(rules.max_validity_days, 14)
    form.set("schedule-date_from", today.isoformat())
    form.set("schedule-time_from", "00:00")
    form.set("schedule-date_to", (today + timedelta(days=days - 1)).isoformat())
    form.set("schedule-time_to", "23:59")
    for index, window in enumerate(rules.daily_windows):
        form.set(f"schedule-window-{index}-start", window.start.strftime("%H:%M"))
        form.set(f"schedule-window-{index}-end", window.end.strftime("%H:%M"))
    form.set("idempotency_key", idempotency_key)
    return form


def form_from_permit(
    permit: Permit,
    persons: list[PermitPerson],
    *,
    idempotency_key: str,
    keep_dates: bool,
    now: datetime,
) -> FormState:
    """A form filled from a stored permit: for a replacement (`keep_dates`) or as a template
    for a repeat trip (the same length of time, from today)."""
    form = FormState()
    for index, person in enumerate(persons):
        form.set(f"person-{index}-role", person.role)
        form.set(f"person-{index}-first_name", person.first_name)
        form.set(f"person-{index}-last_name", person.last_name)
        form.set(f"person-{index}-document_kind", "foreign" if person.foreign_document else "pn")
        form.set(f"person-{index}-document", person.document)
        form.set(f"person-{index}-position", person.job_position or "")
    form.set("person_count", str(len(persons)))
    form.set("vehicle-kind", permit.vehicle_kind or "car")
    form.set("vehicle-make_model", permit.make_model or "")
    form.set("vehicle-plate", permit.plate or "")
    form.set("route-from_municipality", str(permit.route_from_municipality or ""))
    form.set("route-from_address", permit.route_from_address or "")
    form.set("route-to_municipality", str(permit.route_to_municipality or ""))
    form.set("route-to_address", permit.route_to_address or "")
    form.set("route-note", permit.route_note or "")
    start = permit.valid_from.astimezone(LOCAL)
    end = permit.valid_until.astimezone(LOCAL)
    if not keep_dates:
        shift = local_day(now) - start.date()
        if shift.days > 0:
            start, end = start + shift, end + shift
    form.set("schedule-date_from", start.date().isoformat())
    form.set("schedule-time_from", start.strftime("%H:%M"))
    last = end - timedelta(minutes=1) if end.time() == time(0) else end
    form.set("schedule-date_to", last.date().isoformat())
    form.set("schedule-time_to", "23:59" if end.time() == time(0) else end.strftime("%H:%M"))
    for index, (low, high) in enumerate(permit.windows):
        form.set(f"schedule-window-{index}-start", minutes_to_hhmm(low))
        form.set(f"schedule-window-{index}-end", minutes_to_hhmm(high))
    form.set("schedule-weekdays", mask_to_weekdays(permit.weekdays))
    form.set("purpose_detail", permit.purpose_detail or "")
    form.set("beneficiary", permit.beneficiary or "")
    form.set("reference_document", permit.reference_document or "")
    form.set("idempotency_key", idempotency_key)
    return form


def row_count(form: FormState) -> int:
    """How many person rows the form has (at least one, at most MAX_ROWS)."""
    try:
        count = int(form.value("person_count", "1"))
    except ValueError:
        count = 1
    seen = [
        int(m.group(1))
        for name in form.values
        if (m := re.match(r"person-(\d+)-", name)) and int(m.group(1)) < MAX_ROWS
    ]
    return max(1, min(MAX_ROWS, max([count, *(i + 1 for i in seen)])))


def _blank(text: str) -> str | None:
    value = text.strip()
    return value or None


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def _parse_time(text: str, default: time) -> time | None:
    value = text.strip()
    if not value:
        return default
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        return None
    return time(int(match.group(1)), int(match.group(2)))


@dataclass
class ParsedForm:
    """What the form said as a request (None when it could not be built), the form errors
    found before the rules are checked, and which form row each request person came from."""

    request: PermitCreate | None
    errors: list[FieldError]
    person_rows: list[int]


def parse_form(form: FormState, rules: CategoryRules, now: datetime) -> ParsedForm:
    """Build a `PermitCreate` from the typed values (blank person rows are left out).

    Values that cannot even be read (a date that is not a date) become form errors; their
    field is then filled with a stand-in so that the rules can still check the rest.
    """
    errors: list[FieldError] = []
    persons: list[dict[str, Any]] = []
    person_rows: list[int] = []
    for index in range(row_count(form)):
        values = {f: form.value(f"person-{index}-{f}").strip() for f in PERSON_FIELDS}
        if not any(values[f] for f in ("first_name", "last_name", "document", "position")):
            continue
        person: dict[str, Any] = {
            "role": values["role"] or next(iter(rules.roles)),
            "first_name": values["first_name"],
            "last_name": values["last_name"],
            "position": values["position"] or None,
        }
        if values["document_kind"] == "foreign":
            person["foreign_document_number"] = values["document"]
        else:
            person["personal_number"] = values["document"] if values["document"] else None
        persons.append(person)
        person_rows.append(index)
    municipalities = {}
    for side in ("from", "to"):
        raw = form.value(f"route-{side}_municipality").strip()
        if raw.isdigit():
            municipalities[side] = int(raw)
        else:
            errors.append(FieldError(f"route.{side}_municipality", "required", "choose one"))
            municipalities[side] = 0
    start_day = _parse_date(form.value("schedule-date_from"))
    end_day = _parse_date(form.value("schedule-date_to"))
    start_time = _parse_time(form.value("schedule-time_from"), time(0))
    end_time = _parse_time(form.value("schedule-time_to"), time(23, 59))
    today = local_day(now)
    if start_day is None:
        errors.append(FieldError("schedule.valid_from", "not_a_date", "not a date"))
    if end_day is None:
        errors.append(FieldError("schedule.valid_until", "not_a_date", "not a date"))
    if start_time is None:
        errors.append(FieldError("schedule.time_from", "not_a_time", "not a time"))
    if end_time is None:
        errors.append(FieldError("schedule.time_to", "not_a_time", "not a time"))
    valid_from = datetime.combine(start_day or today, start_time or time(0), tzinfo=LOCAL)
    if end_time is None or end_time == time(23, 59):
        valid_until = datetime.combine((end_day or today) + timedelta(days=1), time(0), LOCAL)
    else:
        valid_until = datetime.combine(end_day or today, end_time, tzinfo=LOCAL)
    windows = []
    for index in range(4):
        start = form.value(f"schedule-window-{index}-start").strip()
        end = form.value(f"schedule-window-{index}-end").strip()
        if start or end:
            windows.append({"start": start[:5], "end": end[:5]})
    preset = form.value("schedule-preset")
    weekdays = PRESETS[preset] if preset in PRESETS else form.getlist("schedule-weekdays")
    weekdays = [d for d in weekdays if d in WEEKDAYS]
    kind = form.value("vehicle-kind").strip() or rules.vehicle_kinds[0]
    body: dict[str, Any] = {
        "category": rules.slug,
        "persons": persons,
        "vehicle": {
            "kind": kind,
            "make_model": _blank(form.value("vehicle-make_model")),
            "plate": _blank(form.value("vehicle-plate")),
        },
        "route": {
            "from_municipality": municipalities["from"],
            "from_address": _blank(form.value("route-from_address")),
            "to_municipality": municipalities["to"],
            "to_address": _blank(form.value("route-to_address")),
            "note": _blank(form.value("route-note")),
        },
        "schedule": {
            "valid_from": valid_from.isoformat(),
            "valid_until": valid_until.isoformat(),
            "windows": windows,
            "weekdays": weekdays,
        },
        "purpose_detail": _blank(form.value("purpose_detail")),
        "beneficiary": _blank(form.value("beneficiary")),
        "reference_document": _blank(form.value("reference_document")),
    }
    try:
        request = PermitCreate.model_validate(body)
    except ValidationError as exc:
        for item in exc.errors():
            path = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in item["loc"])
            path = path.replace(".[", "[")
            code = "too_long" if item["type"] == "string_too_long" else "invalid"
            errors.append(FieldError(path, code, str(item["msg"])))
        return ParsedForm(None, errors, person_rows)
    return ParsedForm(request, errors, person_rows)


_PERSON_PATH = re.compile(r"^persons\[(\d+)\]\.(\w+)$")


def form_field(path: str, person_rows: list[int]) -> str | None:
    """The form field for an error path of the rules ("persons[1].first_name" ->
    "person-<row>-first_name"); None sends the error to the top of the form."""
    match = _PERSON_PATH.match(path)
    if match:
        index, name = int(match.group(1)), match.group(2)
        row = person_rows[index] if index < len(person_rows) else index
        if name in ("personal_number", "foreign_document_number"):
            name = "document"
        return f"person-{row}-{name}"
    if path == "persons":
        return "persons"
    window = re.match(r"^schedule\.windows\[(\d+)\]", path)
    if window:
        return f"schedule-window-{window.group(1)}-start"
    fixed = {
        "vehicle": "vehicle-kind",
        "vehicle.kind": "vehicle-kind",
        "vehicle.plate": "vehicle-plate",
        "vehicle.make_model": "vehicle-make_model",
        "route.from_municipality": "route-from_municipality",
        "route.to_municipality": "route-to_municipality",
        "route.from_address": "route-from_address",
        "route.to_address": "route-to_address",
        "route.note": "route-note",
        "schedule.valid_from": "schedule-date_from",
        "schedule.valid_until": "schedule-date_to",
        "schedule.time_from": "schedule-time_from",
        "schedule.time_to": "schedule-time_to",
        "schedule.weekdays": "schedule-weekdays",
        "purpose_detail": "purpose_detail",
        "beneficiary": "beneficiary",
        "reference_document": "reference_document",
    }
    return fixed.get(path)


def rules_messages(
    rules: CategoryRules, language: str, _: Callable[[str], str]
) -> Callable[[FieldError], str | None]:
    """Messages for the rules' error codes, with the category's own limits filled in."""
    name = rules.names.get(language)
    spans = ", ".join(f"{w.start:%H:%M}–{w.end:%H:%M}" for w in rules.daily_windows)

    def message(error: FieldError) -> str | None:
        code, field = error.code, error.field
        if code == "too_long" and field == "schedule.valid_until":
            return _("This permit can last at most %(days)s days.") % {
                "days": rules.max_validity_days
            }
        if code == "too_many_persons":
            return _("At most %(count)s persons in one vehicle.") % {"count": rules.max_persons}
        if code in ("role_missing", "role_too_many"):
            parts = []
            for role, (low, high) in rules.roles.items():
                label = _(role.replace("_", " "))
                parts.append(f"{label}: {low}–{high}" if low != high else f"{label}: {low}")
            return _("Persons on this permit: %(roles)s.") % {"roles": "; ".join(parts)}
        if code == "outside_policy_windows":
            return _("This permit is valid only %(windows)s each day.") % {"windows": spans}
        if code == "after_regulation_end" and rules.regulation_end is not None:
            end = rules.regulation_end.astimezone(LOCAL).date().isoformat()
            return _("Under the regulation this permit ends by %(date)s.") % {"date": end}
        if code == "required" and field == "vehicle":
            return _("Give the vehicle.")
        if code == "category_not_allowed":
            return _("Your organisation may not issue %(category)s permits.") % {"category": name}
        return None

    return message
