"""English messages (gettext msgids of the `workspace` domain) for the error codes of the
issuing rules, the permit service and bulk upload; registered with the web layer."""

from __future__ import annotations

from permits.web.forms import add_error_messages

WORKSPACE_ERRORS = {
    "unknown_category": "This category does not exist.",
    "role_not_allowed": "This role is not allowed on this permit.",
    "name_invalid": "Enter 1-60 characters with at least one letter.",
    "one_document": "Give a personal number or a foreign document, not both.",
    "personal_number_invalid": "A personal number has exactly 11 digits.",
    "foreign_document_invalid": "A foreign document number has 5-20 letters and digits.",
    "duplicate_person": "The same person is named twice.",
    "vehicle_kind_not_allowed": "This kind of vehicle is not allowed on this permit.",
    "plate_invalid": "A plate has 2-10 letters and digits, e.g. AB-123-CD.",
    "unknown_municipality": "Choose a municipality from the list.",
    "ends_before_start": "The permit must end after it starts.",
    "in_past": "A permit cannot start before today.",
    "window_invalid": "A daily window is HH:MM to HH:MM.",
    "weekday_invalid": "Choose weekdays from the list.",
    "category_not_allowed": "Your organisation may not issue this kind of permit.",
    "receipt_not_applicable": "This kind of permit takes no delivery receipt.",
    "receipt_already_recorded": "The receipt is already recorded.",
    "in_future": "The receipt cannot be in the future.",
    "already_revoked": "The permit is already revoked.",
    "already_replaced": "The permit has already been replaced.",
    "not_found": "Nothing was found here.",
    "not_permitted": "You may not do this.",
    "reason_required": "Give the reason (at least 3 characters).",
    "received_by_required": "Give the name of who received the items.",
    "file_required": "Choose a CSV or Excel file.",
    "file_type": "Upload a .csv or .xlsx file.",
    "file_too_large": "The file is larger than %(megabytes)s MB.",
    "file_unreadable": "The file cannot be read as CSV or Excel.",
    "no_header": "No header row with the expected columns was found.",
    "too_many_rows": "The file has more than %(rows)s rows.",
    "no_rows": "The file has no rows to issue.",
    "duplicate_row": "The same row appears earlier in this file (line %(line)s).",
    "already_issued": "Already issued from an earlier upload.",
    "job_not_ready": "This upload cannot be confirmed now.",
}

add_error_messages(WORKSPACE_ERRORS)
