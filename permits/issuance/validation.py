"""Check a permit request against the policy; collect every problem, naming its field.

Nothing here touches the database or a key: a request either becomes a `ValidatedPermit`
or raises `ValidationFailed` with the full list of field errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from permits.errors import FieldError, NotPermitted, ValidationFailed
from permits.issuance.people import clean_foreign_document, clean_name, clean_personal_number
from permits.issuance.plates import PlateError, normalise_plate
from permits.issuance.schemas import PermitCreate, PersonIn
from permits.organisations.models import Organisation
from permits.policy.rules import CategoryRules, PolicyDocument
from permits.timezone import hhmm_to_minutes, local_midnight, to_utc

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ROUTE_NOTE_MAX = 40
MAKE_MODEL_MAX = 40
ADDRESS_MAX = 200


@dataclass(frozen=True, slots=True)
class ValidPerson:
    """A person after validation."""

    role: str
    first_name: str
    last_name: str
    document: str
    foreign_document: bool
    job_position: str | None


@dataclass(frozen=True, slots=True)
class ValidatedPermit:
    """A request that passed every rule, normalised and ready to sign."""

    category: CategoryRules
    persons: tuple[ValidPerson, ...]
    vehicle_kind: str | None
    make_model: str | None
    plate: str | None
    plate_freeform: bool
    route_from_address: str | None
    route_from_municipality: int
    route_to_address: str | None
    route_to_municipality: int
    route_note: str | None
    valid_from: datetime
    valid_until: datetime
    windows: tuple[tuple[int, int], ...]
    weekdays: int | None
    purpose_detail: str | None
    beneficiary: str | None
    reference_document: str | None
    warnings: tuple[str, ...]


def allowed_categories(organisation: Organisation, policy: PolicyDocument) -> list[CategoryRules]:
    """Return the categories `organisation` may issue: its kind's, narrowed by its own list."""
    by_kind = policy.categories_for_kind(organisation.kind)
    if organisation.categories is None:
        return by_kind
    return [c for c in by_kind if c.slug in organisation.categories]


def weekdays_to_mask(days: list[str]) -> int:
    """Turn ["mon", "wed"] into a bitmask (bit 0 = Monday); raises ValueError on a bad name."""
    mask = 0
    for day in days:
        mask |= 1 << WEEKDAYS.index(day.strip().lower()[:3])
    return mask


def mask_to_weekdays(mask: int | None) -> list[str]:
    """Turn a weekday bitmask back into ["mon", ...] (empty for None: every day)."""
    if mask is None:
        return []
    return [day for bit, day in enumerate(WEEKDAYS) if mask & (1 << bit)]


class _Collector:
    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, field: str, code: str, message: str) -> None:
        self.errors.append(FieldError(field=field, code=code, message=message))


