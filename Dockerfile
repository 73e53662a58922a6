# riftwatch: scheduler + pipeline + bot in one process (`riftwatch run`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    RIFTWATCH_DB_PATH=/data/riftwatch.db \
    RIFTWATCH_CACHE_DIR=/cache

WORKDIR /app
# CPU-only torch, pinned: an unpinned torch would pull a multi-GB CUDA build.
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md ./
COPY amplification ./amplification
COPY bot ./bot
COPY classifiers ./classifiers
COPY config ./config
COPY digest ./digest
COPY monitors ./monitors
COPY riftwatch ./riftwatch
COPY store ./store
RUN pip install --no-cache-dir . \
    && riftwatch prepare-model

VOLUME ["/data"]
CMD ["riftwatch", "run"]
