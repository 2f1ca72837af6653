"""``python -m bot.i18n``: the template of every marked string (a `.pot`), to start or update a catalogue."""

import sys

from babel.messages.pofile import write_po

from bot.i18n.extract import marked

write_po(sys.stdout.buffer, marked(), width=110, sort_by_file=True)
