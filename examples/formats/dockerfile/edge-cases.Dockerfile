# License header paragraph one
#
# Only comments after an empty "#" line are kept
FROM alpine:3.19 AS base
ENV WIN_PATH=C:\\tools\\ \
    NEXT=1
ENV TRAILING trailing\\
ENV NOT_CONTINUED=yes
RUN <<-"SCRIPT" sh
	set -e
	echo "tab-indented heredoc"
	SCRIPT
COPY --chmod=0755 <<EOF1 <<EOF2 /usr/local/bin/
#!/bin/sh
echo one
EOF1
#!/bin/sh
echo two
EOF2
CMD []
ENTRYPOINT ["/bin/sh", "-c"]
LABEL "quoted key"="quoted value" unquoted=value\ with\ spaces
ARG VERSION=1.0 BUILD
EXPOSE 53/udp 53/tcp
USER 1000:1000
HEALTHCHECK --interval=10s --retries=3 CMD ["wget", "-q", "-O-", "http://localhost/"]
ONBUILD RUN --mount=type=cache,target=/cache make
STOPSIGNAL SIGQUIT
FROM base
RUN    echo    "keeps   inner   spacing"
