"""What `/sms help` shows, written from :mod:`bot.domain.command_syntax`: the sub-commands the dispatcher
routes, the send examples as the parser reads them, and the length the check allows."""

from __future__ import annotations

from bot.domain.command_syntax import SUBCOMMANDS, Subcommand, length_rule, read_examples
from bot.domain.receivers import parse_command
from bot.domain.recipients import GroupRef, PersonRef
from bot.i18n import ENGLISH, Translator
from bot.slack.blocks import SlackMessage, escape
from bot.slack.markup import CommandText

# `/sms @alice @oncall-team Your message` as Slack sends it (the command escapes mentions), read by the
# command's own reader: the help shows what it read.
MENTIONS_EXAMPLE = "<@U012ABCDEF|alice> <!subteam^S012ABCDEF|@oncall-team> Your message"


EXAMPLE_MESSAGE = "Your message"  # the examples' text, shown in the reader's language


def _numbers(example_receivers: tuple[str, ...]) -> str:
    return ", ".join(example_receivers)


def _shown(example: str, t: Translator) -> str:
    return example.replace(EXAMPLE_MESSAGE, t._("Your message"))


def mentions_line(default_region: str | None, t: Translator = ENGLISH) -> str:
    """The example of people and user groups as receivers, as the command reads it (raises if it no
    longer reads a person and a group: the help would lie)."""
    typed = CommandText.read(MENTIONS_EXAMPLE)
    parsed = parse_command(typed.text, default_region, typed.reference)
    person, group = (target for target in parsed.targets if isinstance(target, PersonRef | GroupRef))
    if not (isinstance(person, PersonRef) and isinstance(group, GroupRef)):
        raise ValueError("the mentions example no longer reads a person and a group")
    command = _shown(f"{person.shown} {group.shown} {typed.plain(parsed.message)}", t)
    what = t._(
        "people and user groups, mentioned (sends to the phone in {person}'s Slack profile, and in each "
        "{group} member's)."
    )
    return f"• `/sms {command}`: {what.format(person=person.shown, group=group.shown)}"


def _subcommand_line(sub: Subcommand, t: Translator) -> str:
    arguments = f" {sub.arguments}" if sub.arguments else ""
    summary = t._(sub.summary)  # marked where it is defined (bot/domain/command_syntax.py)
    return f"• `/sms {sub.name}{arguments}`: {summary}."


def help_text(default_region: str | None, *, stop_clause: bool, t: Translator = ENGLISH) -> str:
    """The help, in mrkdwn (no user text in it), in ``t``'s language."""
    lines = [t._("*Send an SMS from Slack*") + " :iphone:"]
    for read in read_examples(default_region):
        receivers = _numbers(tuple(receiver.display for receiver in read.parsed.receivers))
        purpose = t._("{purpose} (sends to {receivers}).").format(
            purpose=t._(read.example.purpose), receivers=receivers
        )
        lines.append(f"• `/sms {_shown(read.example.text, t)}`: {purpose}")
    lines.append(mentions_line(default_region, t))
    lines.append(t._("• `/sms` alone opens a form, handy for long messages."))
    national = (
        t._("Numbers without a country code are read as {region} numbers.").format(region=default_region)
        if default_region
        else t._("Write numbers with their country code (`+34…` or `0034…`).")
    )
    rest = t._(
        "Dashes, dots and parentheses inside a number are fine. The message starts at the first word that is not "
        "a phone number."
    )
    lines.append(f"{national} {rest}")
    rule = length_rule(stop_clause)
    length = (
        t._(
            "A message can be up to {parts} SMS long: {plain} plain characters, or {unicode} once it holds an emoji "
            "or a character outside the SMS alphabet, keeping room for OVH's STOP mention."
        )
        if stop_clause
        else t._(
            "A message can be up to {parts} SMS long: {plain} plain characters, or {unicode} once it holds an emoji "
            "or a character outside the SMS alphabet."
        )
    )
    lines.append(length.format(parts=rule.parts, plain=t.number(rule.plain), unicode=t.number(rule.unicode)))
    everyone = [sub for sub in SUBCOMMANDS if not sub.admins_only]
    admins = [sub for sub in SUBCOMMANDS if sub.admins_only]
    lines.append(t._("*Other commands*"))
    lines += [_subcommand_line(sub, t) for sub in everyone]
    lines.append(t._("*Admins only*"))
    lines += [_subcommand_line(sub, t) for sub in admins]
    lines.append(
        t._(
            "The bot posts each send in the channel with a thread holding OVH's answer: that thread is the audit "
            "trail. The app's Home tab shows your credits, your limits and your latest sends."
        )
    )
    return "\n".join(lines)


def help_message(
    default_region: str | None, sender: str | None, *, stop_clause: bool = False, t: Translator = ENGLISH
) -> SlackMessage:
    """What `/sms help` answers: the help, and the sender messages go out from, in ``t``'s language."""
    footer = (
        t._("Messages go out from sender `{sender}`.").format(sender=escape(sender))
        if sender
        else t._("Messages use the default sender.")
    )
    text = help_text(default_region, stop_clause=stop_clause, t=t)
    return SlackMessage(
        text=t._("How to use /sms"),
        blocks=[
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": footer}]},
        ],
    )
