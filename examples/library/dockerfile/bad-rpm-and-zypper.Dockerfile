# RPM-based images: a zypper dist-upgrade in a build stage (DF-039) and a yum upgrade and
# install that leave their cache in the final image (DF-035 twice). The zypper stage cleans up after itself;
# opensuse/leap is a Docker Hub user namespace, not an approved registry by default (DF-001).
FROM opensuse/leap:15.6 AS tools
RUN zypper -n dup && zypper -n in tar gzip && zypper clean -a

FROM registry.access.redhat.com/ubi9/ubi:9.4
RUN yum upgrade -y && yum install -y httpd
COPY --from=tools /usr/bin/tar /usr/local/bin/tar
USER 1001
EXPOSE 8080
HEALTHCHECK CMD ["curl", "-fsS", "http://127.0.0.1:8080/"]
CMD ["httpd", "-DFOREGROUND"]
