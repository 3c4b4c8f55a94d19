# A non-root user is created, but the last USER switches back to root (DF-004).
# The final stage inherits its USER from the `base` stage it is built FROM.
FROM debian:12.6-slim AS base
RUN apt-get update && apt-get upgrade -y \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --uid 10001 --create-home app
USER app
USER root

FROM base
WORKDIR /home/app
COPY app /home/app/app
HEALTHCHECK CMD ["curl", "-fsS", "http://127.0.0.1:8080/healthz"]
CMD ["/home/app/app"]
