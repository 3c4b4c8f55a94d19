# Unverified downloads: ADD of a remote URL, a script piped into a shell, and ADD of a plain
# local file where COPY is meant (DF-009, DF-012, DF-010). The checksummed ADD and the local
# tarball ADD are fine.
FROM ubuntu:24.04
ADD https://example.com/tools/installer.sh /tmp/installer.sh
ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/tools/cli.tar.gz /tmp/
ADD vendor/assets.tar.gz /opt/assets/
ADD config.yaml /etc/app/config.yaml
RUN curl -fsSL https://get.example.com/install.sh | bash
USER 10001
HEALTHCHECK CMD ["/usr/local/bin/app", "health"]
ENTRYPOINT ["/usr/local/bin/app"]
