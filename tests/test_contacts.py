"""Contacts: `/sms contacts` (anyone lists, admins change), sends by name, and `smsbot contacts import`."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from bot.storage.contacts import ContactList
from bot.storage.db import create_engine, migrate
from tests.harness import SlackSender, all_sends, audit_thread, blocks_text, settled_records
from tests.test_cli_check import Cli, kept_logging


@pytest.fixture
def admin_bot(start_bot):
    return start_bot(SMS_ADMIN_USERS="UBOSS")


def told(bot, fake_slack, text: str, *, user_id: str = "UALICE", escaped: bool = False) -> str:
    """What the person alone is told, in the ack or through the response URL."""
    url = fake_slack.new_response_url()
    answer = SlackSender(bot.url).command(text, user_id=user_id, response_url=url, escaped=escaped)
    if answer.body:
        return blocks_text(answer.json())
    [reply] = fake_slack.wait_for_response(url)
    return blocks_text(reply)


def test_admins_keep_the_contacts_and_anyone_lists_them(admin_bot, fake_slack):
    assert "No contacts yet" in told(admin_bot, fake_slack, "contacts")

    added = told(admin_bot, fake_slack, "contacts add Recepción 600 00 00 09", user_id="UBOSS")
    assert "Added *Recepción* +34 600 00 00 09" in added and "`/sms @Recepción …`" in added
    told(admin_bot, fake_slack, "contacts add taller-2 +33612345678", user_id="UBOSS")

    listed = told(admin_bot, fake_slack, "contacts")  # UALICE may send, is no admin
    assert "*2 contacts*" in listed
    assert listed.index("*Recepción* +34 600 00 00 09") < listed.index("*taller-2* +33 6 12 34 56 78")

    removed = told(admin_bot, fake_slack, "contacts remove recepción", user_id="UBOSS")
    assert "Removed *Recepción* (+34 600 00 00 09)" in removed
    assert "*1 contact*" in told(admin_bot, fake_slack, "contacts")


@pytest.mark.parametrize("change", ["contacts add casa 600000009", "contacts remove casa"])
def test_only_admins_change_the_contacts(admin_bot, fake_slack, change):
    admin_bot.core.contacts.add("casa", "+34600000008", "UBOSS")

    text = told(admin_bot, fake_slack, change)

    assert "Only the bot's admins change the contacts" in text
    assert admin_bot.core.contacts.get("casa").e164 == "+34600000008"


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ("contacts add 600000001 600000002", "`600000001` cannot name a contact"),
        ("contacts add dos palabras 6000", "`palabras 6000` is not a phone number"),
        ("contacts add casa", "Give the name, then the number"),
        ("contacts add casa hola", "`hola` is not a phone number"),
        ("contacts add casa 600000001", "A contact named `casa` exists already (+34 600 00 00 08)"),
        ("contacts remove nadie", "No contact is named `nadie`"),
        ("contacts rename casa", "`rename` is not something contacts do"),
    ],
)
def test_bad_contact_changes_say_what_to_fix(admin_bot, fake_slack, command, says):
    admin_bot.core.contacts.add("casa", "+34600000008", "UBOSS")

    assert says in told(admin_bot, fake_slack, command, user_id="UBOSS")
    assert [(c.name, c.e164) for c in admin_bot.core.contacts.all()] == [("casa", "+34600000008")]


def test_a_contact_is_a_receiver_by_name(bot, slack, fake_slack, fake_ovh):
    bot.core.contacts.add("Recepción", "+34600000009", "UBOSS")

    slack.command("@recepción,+34600000001 La furgoneta llega a las 10", escaped=True)

    [(parent, _reply)] = audit_thread(fake_slack)
    [job] = fake_ovh.jobs
    assert job.body["receivers"] == ["+34600000009", "+34600000001"]
    assert job.body["message"] == "La furgoneta llega a las 10"
    assert "sent an SMS to recepción (+34 600 00 00 09), +34 600 00 00 01" in blocks_text(parent)
    [record] = settled_records(bot)
    assert record.recipients == [{"e164": "+34600000009", "label": "recepción", "contact": "recepción"}]


def test_a_contact_that_does_not_exist_is_named_and_nothing_is_sent(bot, fake_slack, fake_ovh):
    bot.core.contacts.add("casa", "+34600000008", "UBOSS")

    text = told(bot, fake_slack, "+34600000001 @casa @oficina Hola", escaped=True)

    assert "No contact is named `oficina`: `/sms contacts` lists them" in text
    assert "casa" not in text.replace("`/sms contacts`", "")
    assert fake_ovh.jobs == [] and all_sends(bot.ledger) == []


@pytest.fixture
def cli(monkeypatch, capsys, tmp_path) -> Iterator[Cli]:
    with kept_logging():
        yield Cli(monkeypatch, capsys, tmp_path)


def contacts_in(url: str) -> list[tuple[str, str]]:
    engine = create_engine(url)
    try:
        migrate(engine)
        return [(contact.name, contact.e164) for contact in ContactList(engine).all()]
    finally:
        engine.dispose()


def test_a_csv_file_is_imported(cli, env, tmp_path):
    # As a spreadsheet in Spanish saves it: a byte-order mark, semicolons, a header, national numbers.
    path = tmp_path / "contactos.csv"
    path.write_text(
        "\ufeffNombre;Número\nRecepción;600 00 00 09\n\n@taller-2;+33 6 12 34 56 78\n", encoding="utf-8"
    )

    first = cli("contacts", "import", str(path), env=env)
    again = cli("contacts", "import", str(path), env=env)

    assert first.code == 0 and "2 contacts: 2 added, 0 with a new number, 0 unchanged" in first.out
    assert again.code == 0 and "2 contacts: 0 added, 0 with a new number, 2 unchanged" in again.out
    assert contacts_in(env["DATABASE_URL"]) == [("Recepción", "+34600000009"), ("taller-2", "+33612345678")]


def test_a_csv_file_with_bad_rows_imports_nothing_and_lists_them(cli, env, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_text(
        "name,number\ncasa,600000009\n600000001,600000002\noficina,12\nsolo\ncasa,600000003\n",
        encoding="utf-8",
    )

    outcome = cli("contacts", "import", str(path), env=env)

    assert outcome.code == 2
    err = " ".join(outcome.err.split())
    assert "Not imported: 4 rows to fix, and nothing was changed" in err
    assert "line 3: `600000001` cannot name a contact" in err
    assert "line 4: `12` is too short" in err
    assert "line 5: 1 field; write NAME,NUMBER." in err
    assert "line 6: `casa` is on line 2 too; keep one." in err
    assert contacts_in(env["DATABASE_URL"]) == []


def test_a_file_that_cannot_be_read_is_said_so(cli, env, tmp_path):
    (tmp_path / "latin1.csv").write_bytes("Recepción,600000009\n".encode("latin-1"))

    missing = cli("contacts", "import", str(tmp_path / "nope.csv"), env=env)
    latin1 = cli("contacts", "import", str(tmp_path / "latin1.csv"), env=env)

    assert missing.code == 2 and "cannot be read (No such file or directory)" in " ".join(missing.err.split())
    assert latin1.code == 2 and "cannot be read (it is not UTF-8 text)" in " ".join(latin1.err.split())


def test_contacts_imported_while_others_write_are_all_kept(tmp_path):
    # `smsbot contacts import` beside a running bot: each contact is read, then written. Begun deferred,
    # SQLite failed such a transaction at once ("database is locked") whenever another connection wrote
    # in between, here 268 of 320 times.
    engine = create_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    migrate(engine)
    book, failures = ContactList(engine), []

    def import_(worker: int) -> None:
        for row in range(20):
            try:
                book.put(f"w{worker}-{row % 5}", f"+346000{worker:02d}{row:03d}", "UBOSS")
            except Exception as error:  # noqa: BLE001 - counted, not raised: the assertion names them
                failures.append(repr(error))

    workers = [threading.Thread(target=import_, args=(worker,)) for worker in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    try:
        assert failures == []
        # Each name keeps the number of its last row.
        assert len(book.all()) == 30
        assert {contact.e164 for contact in book.all() if contact.name == "w3-4"} == {"+34600003019"}
    finally:
        engine.dispose()
