# The dihflow image of deploy/compose.yaml: the API, the worker and the CLI.
# LibreOffice Writer makes the executed agreements' PDFs (DIHFLOW_PDF_CONVERTER=off without it).
FROM python:3.11-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libreoffice-writer-nogui python3-uno \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --system --home /var/lib/dihflow dihflow && mkdir -p /var/lib/dihflow \
 && chown dihflow /var/lib/dihflow
WORKDIR /opt/dihflow
COPY . .
RUN pip install --no-cache-dir .
USER dihflow
EXPOSE 8000
CMD ["dihflow", "api"]
