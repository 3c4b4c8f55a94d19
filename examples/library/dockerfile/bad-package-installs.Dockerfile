# Package installs: apt instead of apt-get (DF-034), an install that can stop at a prompt
# (DF-032), apt lists left in the image (DF-033), pip with its cache and an unpinned package
# (DF-036, DF-037), and an unpinned global npm package (DF-038).
FROM python:3.12.4-slim-bookworm
RUN apt update && apt upgrade -y
RUN apt-get update && apt-get install --no-install-recommends nodejs npm
RUN pip install flask gunicorn==22.0.0
RUN npm install -g pm2 left-pad@1.3.0
WORKDIR /srv/app
COPY . /srv/app/
USER 10001
HEALTHCHECK CMD ["python", "-m", "app.health"]
CMD ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]
