# One image for every role: `aiwins serve` (default), `aiwins serve --no-scheduler`,
# `aiwins scheduler`, `aiwins migrate`. See README "Deploying at scale".
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, in their own layer: it is rebuilt only when pyproject.toml changes.
COPY pyproject.toml README.md ./
RUN mkdir -p bot migrations && touch bot/__init__.py migrations/__init__.py \
    && pip install . \
    && pip uninstall -y aiwins

# Then the code.
COPY bot ./bot
COPY migrations ./migrations
COPY alembic.ini manifest.yml ./
RUN pip install --no-deps . \
    && useradd --create-home --uid 10001 aiwins \
    && mkdir -p /data && chown aiwins /data

USER aiwins
# The embedded default keeps its SQLite file on a volume; set DATABASE_URL for PostgreSQL.
ENV DATABASE_URL=sqlite:////data/aiwins.db \
    PORT=3000
VOLUME ["/data"]
EXPOSE 3000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request, sys; sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"3000\")}/healthz', timeout=4).status == 200 else 1)"]

CMD ["aiwins", "serve"]
