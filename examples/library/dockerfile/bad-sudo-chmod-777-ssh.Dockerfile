# An image with an SSH server, sudo and world-writable files (DF-015, DF-011, DF-019).
FROM ubuntu:24.04
RUN apt-get update && apt-get upgrade -y \
 && apt-get install -y --no-install-recommends openssh-server sudo \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --uid 10001 --create-home dev && echo "dev ALL=(ALL) NOPASSWD:ALL" > /etc/sudoers.d/dev
USER dev
RUN sudo mkdir -p /srv/shared && sudo chmod -R 777 /srv/shared
EXPOSE 22 8080
HEALTHCHECK CMD ["pgrep", "sshd"]
CMD ["/usr/sbin/sshd", "-D"]
