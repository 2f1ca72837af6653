# smsbot in HTTP mode: `docker build -t smsbot .`, then
#   docker run --env-file .env -p 3000:3000 -v smsbot-data:/data smsbot
# It listens on PORT (default 3000): with -e PORT=8080, publish -p 8080:8080.
# Configuration comes from the environment (see the README's Set-up and Deployment sections).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Only what the package needs: no tests, no .env (see .dockerignore).
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install . && rm -rf /src

# The bot runs as an unprivileged user. /data is its working directory: the default SQLite ledger
# (sqlite:///smsbot.db) is written there, and a .env placed there is read. Mount a volume on it, or set
# DATABASE_URL to PostgreSQL.
RUN useradd --system --uid 10001 --user-group --home-dir /data --create-home --shell /usr/sbin/nologin smsbot
WORKDIR /data
USER smsbot

# The default port; with PORT set (in the environment or /data/.env), the bot listens there instead.
EXPOSE 3000

# GET /health answers 200 while the database answers (Slack's state is reported, not required).
# The image has no curl: the check uses Python's standard library. It asks the port the bot listens on:
# PORT from the environment, else from /data/.env, as the bot reads it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; from dotenv import dotenv_values; port = os.environ.get('PORT') or dotenv_values('.env').get('PORT') or '3000'; urllib.request.urlopen(f'http://127.0.0.1:{port}/health', timeout=4)"]

# SIGTERM (docker stop) lets sends in flight finish and be recorded: allow it time, e.g. `docker stop -t 45`.
# No --port: the bot listens on PORT.
CMD ["smsbot", "run", "--http"]