def _text(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    return value or None


def validate_permit(
    request: PermitCreate, *, policy: PolicyDocument, organisation: Organisation, now: datetime
) -> ValidatedPermit:
    """Validate `request` for `organisation` under `policy` at time `now`.

    Raises NotPermitted when the organisation may not issue the category, and
    ValidationFailed listing every field problem otherwise.
    """
    category = policy.category(request.category)
    if category is None:
        raise ValidationFailed(
            [FieldError("category", "unknown_category", f"unknown category {request.category!r}")]
        )
    if category.slug not in {c.slug for c in allowed_categories(organisation, policy)}:
        raise NotPermitted(
            f"{organisation.code} may not issue {category.slug} permits",
            code="category_not_allowed",
            field="category",
        )
    errors = _Collector()
    warnings: list[str] = []
    persons = _validate_persons(request.persons, category, errors)
    vehicle = _validate_vehicle(request, category, errors, warnings)
    route = _validate_route(request, policy, category, errors)
    schedule = _validate_schedule(request, category, now, errors)
    required = set(category.required_fields)
    private = {}
    for name, limit in (
        ("purpose_detail", 2000),
        ("beneficiary", ADDRESS_MAX),
        ("reference_document", 100),
    ):
        value = _text(getattr(request, name), limit)
        if value is not None and len(value) > limit:
            errors.add(name, "too_long", f"{name} is longer than {limit} characters")
        if value is None and name in required:
            errors.add(name, "required", f"{name} is required for {category.slug}")
        private[name] = value
    if errors.errors:
        raise ValidationFailed(errors.errors)
    return ValidatedPermit(
        category=category,
        persons=persons,
        vehicle_kind=vehicle[0],
        make_model=vehicle[1],
        plate=vehicle[2],
        plate_freeform=vehicle[3],
        route_from_address=route[0],
        route_from_municipality=route[1],
        route_to_address=route[2],
        route_to_municipality=route[3],
        route_note=route[4],
        valid_from=schedule[0],
        valid_until=schedule[1],
        windows=schedule[2],
        weekdays=schedule[3],
        purpose_detail=private["purpose_detail"],
        beneficiary=private["beneficiary"],
        reference_document=private["reference_document"],
        warnings=tuple(warnings),
    )


def _validate_persons(
    people: list[PersonIn], category: CategoryRules, errors: _Collector
) -> tuple[ValidPerson, ...]:
    result: list[ValidPerson] = []
    if not people:
        errors.add("persons", "required", "name at least one person")
    if len(people) > category.max_persons:
        errors.add(
            "persons",
            "too_many_persons",
            f"{category.slug} allows at most {category.max_persons} persons per vehicle",
        )
    counts: dict[str, int] = {}
    seen: set[str] = set()
    for index, person in enumerate(people):
        at = f"persons[{index}]"
        role = person.role.strip().lower()
        if not category.allows_role(role):
            errors.add(
                f"{at}.role",
                "role_not_allowed",
                f"role {person.role!r} is not allowed on {category.slug}",
            )
        counts[role] = counts.get(role, 0) + 1
        first = clean_name(person.first_name)
        if first is None:
            errors.add(
                f"{at}.first_name",
                "name_invalid",
                "first name must be 1-60 characters with a letter",
            )
        last = clean_name(person.last_name)
        if last is None:
            errors.add(
                f"{at}.last_name", "name_invalid", "last name must be 1-60 characters with a letter"
            )
        document: str | None = None
        foreign = False
        if person.personal_number and person.foreign_document_number:
            errors.add(
                f"{at}.personal_number",
                "one_document",
                "give a personal number or a foreign document, not both",
            )
        elif person.personal_number is not None:
            document = clean_personal_number(person.personal_number)
            if document is None:
                errors.add(
                    f"{at}.personal_number",
                    "personal_number_invalid",
                    "a personal number has exactly 11 digits",
                )
        elif person.foreign_document_number is not None:
            foreign = True
            document = clean_foreign_document(person.foreign_document_number)
            if document is None:
                errors.add(
                    f"{at}.foreign_document_number",
                    "foreign_document_invalid",
                    "a foreign document number has 5-20 letters and digits",
                )
        else:
            errors.add(
                f"{at}.personal_number",
                "required",
                "a personal number (or a foreign document number) is required",
            )
        if document is not None:
            key = ("F" if foreign else "P") + document
            if key in seen:
                errors.add(
                    f"{at}.personal_number", "duplicate_person", "the same person is named twice"
                )
            seen.add(key)
        position = _text(person.position, 100)
        if position is not None and len(position) > 100:
            errors.add(f"{at}.position", "too_long", "position is longer than 100 characters")
        if position is None and "person_position" in category.required_fields and role != "driver":
            errors.add(f"{at}.position", "required", f"position is required for {category.slug}")
        if first and last and document:
            result.append(ValidPerson(role, first, last, document, foreign, position))
    for role, (low, high) in category.roles.items():
        count = counts.get(role, 0)
        if count < low:
            errors.add("persons", "role_missing", f"{category.slug} needs at least {low} {role}")
        elif count > high:
            errors.add("persons", "role_too_many", f"{category.slug} allows at most {high} {role}")
    return tuple(result)


def _validate_vehicle(
    request: PermitCreate, category: CategoryRules, errors: _Collector, warnings: list[str]
) -> tuple[str | None, str | None, str | None, bool]:
    vehicle = request.vehicle
    if vehicle is None:
        if category.vehicle_required:
            errors.add("vehicle", "required", f"a vehicle is required for {category.slug}")
        return None, None, None, False
    kind = vehicle.kind.strip().lower()
    if kind not in category.vehicle_kinds:
        errors.add(
            "vehicle.kind",
            "vehicle_kind_not_allowed",
            f"vehicle kind {vehicle.kind!r} is not allowed on {category.slug}",
        )
    make_model = _text(vehicle.make_model, MAKE_MODEL_MAX)
    if make_model is not None and len(make_model) > MAKE_MODEL_MAX:
        errors.add(
            "vehicle.make_model",
            "too_long",
            f"make and model is longer than {MAKE_MODEL_MAX} characters",
        )
    if make_model is None and "make_model" in category.required_fields:
        errors.add(
            "vehicle.make_model", "required", f"make and model are required for {category.slug}"
        )
    plate_value: str | None = None
    freeform = False
    if vehicle.plate is None or not vehicle.plate.strip():
        if kind != "bicycle":
            errors.add("vehicle.plate", "required", "the plate is required")
    else:
        try:
            plate = normalise_plate(vehicle.plate)
        except PlateError:
            errors.add(
                "vehicle.plate",
                "plate_invalid",
                "a plate has 2-10 letters and digits, e.g. AB-123-CD",
            )
        else:
            plate_value, freeform = plate.value, plate.freeform
            if freeform:
                warnings.append("plate_freeform")
    return kind, make_model, plate_value, freeform


def _validate_route(
    request: PermitCreate, policy: PolicyDocument, category: CategoryRules, errors: _Collector
) -> tuple[str | None, int, str | None, int, str | None]:
    route = request.route
    for side in ("from", "to"):
        code = getattr(route, f"{side}_municipality")
        if policy.municipality(code) is None:
            errors.add(
                f"route.{side}_municipality", "unknown_municipality", f"unknown municipality {code}"
            )
    addresses = {}
    for side in ("from", "to"):
        value = _text(getattr(route, f"{side}_address"), ADDRESS_MAX)
        if value is not None and len(value) > ADDRESS_MAX:
            errors.add(
                f"route.{side}_address",
                "too_long",
                f"address is longer than {ADDRESS_MAX} characters",
            )
        if value is None and f"route_{side}_address" in category.required_fields:
            errors.add(
                f"route.{side}_address",
                "required",
                f"the {side} address is required for {category.slug}",
            )
        addresses[side] = value
    note = _text(route.note, ROUTE_NOTE_MAX)
    if note is not None and len(note) > ROUTE_NOTE_MAX:
        errors.add(
            "route.note", "too_long", f"the route note is longer than {ROUTE_NOTE_MAX} characters"
        )
    return addresses["from"], route.from_municipality, addresses["to"], route.to_municipality, note


def _validate_schedule(
    request: PermitCreate, category: CategoryRules, now: datetime, errors: _Collector
) -> tuple[datetime, datetime, tuple[tuple[int, int], ...], int | None]:
    schedule = request.schedule
    start, end = to_utc(schedule.valid_from), to_utc(schedule.valid_until)
    if end <= start:
        errors.add(
            "schedule.valid_until", "ends_before_start", "the permit must end after it starts"
        )
    if start < local_midnight(now):
        errors.add("schedule.valid_from", "in_past", "a permit cannot start before today")
    if end - start > timedelta(days=category.max_validity_days):
        errors.add(
            "schedule.valid_until",
            "too_long",
            f"{category.slug} permits last at most {category.max_validity_days} days",
        )
    if category.regulation_end is not None and end > category.regulation_end:
        errors.add(
            "schedule.valid_until",
            "after_regulation_end",
            f"{category.slug} permits end by {category.regulation_end.isoformat()} "
            "under the regulation",
        )
    windows: list[tuple[int, int]] = []
    for index, window in enumerate(schedule.windows):
        at = f"schedule.windows[{index}]"
        try:
            low, high = hhmm_to_minutes(window.start), hhmm_to_minutes(window.end) % (24 * 60)
        except ValueError:
            errors.add(at, "window_invalid", "a window is HH:MM to HH:MM")
            continue
        if low == high or low >= 24 * 60:
            errors.add(at, "window_invalid", "a window must start and end at different times")
            continue
        windows.append((low, high))
    if category.daily_windows:
        allowed = [(w.start_minute, w.end_minute) for w in category.daily_windows]
        if not schedule.windows:
            windows = allowed
        for index, (low, high) in enumerate(windows):
            if not any(a <= low and high <= b and low < high for a, b in allowed):
                spans = ", ".join(f"{w.start:%H:%M}-{w.end:%H:%M}" for w in category.daily_windows)
                errors.add(
                    f"schedule.windows[{index}]",
                    "outside_policy_windows",
                    f"{category.slug} permits are valid only {spans}",
                )
    weekdays: int | None = None
    if schedule.weekdays:
        try:
            weekdays = weekdays_to_mask(schedule.weekdays)
        except ValueError:
            errors.add(
                "schedule.weekdays",
                "weekday_invalid",
                "weekdays are mon, tue, wed, thu, fri, sat, sun",
            )
        if weekdays == 0b1111111:
            weekdays = None
    return start, end, tuple(windows), weekdays
