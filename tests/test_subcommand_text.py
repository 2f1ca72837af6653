"""What follows a sub-command's name reaches it as typed: Slack escapes `&`, `<` and `>` in command text."""

from __future__ import annotations

from tests.harness import SlackSender


def test_an_opt_out_note_keeps_what_the_admin_typed(start_bot, fake_slack):
    bot = start_bot(SMS_ADMIN_USERS="UADMIN")

    SlackSender(bot.url).command("optout +34699999999 Tom & Jerry <3 > 2", user_id="UADMIN")
    fake_slack.wait_for("chat.postEphemeral")

    [opted_out] = bot.core.opt_outs.all()
    assert (opted_out.e164, opted_out.created_by, opted_out.note) == (
        "+34699999999",
        "UADMIN",
        "Tom & Jerry <3 > 2",
    )
