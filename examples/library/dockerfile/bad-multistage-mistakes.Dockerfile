# Multi-stage mistakes: a duplicate stage alias (DF-026), COPY --from a stage that is only
# defined later (DF-024) and from the stage itself (DF-025), several sources into a
# destination without a trailing / (DF-028), and a final stage with two HEALTHCHECKs, two CMDs
# and two ENTRYPOINTs of which only the last counts (DF-021, DF-022, DF-023).
FROM golang:1.22.5-bookworm AS build
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 go build -o /out/app ./cmd/app

FROM golang:1.22.5-bookworm AS build
COPY --from=assets /dist /src/dist

FROM node:20.15-alpine AS assets
COPY --from=assets /src/package.json /tmp/package.json

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/app /out/app.sig /app
USER 65532:65532
HEALTHCHECK CMD ["/app", "healthcheck"]
HEALTHCHECK --interval=10s CMD ["/app", "healthcheck"]
ENTRYPOINT ["/app"]
ENTRYPOINT ["/app", "serve"]
CMD ["--port=8080"]
CMD ["--port=9090"]
