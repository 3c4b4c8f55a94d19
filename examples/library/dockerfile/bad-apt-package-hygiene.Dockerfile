# apt-get update in its own layer, install without --no-install-recommends, and no upgrade of
# the packages the base image ships (DF-020, DF-013, DF-005).
FROM debian:12.6-slim
RUN apt-get update
RUN DEBIAN_FRONTEND=noninteractive apt-get install -y curl jq
USER 10001
HEALTHCHECK CMD ["curl", "-fsS", "http://127.0.0.1:8080/"]
CMD ["/usr/local/bin/app"]
