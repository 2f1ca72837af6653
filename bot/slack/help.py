"""What `/sms help` shows, written from :mod:`bot.domain.command_syntax`: the sub-commands the dispatcher
routes, the send examples as the parser reads them, and the length the check allows."""

from __future__ import annotations

from bot.domain.command_syntax import SUBCOMMANDS, Subcommand, length_rule, read_examples
from bot.domain.receivers import parse_command
from bot.domain.recipients import GroupRef, PersonRef
from bot.slack.blocks import SlackMessage, escape
from bot.slack.markup import CommandText

# `/sms @alice @oncall-team Your message` as Slack sends it (the command escapes mentions), read by the
# command's own reader: the help shows what it read.
MENTIONS_EXAMPLE = "<@U012ABCDEF|alice> <!subteam^S012ABCDEF|@oncall-team> Your message"


def _numbers(example_receivers: tuple[str, ...]) -> str:
    return ", ".join(example_receivers)


def mentions_line(default_region: str | None) -> str:
    """The example of people and user groups as receivers, as the command reads it (raises if it no
    longer reads a person and a group: the help would lie)."""
    typed = CommandText.read(MENTIONS_EXAMPLE)
    parsed = parse_command(typed.text, default_region, typed.reference)
    person, group = (target for target in parsed.targets if isinstance(target, PersonRef | GroupRef))
    if not (isinstance(person, PersonRef) and isinstance(group, GroupRef)):
        raise ValueError("the mentions example no longer reads a person and a group")
    return (
        f"• `/sms {person.shown} {group.shown} {typed.plain(parsed.message)}`: people and user groups, "
        f"mentioned (sends to the phone in {person.shown}'s Slack profile, and in each {group.shown} member's)."
    )


def _subcommand_line(sub: Subcommand) -> str:
    arguments = f" {sub.arguments}" if sub.arguments else ""
    return f"• `/sms {sub.name}{arguments}`: {sub.summary}."


def help_text(default_region: str | None, *, stop_clause: bool) -> str:
    """The help, in mrkdwn (no user text in it)."""
    lines = ["*Send an SMS from Slack* :iphone:"]
    for read in read_examples(default_region):
        receivers = _numbers(tuple(receiver.display for receiver in read.parsed.receivers))
        lines.append(f"• `/sms {read.example.text}`: {read.example.purpose} (sends to {receivers}).")
    lines.append(mentions_line(default_region))
    lines.append("• `/sms` alone opens a form, handy for long messages.")
    national = (
        f"Numbers without a country code are read as {default_region} numbers."
        if default_region
        else "Write numbers with their country code (`+34…` or `0034…`)."
    )
    lines.append(
        f"{national} Dashes, dots and parentheses inside a number are fine. The message starts at the first "
        "word that is not a phone number."
    )
    rule = length_rule(stop_clause)
    stop = ", keeping room for OVH's STOP mention" if stop_clause else ""
    lines.append(
        f"A message can be up to {rule.parts} SMS long: {rule.plain:,} plain characters, or {rule.unicode:,} "
        f"once it holds an emoji or a character outside the SMS alphabet{stop}."
    )
    everyone = [sub for sub in SUBCOMMANDS if not sub.admins_only]
    admins = [sub for sub in SUBCOMMANDS if sub.admins_only]
    lines.append("*Other commands*")
    lines += [_subcommand_line(sub) for sub in everyone]
    lines.append("*Admins only*")
    lines += [_subcommand_line(sub) for sub in admins]
    lines.append(
        "The bot posts each send in the channel with a thread holding OVH's answer: that thread is the audit "
        "trail. The app's Home tab shows your credits, your limits and your latest sends."
    )
    return "\n".join(lines)


def help_message(
    default_region: str | None, sender: str | None, *, stop_clause: bool = False
) -> SlackMessage:
    """What `/sms help` answers: the help, and the sender messages go out from."""
    footer = (
        f"Messages go out from sender `{escape(sender)}`." if sender else "Messages use the default sender."
    )
    return SlackMessage(
        text="How to use /sms",
        blocks=[
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": help_text(default_region, stop_clause=stop_clause)},
            },
            {"type": "context", "elements": [{"type": "mrkdwn", "text": footer}]},
        ],
    )
