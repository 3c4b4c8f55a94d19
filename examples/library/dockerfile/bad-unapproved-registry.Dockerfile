# Base images from Docker Hub user namespaces and an unlisted registry (DF-001 twice).
# Allow them with data.portcullis.dockerfile.allowed_registries (see the data/ examples).
ARG RUNTIME=quay.io/acme/runtime:2.1
FROM bitnami/python:3.12 AS build
WORKDIR /src
COPY . .
RUN pip install --no-cache-dir --prefix=/install .

FROM ${RUNTIME}
COPY --from=build /install /usr/local
USER 10001
HEALTHCHECK CMD ["python", "-m", "app.health"]
ENTRYPOINT ["python", "-m", "app"]
