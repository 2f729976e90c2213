"""Gripp's enums, read by id — never by label.

Real Gripp sends an enum field as `{"id": n, "searchname": "<the Dutch label a user sees>"}`: rows of a live
account cached in flipmoo/begripp `src/db/database.sqlite` show `rowtype` `{"id":2,"searchname":"GROEPLABEL"}`,
hour `status` 1 "Concept" / 2 "Definitief" / 3 "Gefiatteerd", absence status "IN AANVRAAG" / "GOEDGEKEURD";
Codebes-NL/gripp-sdk (`src/Features/Billability.php`) filters `hour.status` on ids 2 and 3. In each case the id is
the position of the constant in the API metadata's `values` list, counting from 1; that is what `Enum` encodes.
A label can change with Gripp's UI language, so it is only ever shown to people. The cache keeps the constant
found by the id (`gripp_invoices.status = 'SENT'`).

Gripp's docs say an enum in a request may be "an integer and string value" (its id or its constant), so the
parser also accepts a bare id or a bare constant: what a future or older API version might plausibly send.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Enum:
    field: str  # "entity.field", for messages
    values: tuple[str, ...]  # the metadata's `values`, in order: id 1 is values[0]

    def constant(self, value: Any) -> str | None:
        """The constant an enum value stands for, found by its id; None when Gripp sent nothing we know.

        `{"id": 2, "searchname": "Verzonden"}` → "SENT"; a bare 2 or "SENT" too; a label alone never."""
        if isinstance(value, dict):
            value = value.get("id")
        if isinstance(value, bool) or value is None:
            return None
        if isinstance(value, int):
            return self.values[value - 1] if 1 <= value <= len(self.values) else None
        text = str(value).strip()
        if text.isdigit():
            return self.constant(int(text))
        return text if text in self.values else None


# The enums the link reads, with the metadata's `values` lists (../shared/reference/gripp-api-v3-metadata.json).
INVOICE_STATUS = Enum("invoice.status", ("CONCEPT", "SENT"))
ROWTYPE = Enum("invoiceline.rowtype", ("NORMAL", "GROUP"))
RELATIONTYPE = Enum("company.relationtype", ("COMPANY", "PRIVATEPERSON"))
INVOICESENDTO = Enum("company.invoicesendto", ("VISITINGADDRESS", "POSTADDRESS", "OTHER"))
POSTADDRESS = Enum("company.postaddress", ("VISITINGADDRESS", "OTHER"))

GROUP = "GROUP"
