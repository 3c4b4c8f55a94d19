# RUN habits: cd instead of WORKDIR (DF-029), a pipe under /bin/sh without pipefail (DF-030),
# both curl and wget (DF-031), useradd with a long UID and no -l (DF-040), a RUN chown of
# files the COPY before it wrote (DF-044), and an EXPOSE that is not a port (DF-027).
FROM debian:12.6-slim
RUN apt-get update && apt-get upgrade -y \
 && apt-get install -y --no-install-recommends ca-certificates curl wget gnupg \
 && rm -rf /var/lib/apt/lists/*
RUN curl -fsSL https://example.com/release.asc | gpg --dearmor -o /usr/share/keyrings/release.gpg
RUN wget -q -O /tmp/tool.tar.gz https://example.com/tool-1.4.2.tar.gz
RUN cd /tmp && tar -xzf tool.tar.gz && mv tool /usr/local/bin/tool
RUN useradd --uid 1000000 --create-home app
COPY app/ /srv/app/
RUN chown -R app:app /srv/app
USER app
EXPOSE 8080 80800
HEALTHCHECK CMD ["/usr/local/bin/tool", "ping"]
ENTRYPOINT ["/usr/local/bin/tool"]
