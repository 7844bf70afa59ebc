# sheetqueue: the bot-facing API and the worker in one container.
#   docker build -t sheetqueue .
#   docker run -e SHEETQUEUE_API_TOKEN=... -v sheetqueue-state:/var/lib/sheetqueue -p 8000:8000 sheetqueue
FROM python:3.11-slim AS build
WORKDIR /src
COPY . /src
RUN sh deploy/build-steps.sh /src /opt/sheetqueue

FROM python:3.11-slim
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/sheetqueue --create-home sheetqueue
COPY --from=build /opt/sheetqueue /opt/sheetqueue
ENV PATH=/opt/sheetqueue/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    SHEETQUEUE_LOCAL_PATH=/var/lib/sheetqueue/sheetqueue.db \
    SHEETQUEUE_STATE_PATH=/var/lib/sheetqueue/sheetqueue-state.db \
    SHEETQUEUE_NOTIFY=maildir:/var/lib/sheetqueue/outbox
WORKDIR /var/lib/sheetqueue
VOLUME ["/var/lib/sheetqueue"]
USER sheetqueue
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request as u; sys.exit(u.urlopen('http://127.0.0.1:8000/readyz', timeout=4).status != 200)"]
CMD ["sheetqueue", "serve", "--host", "0.0.0.0", "--port", "8000", "--with-worker"]
