# A single-stage Alpine image done right: pinned tag and digest, apk upgrade with --no-cache,
# a dedicated user, an absolute WORKDIR, COPY (not ADD), a HEALTHCHECK and an exec-form CMD.
FROM alpine:3.20.3@sha256:1e42bbe2508154c9126d48c2b8a75420c3544343bf86fd041fb7527e017a4b4a
RUN apk upgrade --no-cache \
 && apk add --no-cache ca-certificates tini \
 && addgroup -S app && adduser -S -G app -u 10001 app
WORKDIR /srv/app
COPY --chown=app:app app /srv/app/app
USER app
EXPOSE 8080
HEALTHCHECK CMD ["wget", "-qO-", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["/sbin/tini", "--"]
CMD ["/srv/app/app"]
