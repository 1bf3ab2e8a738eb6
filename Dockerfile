# syntax=docker/dockerfile:1
# Build: wheels of the locked dependencies (exact versions, hash-checked) and of the app.
# Run: slim, non-root, migrate then serve.
FROM python:3.11-slim AS build
WORKDIR /src
COPY requirements.lock ./
RUN pip wheel --no-cache-dir --require-hashes --no-deps --wheel-dir /wheels -r requirements.lock
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim AS run
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    KCBX_ENVIRONMENT=production KCBX_SEED_DEMO=false KCBX_HOST=0.0.0.0
RUN useradd --create-home --uid 10001 kcbx
WORKDIR /srv
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --no-deps /wheels/* && rm -rf /wheels
COPY alembic.ini ./
COPY alembic ./alembic
USER kcbx
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
# KCBX_DATABASE_URL, KCBX_SECRET_KEY and KCBX_DATA_KEY come from the environment.
# Behind a reverse proxy in another container, name its address or network, e.g.
#   docker run -e KCBX_TRUSTED_PROXIES=172.18.0.0/16 …
# (X-Forwarded-For is believed from these only: uvicorn and the sign-in throttle read it).
ENV KCBX_TRUSTED_PROXIES=127.0.0.1 KCBX_LOG_FORMAT=json
# Migrates (alembic upgrade head), then serves with the settings above.
CMD ["python", "-m", "app.cli.serve"]
