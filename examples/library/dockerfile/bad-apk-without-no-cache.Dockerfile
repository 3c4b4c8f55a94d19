# apk add without --no-cache and no apk upgrade (DF-014, DF-005).
FROM alpine:3.20
RUN apk update && apk add ca-certificates curl
USER 10001
HEALTHCHECK CMD ["wget", "-qO-", "http://127.0.0.1:8080/"]
ENTRYPOINT ["/usr/local/bin/app"]
