# syntax=docker/dockerfile:1
# Build stage
ARG BASE=alpine:3.19
FROM --platform=$BUILDPLATFORM ${BASE} AS builder
LABEL maintainer="team@example.com" \
      org.opencontainers.image.title="demo" \
      version=1.0
ENV GOPATH=/go PATH="/go/bin:$PATH"
ENV LEGACY_STYLE some value here
RUN apk add --no-cache curl git && \
    echo "done" # trailing text stays
# comment between instructions
RUN ["echo", "exec form"]
RUN --mount=type=cache,target=/root/.cache --network=none go build ./...
COPY --from=builder --chown=1000:1000 /src /app/
ADD https://example.com/archive.tgz /tmp/
WORKDIR /app
USER nobody:nogroup
EXPOSE 8080/tcp 9090
VOLUME ["/data", "/logs"]
VOLUME /cache /tmp/x
HEALTHCHECK --interval=30s --timeout=3s CMD curl -f http://localhost/ || exit 1
ONBUILD RUN echo "triggered"
ONBUILD COPY . /src
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
STOPSIGNAL SIGTERM

# second stage
FROM scratch
COPY --from=0 /app /app
RUN <<EOT
set -eu
echo heredoc body lines are not instructions
EOT
COPY <<EOF /etc/app.conf
key=value
EOF
CMD ["/app/server", "--port", "8080"]
ENTRYPOINT /bin/sh -c "exec /app/server"
RUN echo one\
two

FROM alpine as final
run echo lower case instruction
HEALTHCHECK NONE
# trailing comment is dropped
