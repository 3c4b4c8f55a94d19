# No HEALTHCHECK (DF-008). With data/require-digests.yaml (dockerfile.require_digest: true)
# the tag-only base image is reported too (DF-003).
FROM eclipse-temurin:21.0.4_7-jre
WORKDIR /opt/app
COPY target/app.jar /opt/app/app.jar
USER 10001
ENTRYPOINT ["java", "-jar", "/opt/app/app.jar"]
