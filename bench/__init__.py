"""Performance figures for smsbot: `python -m bench.run` (or `make bench`). See the README's Performance section."""
