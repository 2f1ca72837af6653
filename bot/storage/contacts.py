"""The contacts: named numbers the admins keep, usable as receivers by name (`/sms @reception …`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.storage.db import begin_immediate, translated
from bot.storage.ledger import metadata

contacts = sa.Table(
    "sms_contacts",
    metadata,
    # Names are matched whatever their case ("Recepción" is "recepción"); the name is kept as written.
    sa.Column("name_key", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(40), nullable=False),
    sa.Column("e164", sa.String(20), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.String(32), nullable=False),
)


@dataclass(frozen=True)
class Contact:
    """One named number."""

    name: str
    e164: str
    created_at: datetime
    created_by: str


def _key(name: str) -> str:
    return name.casefold()


class ContactList:
    """The ``sms_contacts`` table (a :class:`bot.domain.recipients.ContactBook`). Every method raises
    :class:`~bot.domain.errors.LedgerUnavailable` when the database fails."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @translated
    def add(self, name: str, e164: str, created_by: str) -> Contact | None:
        """Add a contact; None if one of that name exists (it is left as it is: see :meth:`get`)."""
        values = {
            "name_key": _key(name),
            "name": name,
            "e164": e164,
            "created_at": datetime.now(UTC),
            "created_by": created_by,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(contacts.insert().values(**values))
        except IntegrityError:
            return None
        return _contact(values)

    @translated
    def put(self, name: str, e164: str, created_by: str) -> str:
        """Add a contact or change its number: "added", "updated" or "unchanged" (a CSV import)."""
        # Reads, then writes what it read: begun deferred, a write by anyone else in between (the bot,
        # while `smsbot contacts import` runs) would fail it at once with "database is locked".
        with begin_immediate(self.engine) as conn:
            row = conn.execute(contacts.select().where(contacts.c.name_key == _key(name))).one_or_none()
            now = datetime.now(UTC)
            if row is None:
                conn.execute(
                    contacts.insert().values(
                        name_key=_key(name), name=name, e164=e164, created_at=now, created_by=created_by
                    )
                )
                return "added"
            if row.e164 == e164:
                return "unchanged"
            conn.execute(
                contacts.update()
                .where(contacts.c.name_key == _key(name))
                .values(name=name, e164=e164, created_at=now, created_by=created_by)
            )
            return "updated"

    @translated
    def remove(self, name: str) -> Contact | None:
        """Remove a contact; the one removed, or None if there was none of that name."""
        with self.engine.begin() as conn:
            row = conn.execute(
                contacts.delete().where(contacts.c.name_key == _key(name)).returning(*contacts.c)
            ).one_or_none()
        return _contact(row._mapping) if row is not None else None

    @translated
    def get(self, name: str) -> Contact | None:
        """The contact of this name, if any (whatever the case it is written in)."""
        with self.engine.connect() as conn:
            row = conn.execute(contacts.select().where(contacts.c.name_key == _key(name))).one_or_none()
        return _contact(row._mapping) if row is not None else None

    @translated
    def lookup(self, names: Iterable[str]) -> dict[str, str]:
        """See :meth:`bot.domain.recipients.ContactBook.lookup`: the number of each name found."""
        wanted = {_key(name): name for name in names}
        if not wanted:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(contacts.c.name_key, contacts.c.e164).where(contacts.c.name_key.in_(list(wanted)))
            )
            found = {row.name_key: row.e164 for row in rows}
        return {name: found[key] for key, name in wanted.items() if key in found}

    @translated
    def all(self) -> list[Contact]:
        """Every contact, by name."""
        with self.engine.connect() as conn:
            rows = conn.execute(contacts.select().order_by(contacts.c.name_key))
            return [_contact(row._mapping) for row in rows]


def _contact(values: object) -> Contact:
    mapping = dict(values)  # type: ignore[call-overload]
    return Contact(
        name=mapping["name"],
        e164=mapping["e164"],
        created_at=mapping["created_at"],
        created_by=mapping["created_by"],
    )
