# Old habits: MAINTAINER, a relative WORKDIR, shell-form ENTRYPOINT and CMD, and a disabled
# HEALTHCHECK (DF-016, DF-018, DF-017 twice, DF-008).
FROM nginx:1.27
MAINTAINER Jane Doe <jane@example.com>
WORKDIR usr/share/nginx/html
COPY site/ .
USER nginx
HEALTHCHECK NONE
ENTRYPOINT nginx -g "daemon off;"
CMD echo started
