# A multi-stage Go build that passes every rule: official and distroless base images with
# version tags, vendor updates in the build stage's package step, a non-root final USER,
# an exec-form ENTRYPOINT and a HEALTHCHECK.
FROM golang:1.22.5-bookworm AS build
RUN apt-get update \
 && apt-get upgrade -y \
 && apt-get install -y --no-install-recommends ca-certificates git \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN --mount=type=secret,id=netrc,target=/root/.netrc CGO_ENABLED=0 go build -o /out/app ./cmd/app

FROM gcr.io/distroless/static-debian12:nonroot
LABEL org.opencontainers.image.authors="team-shop@example.com"
COPY --from=build /out/app /app
USER 65532:65532
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD ["/app", "healthcheck"]
ENTRYPOINT ["/app"]
