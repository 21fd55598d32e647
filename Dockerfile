# The shop's image: one image, one role per container (`vpnshop worker|api|bot|migrate`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY shop ./shop
COPY workflows ./workflows
COPY activities ./activities
COPY worker ./worker
COPY api ./api
COPY bot ./bot
COPY sandbox ./sandbox
RUN pip install . && useradd --system --uid 10001 vpnshop
USER vpnshop
ENTRYPOINT ["vpnshop"]
CMD ["up"]
