FROM python:3.12-slim
RUN pip install --no-cache-dir celery==5.4.0
USER 1000
CMD ["celery", "-A", "tasks", "worker"]
